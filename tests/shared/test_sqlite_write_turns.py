"""SQLite's writers queue for its one write lock on a file lock (shared/db.py `_WriterConnection`), which
wakes a waiter as soon as the holder lets go, instead of meeting the lock taken and sleeping in SQLite's
busy handler (issue 14: p99 of POST /bookings under 32 connections 400-900 ms → 125-140 ms).

Each test turns SQLite's own busy timeout down to nothing, so that a writer that met SQLite's lock
instead of waiting its turn fails at once with "database is locked": without the turns, these tests fail.
Waits that could hang are joined with a deadline, so that a lost turn fails a test instead of hanging it."""

import fcntl
import os
import threading
import time

import pytest
from sqlalchemy.exc import OperationalError

from shared import db as shared_db

DEADLINE = 30  # seconds: only a turn never given back takes this long


@pytest.fixture
def database(tmp_path, monkeypatch):
    monkeypatch.setattr(shared_db, "SQLITE_BUSY_TIMEOUT_MS", 0)
    database = shared_db.Database(f"sqlite:///{tmp_path / 'turns.db'}")
    with database.statements() as connection:
        connection.exec_driver_sql("CREATE TABLE t (x INTEGER)")
    yield database
    database.dispose()


def write(database, x: int) -> None:
    with database.statements() as connection:
        connection.exec_driver_sql(f"INSERT INTO t VALUES ({x})")


def rows(database) -> list[int]:
    with database.read_statements() as connection:
        return sorted(x for (x,) in connection.exec_driver_sql("SELECT x FROM t"))


def in_thread(target) -> dict:
    """Run `target` in a thread; its outcome, once done, under "error" or "done"."""
    outcome = {}

    def run():
        try:
            target()
            outcome["done"] = True
        except Exception as exc:  # reported to the test, which asserts on it
            outcome["error"] = exc
    outcome["thread"] = thread = threading.Thread(target=run, daemon=True)
    thread.start()
    return outcome


def finished(outcome) -> dict:
    outcome["thread"].join(DEADLINE)
    assert not outcome["thread"].is_alive(), "a writer waited for ever: a turn was never given back"
    return outcome


def test_a_writer_waits_for_the_holders_commit_instead_of_meeting_the_lock(database):
    trying = threading.Event()
    with database.statements() as connection:
        connection.exec_driver_sql("INSERT INTO t VALUES (1)")
        second = in_thread(lambda: trying.set() or write(database, 2))
        trying.wait(DEADLINE)
        time.sleep(0.3)  # lets the second writer reach its BEGIN while this one holds the lock
    assert "error" not in finished(second), second.get("error")
    assert rows(database) == [1, 2]


def turn_is_free(database) -> bool:
    """Whether another open file could take the turn now (a pooled connection that kept it would
    take it again unhindered, its lock being on its own descriptor)."""
    fd = os.open(f"{database.engine.url.database}.writers", os.O_RDWR)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        return True
    except BlockingIOError:
        return False
    finally:
        os.close(fd)


def test_the_turn_is_given_back_however_the_transaction_ends(database):
    with database.statements() as connection:
        connection.exec_driver_sql("INSERT INTO t VALUES (1)")
        assert not turn_is_free(database)
    assert turn_is_free(database)
    with pytest.raises(RuntimeError):
        with database.statements() as connection:
            connection.exec_driver_sql("INSERT INTO t VALUES (2)")
            raise RuntimeError("a rule refused the request")
    assert turn_is_free(database)
    with database.transaction() as session:  # the ORM session's commit
        session.connection().exec_driver_sql("INSERT INTO t VALUES (3)")
    assert turn_is_free(database)
    with database.engine.connect() as connection:  # given back at the commit, before the pool has it
        connection.begin()
        connection.exec_driver_sql("INSERT INTO t VALUES (4)")
        connection.commit()
        assert turn_is_free(database)
    with database.engine.connect() as connection:  # a driver connection closed inside its transaction
        connection.begin()
        connection.exec_driver_sql("INSERT INTO t VALUES (5)")
        connection.connection.driver_connection.close()
        assert turn_is_free(database)
        connection.invalidate()
    assert rows(database) == [1, 3, 4]


def test_a_write_begun_inside_another_on_one_thread_is_refused_at_once(database):
    """SQLite made such a write wait out its busy timeout and then refused it; waiting on the turn held
    by its own thread would never end."""
    def nested():
        with database.statements():
            write(database, 2)
    outcome = finished(in_thread(nested))
    assert isinstance(outcome.get("error"), OperationalError)
    assert "inside another" in str(outcome["error"])
    assert "error" not in finished(in_thread(lambda: write(database, 3)))
    assert rows(database) == [3]


def test_a_writer_in_another_process_waits_its_turn_too(database):
    """A forked child (a gunicorn or Celery worker) opens a descriptor of its own: flock would not keep
    out a holder of the parent's inherited one. Forked outside any transaction, as shared/db.py's
    guard_forks makes sure: a child forked inside one inherits SQLite's own lock state."""
    write(database, 0)  # the parent's pooled writer has its descriptor open before the fork
    go, ready = os.pipe()
    child = os.fork()
    if child == 0:  # the child: write as a worker does after its fork, then leave without cleanup
        code = 1
        try:
            database.dispose(close=False)
            os.read(go, 1)
            write(database, 2)
            code = 0
        except Exception:  # the exit code says it
            pass
        finally:
            os._exit(code)
    with database.statements() as connection:
        connection.exec_driver_sql("INSERT INTO t VALUES (1)")
        os.write(ready, b"!")
        time.sleep(0.3)  # lets the child reach its BEGIN while the parent holds the lock
    deadline = time.monotonic() + DEADLINE
    while (done := os.waitpid(child, os.WNOHANG)) == (0, 0) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert done != (0, 0), "the child waited for ever: the parent's turn was never given back"
    assert os.waitstatus_to_exitcode(done[1]) == 0
    assert rows(database) == [0, 1, 2]
