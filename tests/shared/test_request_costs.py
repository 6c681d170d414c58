"""What every API request pays before and after its own work (issue 14), kept small: no cookie session
for a token API, each metric's series found once, statements counted at the driver's cursor without
SQLAlchemy dispatching events around every statement, and reads on a pool of their own that switches
nothing at each checkout and resets nothing at each return. Each test fails if its cut is undone; tests/test_budgets.py checks the counts themselves."""

import pytest
from flask import session
from flask.sessions import NullSession
from sqlalchemy import bindparam, select, text

from services.booking.models import Venue
from shared import db as shared_db
from shared import work_counts
from tests.conftest import auth

SERVICES = ("booking", "desk", "notify")


@pytest.mark.parametrize("service", SERVICES)
def test_an_api_keeps_no_cookie_session(station, service):
    """Tokens say who calls; Flask's signed cookie session was opened at every request all the same."""
    app = station.apps[service]
    with app.test_request_context("/healthz", headers={"Cookie": "session=eyJ4IjoxfQ.forged.sig"}):
        app.preprocess_request()
        assert isinstance(session._get_current_object(), NullSession)
        with pytest.raises(RuntimeError):  # nothing can be kept in it, by mistake or otherwise
            session["principal"] = "staff"
    response = station.client(service).get("/healthz", headers={"Cookie": "session=eyJ4IjoxfQ.forged.sig"})
    assert "Set-Cookie" not in response.headers


def test_a_request_makes_no_metric_series_it_has_made_before(station, monkeypatch):
    """The second request to an endpoint finds its four series (requests, latency, statements, Redis
    round trips) without prometheus_client's labels(), which checks and converts every value under a lock."""
    from prometheus_client.metrics import MetricWrapperBase

    client = station.client("booking")
    path = "/venues/3/availability?date=2026-12-30"
    assert client.get(path, headers=auth("resident")).status_code == 200
    made = []
    labels = MetricWrapperBase.labels
    monkeypatch.setattr(MetricWrapperBase, "labels", lambda self, *a, **k: made.append(self._name) or labels(self, *a, **k))
    assert client.get(path, headers=auth("resident")).status_code == 200
    assert made == []


def test_statements_are_counted_at_the_drivers_cursor(station, backend):
    """No reader carries a connection event, nor PostgreSQL's writer (SQLAlchemy then dispatches none
    around each statement, connection and transaction): the driver's cursors count the statements. A
    connection opened inside a request counts only the request's statements, not the ones that set
    it up (SQLite's PRAGMAs, the dialect's first look at the server)."""
    database = station.database("booking")
    writer, reader = database.engines
    assert reader._has_events is False
    assert writer._has_events is (backend == "sqlite")  # SQLite's writer sends its own BEGIN IMMEDIATE
    venues = Venue.__table__
    for fresh in (True, False):
        if fresh:
            database.dispose()
        with work_counts.counting("booking", "test") as count:
            with database.read_statements() as connection:
                assert connection.execute(select(venues.c.id).where(venues.c.id == 3)).scalar() == 3
            with database.transaction() as writing:
                writing.execute(select(venues.c.code).where(venues.c.id == 3)).scalar()
        # SQLite's BEGIN IMMEDIATE is a statement of its own; PostgreSQL's BEGIN goes with the first.
        assert count.sql == (3 if backend == "sqlite" else 2)


def test_the_ping_of_an_idle_connection_counts_nowhere(station, backend, monkeypatch):
    """The pool's own check of a connection that sat idle is not the request's statement: a budget
    must not change with how long the pool was quiet."""
    if backend == "sqlite":
        pytest.skip("SQLite's connections are not pinged")
    monkeypatch.setattr(shared_db, "PING_AFTER_IDLE_SECONDS", 0.0)  # every checkout pings
    database = station.database("booking")
    for _ in range(2):
        with work_counts.counting("booking", "test") as count:
            with database.read_statements() as connection:
                connection.execute(select(Venue.__table__.c.id).where(Venue.__table__.c.id == 3)).scalar()
        assert count.sql == 1


def test_the_ping_of_an_idle_connection_keeps_its_prepared_statements(station, backend, monkeypatch):
    """psycopg prepares a statement on its fifth run on a connection, and forgets them all at a
    rollback: the ping, which ended with one, made every statement after a quiet second be parsed and
    planned again. The count is PostgreSQL's own (pg_prepared_statements, for that one connection)."""
    if backend == "sqlite":
        pytest.skip("SQLite's connections are not pinged")
    database = station.database("booking")
    database.dispose()  # one connection, used each time: the statements are prepared on the one asked
    monkeypatch.setattr(shared_db, "PING_AFTER_IDLE_SECONDS", 3600.0)
    code_of = select(Venue.__table__.c.code).where(Venue.__table__.c.id == bindparam("venue_id"))
    prepared = text("SELECT count(*) FROM pg_prepared_statements")
    for _ in range(6):
        with database.transaction() as writing:
            assert writing.execute(code_of, {"venue_id": 3}).scalar()
    with database.transaction() as writing:
        before = writing.execute(prepared).scalar()
    assert before >= 1
    monkeypatch.setattr(shared_db, "PING_AFTER_IDLE_SECONDS", 0.0)  # this checkout pings
    with database.transaction() as writing:
        assert writing.execute(prepared).scalar() == before
        assert writing.connection().connection.dbapi_connection.autocommit is False  # as before the ping


def test_reads_have_an_autocommit_pool_and_writes_stay_in_transactions(station, backend):
    """Readers keep connections of their own, outside any transaction from the moment they connect (in
    autocommit on PostgreSQL; with no BEGIN on SQLite, where they also refuse to write), and the pool
    rolls nothing back when one returns; a write is always in a transaction."""
    database = station.database("booking")
    writer, reader = database.engines
    assert writer.pool is not reader.pool
    from sqlalchemy.pool.base import ResetStyle

    assert (reader.pool._reset_on_return, writer.pool._reset_on_return) == (ResetStyle.reset_none, ResetStyle.reset_rollback)
    venues = Venue.__table__
    for _ in range(3):
        with database.read_statements() as connection:
            connection.execute(select(venues.c.id).where(venues.c.id == 3)).scalar()
        pooled = reader.raw_connection()  # as the pool holds it, with no execution option applied
        try:
            if backend == "sqlite":
                assert pooled.dbapi_connection.in_transaction is False
                assert pooled.dbapi_connection.execute("PRAGMA query_only").fetchone() == (1,)
            else:
                assert pooled.dbapi_connection.autocommit is True
        finally:
            pooled.close()
        with database.transaction() as writing:
            writing.execute(select(venues.c.id).where(venues.c.id == 3)).scalar()
            raw = writing.connection().connection.dbapi_connection
            if backend == "sqlite":
                assert raw.in_transaction is True
            else:
                from psycopg.pq import TransactionStatus

                assert raw.autocommit is False
                assert raw.info.transaction_status == TransactionStatus.INTRANS


def test_a_reader_cannot_write(station, backend):
    """A write sent through a reader by mistake is refused on SQLite, where the suite runs every test:
    a reader's write would take no lock and escape the notice and overlap checks' transactions."""
    database = station.database("booking")
    if backend != "sqlite":
        pytest.skip("PostgreSQL's readers are in autocommit; SQLite's refuse to write at all")
    import sqlalchemy.exc

    with pytest.raises(sqlalchemy.exc.OperationalError, match="readonly"):
        with database.read_statements() as connection:
            connection.execute(Venue.__table__.update().where(Venue.__table__.c.id == 3).values(code="x"))
    with database.reader() as session:
        assert session.get(Venue, 3).code != "x"
