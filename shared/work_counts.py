"""How much work one request or one task does: the SQL statements it executes and the Redis
round trips it makes, counted as they happen (issue 14).

Each HTTP request and each task runs inside `counting(service, unit)`; the database driver's cursor
(see watch_engine) and redis-py's `send_packed_command` (one call per round trip: a
pipeline is one) add to the count of whatever is running in this thread or task. The totals go
to two Prometheus counters, `yizhan_sql_statements_total` and `yizhan_redis_round_trips_total`,
labelled by service and unit (the endpoint's route, or the task's name), beside
`yizhan_http_requests_total` and `yizhan_tasks_total`: work per request is their ratio. The
benchmarks read them from the running services; the budget tests (tests/test_budgets.py) assert
them per endpoint. Work done outside a request or task (the outbox relay's thread) counts nowhere.
"""

import functools
import sqlite3
import threading
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass

from prometheus_client import Counter
from sqlalchemy import event

from shared.series import series

SQL_STATEMENTS = Counter("yizhan_sql_statements_total", "SQL statements executed, by the endpoint or task that ran them",
                         ["service", "unit"])
REDIS_ROUND_TRIPS = Counter("yizhan_redis_round_trips_total",
                            "Redis round trips (a pipeline is one), by the endpoint or task that made them",
                            ["service", "unit"])


@dataclass
class WorkCount:
    sql: int = 0
    redis: int = 0


_current: ContextVar[WorkCount | None] = ContextVar("work_count", default=None)
_redis_watched = threading.Lock()
_redis_patched = False


def begin():
    """Start counting in this context; hand what it returns to end()."""
    count = WorkCount()
    return count, _current.set(count)


def end(service: str, unit: str, begun) -> WorkCount:
    count, token = begun
    _current.reset(token)
    series(SQL_STATEMENTS, service, unit).inc(count.sql)
    series(REDIS_ROUND_TRIPS, service, unit).inc(count.redis)
    return count


@contextmanager
def counting(service: str, unit: str):
    """Count the work done inside; add it to the counters on the way out, failure or not."""
    begun = begin()
    try:
        yield begun[0]
    finally:
        end(service, unit, begun)


def _count_statement() -> None:
    count = _current.get()
    if count is not None:
        count.sql += 1


def watch_engine(engine) -> None:
    """Count every statement the engine's connections execute, at the driver's cursor: each connection
    the pool opens makes its cursors count as they execute, from the moment the pool hands it out (the
    statements that set a connection up count nowhere). An engine with any connection event
    (`before_cursor_execute` among them) makes SQLAlchemy dispatch its events around every statement,
    connection and transaction, which cost 6 % of an availability request's instructions on
    PostgreSQL (issue 14); a pool event costs only when a connection is made. On SQLite the
    connections are CountingSQLiteConnection (shared/db.py opens them so), which count once told to."""
    if engine.dialect.driver == "psycopg":
        event.listen(engine, "connect", _count_on_cursors)
    elif engine.dialect.driver == "pysqlite":
        event.listen(engine, "connect", _count_sqlite)
    else:
        raise ValueError(f"no statement counting for the {engine.dialect.driver} driver")


class _Counting:
    """Mixed into a driver's cursor class: each execute() and executemany() counts as one statement."""

    def execute(self, *args, **kwargs):
        _count_statement()
        return super().execute(*args, **kwargs)

    def executemany(self, *args, **kwargs):
        _count_statement()
        return super().executemany(*args, **kwargs)


def _count_on_cursors(dbapi_connection, _record) -> None:
    dbapi_connection.cursor_factory = _counting_cursor()


@functools.cache
def _counting_cursor():
    """psycopg's cursor, counting (psycopg is imported only where PostgreSQL is used)."""
    import psycopg

    return type("CountingCursor", (_Counting, psycopg.Cursor), {})


def _count_sqlite(dbapi_connection, _record) -> None:
    if not isinstance(dbapi_connection, CountingSQLiteConnection):
        raise TypeError("SQLite's connections count only when opened as CountingSQLiteConnection (shared/db.py)")
    dbapi_connection.counts = True


class CountingSQLiteCursor(_Counting, sqlite3.Cursor):
    """sqlite3's cursor, counting."""


class CountingSQLiteConnection(sqlite3.Connection):
    """A sqlite3 connection (given to sqlite3.connect as its `factory`) whose cursors count their
    statements once `watch_engine` has set `counts`; until then its cursors are sqlite3's own.
    sqlite3 has no default cursor class to set, as psycopg has."""

    counts = False

    def cursor(self, factory=None):
        return super().cursor(factory or (CountingSQLiteCursor if self.counts else sqlite3.Cursor))


@contextmanager
def uncounted():
    """Work done inside counts nowhere: a pool's own statements (shared/db.py's ping of an idle
    connection), which SQLAlchemy's events never saw either."""
    token = _current.set(None)
    try:
        yield
    finally:
        _current.reset(token)


def watch_redis() -> None:
    """Count every round trip any redis-py client in this process makes (kombu's, the rate limiter's,
    ours), once per process. A wrapper, not a replacement: the call goes on unchanged."""
    global _redis_patched
    from redis.connection import AbstractConnection

    with _redis_watched:
        if _redis_patched:
            return
        send = AbstractConnection.send_packed_command

        def send_counted(self, command, check_health=True):
            count = _current.get()
            if count is not None:
                count.redis += 1
            return send(self, command, check_health)

        AbstractConnection.send_packed_command = send_counted
        _redis_patched = True
