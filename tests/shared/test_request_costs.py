"""What every API request pays before and after its own work (issue 14), kept small: no cookie session
for a token API, each metric's series found once, statements counted without SQLAlchemy dispatching
events around every statement on PostgreSQL, and reads on a pool of their own that switches nothing at
each checkout. Each test fails if its cut is undone; tests/test_budgets.py checks the counts themselves."""

import pytest
from flask import session
from flask.sessions import NullSession
from sqlalchemy import select

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


def test_statements_are_counted_without_sqlalchemy_events_on_postgresql(station, backend):
    """On PostgreSQL no engine carries a connection event (SQLAlchemy then dispatches none around each
    statement, connection and transaction), and its cursors count the statements instead."""
    database = station.database("booking")
    if backend == "sqlite":
        pytest.skip("SQLite's engine has connection events of its own (BEGIN IMMEDIATE); it counts by one")
    assert [engine._has_events for engine in database.engines] == [False, False]
    with work_counts.counting("booking", "test") as count:
        with database.read_statements() as connection:
            connection.execute(select(Venue.__table__.c.id).where(Venue.__table__.c.id == 3)).scalar()
        with database.transaction() as writing:
            writing.execute(select(Venue.__table__.c.code).where(Venue.__table__.c.id == 3)).scalar()
    assert count.sql == 2


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


def test_reads_have_an_autocommit_pool_and_writes_stay_in_transactions(station, backend):
    """PostgreSQL's readers keep connections of their own, in autocommit from the moment they connect:
    a pooled reader is in autocommit before any read asks for it, and a write never is."""
    if backend == "sqlite":
        pytest.skip("SQLite's reads and writes share one pool; a read just sends no BEGIN")
    from psycopg.pq import TransactionStatus

    database = station.database("booking")
    writer, reader = database.engines
    assert writer.pool is not reader.pool
    for _ in range(3):
        with database.read_statements() as connection:
            connection.execute(select(Venue.__table__.c.id).where(Venue.__table__.c.id == 3)).scalar()
        pooled = reader.raw_connection()  # as the pool holds it, with no execution option applied
        try:
            assert pooled.dbapi_connection.autocommit is True
        finally:
            pooled.close()
        with database.transaction() as writing:
            writing.execute(select(Venue.__table__.c.id).where(Venue.__table__.c.id == 3)).scalar()
            raw = writing.connection().connection.dbapi_connection
            assert raw.autocommit is False
            assert raw.info.transaction_status == TransactionStatus.INTRANS
