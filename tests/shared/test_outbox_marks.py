"""Issue 14's cuts to a write's path, checked for what they must keep.

- The outbox's marks (shared/outbox.py PublishedMarks): a task published right after its commit is
  marked `published_at` off the request's path, many rows in one UPDATE; an unmarked row is only
  published again by the relay, which its receiver's inbox drops.
- A pooled PostgreSQL connection that sat idle is pinged before use (shared/db.py _ping_when_idle),
  so a connection the server dropped meanwhile is replaced, not handed to a request.
"""

import time

import pytest
from prometheus_client import REGISTRY
from sqlalchemy import select, text

from shared import db as shared_db
from shared.outbox import MARKS_UNIT, PublishedMarks, enqueue
from tests.conftest import auth, make_booking, postgres_admin
from tests.processes import wait_until


def outbox_rows(database):
    outbox = database.infrastructure.outbox
    with database.reader() as session:
        return session.scalars(select(outbox).order_by(outbox.created_at)).all()


def test_what_a_request_published_is_marked_published_soon_after(station):
    client = station.client("booking")
    for _ in range(3):
        created = client.post("/bookings", json=make_booking(), headers=auth("org", 1))
        assert created.status_code == 201, created.get_json()
    database = station.database("booking")
    assert len(outbox_rows(database)) >= 6  # per booking: a review for the desk and at least one message

    def all_marked():
        return all(row.published_at is not None and row.attempts == 0 for row in outbox_rows(database))
    wait_until(all_marked, 10, 0.05, "every published outbox row to be marked")


def marks_statements(service: str) -> int:
    return int(REGISTRY.get_sample_value("yizhan_sql_statements_total", {"service": service, "unit": MARKS_UNIT}) or 0)


def test_a_batch_of_marks_is_one_update(station, backend):
    database = station.database("booking")
    with database.transaction() as session:
        session.info["relay"] = None  # written, not published: these rows are the test's to mark
        rows = [enqueue(session, "desk.review_booking", review_payload(n)) for n in range(5)]
    ids = [row.id for row in rows]
    marks = PublishedMarks(database, database.infrastructure.outbox)
    marks.LINGER_SECONDS = 60  # its thread waits; the test flushes, in this thread, what add() gathered
    for row_id in ids:
        marks.add([row_id])
    before = marks_statements("booking")
    assert marks.flush() == 5
    # One UPDATE (and SQLite's BEGIN IMMEDIATE) for five rows.
    assert marks_statements("booking") - before == (2 if backend == "sqlite" else 1)
    marked = {row.id: row.published_at for row in outbox_rows(database)}
    assert all(marked[row_id] is not None for row_id in ids)


def test_an_unmarked_row_is_left_to_the_relay_after_its_grace(station, monkeypatch):
    """A mark lost with its process: the relay publishes the row again, once it is older than the grace."""
    from shared import outbox as outbox_module

    database = station.database("booking")
    relay = station.apps["booking"].extensions["yizhan"].relay
    with database.transaction() as session:
        session.info["relay"] = None
        row = enqueue(session, "desk.review_booking", review_payload(99))
    assert relay.relay_once() == 0  # younger than the grace: left to the publish after its commit
    monkeypatch.setattr(outbox_module, "RELAY_GRACE", outbox_module.timedelta(0))
    assert relay.relay_once() >= 1
    assert {r.id: r.published_at for r in outbox_rows(database)}[row.id] is not None


def test_a_mark_that_arrives_after_redis_forgot_the_task_does_not_hide_it_from_the_relay(station, monkeypatch):
    """The race the batched marks widen: a task is published, Redis restarts empty before the mark
    lands, the relay takes back what Redis forgot, and then the mark arrives. The row must stay
    unpublished, for the relay to publish it again; marked, its task would be lost."""
    from shared import outbox as outbox_module

    database = station.database("booking")
    relay = station.apps["booking"].extensions["yizhan"].relay
    with database.transaction() as session:
        session.info["relay"] = None
        row = enqueue(session, "desk.review_booking", review_payload(7))  # published; its mark pending
    marks = PublishedMarks(database, database.infrastructure.outbox)
    marks.LINGER_SECONDS = 60
    marks.add([row.id])
    relay._marker_client().delete(relay.marker_key)  # as after Redis restarted empty
    assert relay.replay_if_redis_forgot() >= 1
    marks.flush()  # the late mark
    replayed = {r.id: r for r in outbox_rows(database)}[row.id]
    assert replayed.published_at is None and replayed.last_error == outbox_module.REPLAYED
    monkeypatch.setattr(outbox_module, "RELAY_GRACE", outbox_module.timedelta(0))
    assert relay.relay_once() >= 1
    assert {r.id: r.published_at for r in outbox_rows(database)}[row.id] is not None


def review_payload(n: int) -> dict:
    return {"v": 1, "idempotency_key": f"marks-test:{n}", "booking_id": 100000 + n,
            "venue": {"id": 1, "code": "V1", "name": "党群会议室"},
            "organization": {"id": 1, "name": "测试组织", "credit_score": 100, "recent_violations": 0},
            "start": "2027-06-08T09:00:00+08:00", "end": "2027-06-08T10:00:00+08:00", "title": "测试", "attendees": 5,
            "contact": {"name": "王", "phone": "13800000000", "email": None}}


def backend_pid(database) -> int:
    with database.reader() as session:
        return session.scalar(text("SELECT pg_backend_pid()"))


@pytest.mark.parametrize("idle_ping", [True, False], ids=["pinged after idling", "not pinged"])
def test_a_pooled_connection_the_server_dropped_while_idle(station, backend, monkeypatch, idle_ping):
    """With the ping, the dropped connection is replaced before use; without it (the threshold never
    reached), the read fails: so the ping, not luck, is what saves the read."""
    if backend != "postgresql":
        pytest.skip("SQLite has no server to drop a connection")
    database = station.database("booking")
    database.engine.dispose()  # one connection in the pool: the one dropped below
    pid = backend_pid(database)
    postgres_admin(f"SELECT pg_terminate_backend({pid})")
    monkeypatch.setattr(shared_db, "PING_AFTER_IDLE_SECONDS", 0.05 if idle_ping else 3600)
    time.sleep(0.1)
    if idle_ping:
        assert backend_pid(database) != pid
    else:
        with pytest.raises(Exception, match="terminat|closed|connection"):
            backend_pid(database)


def test_a_batch_that_fails_counts_none_of_its_rows_as_published(station, monkeypatch):
    """The publish after a commit sends a transaction's tasks in one pipeline; if it fails, delivery is
    uncertain, so nothing is marked: the relay publishes every row (receivers drop what they had)."""
    database = station.database("booking")
    relay = station.apps["booking"].extensions["yizhan"].relay
    with database.transaction() as session:
        session.info["relay"] = None
        rows = [enqueue(session, "desk.review_booking", review_payload(200 + n)) for n in range(3)]
    sent = []

    def send_then_fail(row, producer):
        if len(sent) == 2:
            raise ConnectionError("Redis went away")
        sent.append(row.id)
    monkeypatch.setattr(relay, "_send", send_then_fail)
    assert relay.publish_committed(rows) == 0
    time.sleep(3 * PublishedMarks.LINGER_SECONDS)  # what a mark would have needed to land
    stored = {row.id: row for row in outbox_rows(database)}
    assert [stored[row.id].published_at for row in rows] == [None, None, None]
    assert stored[rows[0].id].attempts == 1 and "Redis went away" in stored[rows[0].id].last_error


def test_a_flush_returns_only_once_what_the_thread_took_first_is_marked(station, monkeypatch):
    """flush() (a test's, or the one at exit) must not return while the thread is still marking the
    rows it took: it waits for that batch (found by tests/notify/test_send_in_one_task.py in CI)."""
    import threading as threading_module

    database = station.database("booking")
    with database.transaction() as session:
        session.info["relay"] = None
        row = enqueue(session, "desk.review_booking", review_payload(300))
    marks = PublishedMarks(database, database.infrastructure.outbox)
    marks.LINGER_SECONDS = 0
    marking, release = threading_module.Event(), threading_module.Event()
    mark = marks._mark

    def slow_mark(ids):
        marking.set()
        release.wait(5)
        mark(ids)
    monkeypatch.setattr(marks, "_mark", slow_mark)
    marks.add([row.id])
    assert marking.wait(5)  # the thread has taken the row and is marking it
    threading_module.Timer(0.2, release.set).start()
    marks.flush()  # takes nothing itself, but waits for the thread's batch
    assert {r.id: r.published_at for r in outbox_rows(database)}[row.id] is not None


def test_the_relay_makes_its_first_pass_when_it_starts_not_one_interval_later(station):
    """A worker that starts after Redis lost its data replays at once, before its tasks flow: a pass
    one interval in replayed the nets of messages being sent (the pipeline benchmark counted the
    deliver_message tasks that cost)."""
    import threading

    relay = station.apps["booking"].extensions["yizhan"].relay
    client = relay._marker_client()
    client.delete(relay.marker_key)  # as after Redis restarted empty
    stop = threading.Event()
    thread = threading.Thread(target=relay.run, args=(stop, 3600), daemon=True)
    thread.start()
    try:
        wait_until(lambda: client.exists(relay.marker_key), 10, 0.05, "the relay's first pass")
    finally:
        stop.set()
        thread.join(10)
    assert not thread.is_alive()


def test_a_bare_statements_transaction_is_all_or_nothing_and_takes_sqlites_write_lock_first(station, backend):
    """Database.statements (notify's end of a send, services/notify/domain/delivery.py _finish): Core
    statements on a bare connection, committed together or not at all; on SQLite the write lock is
    taken when it begins, as Database.transaction takes it."""
    database = station.database("notify")
    processed = database.infrastructure.processed_task.__table__
    with pytest.raises(RuntimeError):
        with database.statements() as connection:
            connection.execute(processed.insert(), {"task_id": "statements-1", "task_name": "t"})
            raise RuntimeError("the second statement failed")
    with database.statements() as connection:
        if backend == "sqlite":  # before any statement of its own, another writer already finds the lock taken
            import sqlite3
            other = sqlite3.connect(database.engine.url.database, timeout=0, isolation_level=None)
            try:
                with pytest.raises(sqlite3.OperationalError, match="locked"):
                    other.execute("BEGIN IMMEDIATE")
            finally:
                other.close()
        connection.execute(processed.insert(), {"task_id": "statements-2", "task_name": "t"})
    with database.reader() as session:
        kept = session.scalars(select(processed.c.task_id).where(processed.c.task_id.like("statements-%"))).all()
    assert kept == ["statements-2"]
