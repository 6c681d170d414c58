"""Database helpers: one database per service, SQLite by default, PostgreSQL by URL."""

import fcntl
import os
import sqlite3
import threading
import time
import uuid
from dataclasses import dataclass
from contextlib import contextmanager, nullcontext
from datetime import datetime, timezone
from pathlib import Path

from sqlalchemy import JSON, DateTime, String, Text, create_engine, event, make_url, or_
from sqlalchemy.exc import DisconnectionError, OperationalError
from sqlalchemy.orm import Mapped, mapped_column, sessionmaker
from sqlalchemy.types import TypeDecorator

from shared import work_counts

SQLITE_BUSY_TIMEOUT_MS = 15_000
# A pooled connection idle longer than this is pinged before use (see _ping_when_idle).
PING_AFTER_IDLE_SECONDS = 1.0


def utcnow() -> datetime:
    return datetime.now(timezone.utc)


def new_id() -> str:
    return str(uuid.uuid4())


class UTCDateTime(TypeDecorator):
    """Aware datetimes in, aware UTC datetimes out, on SQLite as on PostgreSQL.

    SQLite has no time zones: values are stored as naive UTC and given back
    their zone on the way out.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value, dialect):
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTCDateTime column")
        value = value.astimezone(timezone.utc)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value, dialect):
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=timezone.utc)
        return value.astimezone(timezone.utc)


# Which thread of this process holds the write turn of each SQLite file (see _WriterConnection).
# A child starts with none: its one thread may bear the ident of the parent's thread that forked.
_turn_holders: dict[str, int] = {}
os.register_at_fork(after_in_child=_turn_holders.clear)


class _WriterConnection(work_counts.CountingSQLiteConnection):
    """A writer's sqlite3 connection that queues for SQLite's one write lock on a file lock first.

    Writers that meet SQLite's lock taken wait in its busy handler, which sleeps 1, 2, 5 ... up to
    100 ms between tries whether or not the lock has meanwhile come free: under 32 concurrent booking
    requests a few waited for seconds while others went by (issue 14: p99 400-900 ms). Before its
    BEGIN IMMEDIATE a writer now takes `flock` on `<database>.writers`, on which the kernel wakes a
    waiter as soon as the holder lets go, in any thread of any process; the turn ends with the
    transaction, however it ends: commit, rollback, or the connection closed. What takes no turn
    (a migration, the sqlite3 shell) still meets SQLite's own lock and busy handler, as before.

    A turn is taken on the connection's own descriptor, opened in the process that uses it: flock
    excludes other open files, not other holders of the same one, so a descriptor inherited across
    a fork is never locked in the child.

    A turn is waited for as long as the transaction before it lasts, not SQLITE_BUSY_TIMEOUT_MS: a
    writer stuck inside its transaction now holds the others back until its process ends (gunicorn
    ends a worker silent for 30 s), where they used to be refused after 15 s; either way nothing can
    write meanwhile, as it holds SQLite's lock. No transaction waits on a provider or on Redis
    without a timeout (the sends happen between transactions)."""

    _turn_fd = None
    _turn_pid = None
    _turn_path = None

    def take_turn(self, path: str) -> None:
        me = threading.get_ident()
        if _turn_holders.get(path) == me:
            # SQLite would have made it wait out its busy timeout and then refused; waiting on the
            # turn would never end.
            raise sqlite3.OperationalError(
                "database is locked: a write transaction began inside another on the same thread")
        if self._turn_pid != os.getpid():
            # Read-only is enough for flock, so a process of another user who may write the database
            # may queue too; readable by all, as SQLite makes its -wal and -shm files.
            self._turn_fd = os.open(path, os.O_RDONLY | os.O_CREAT | os.O_CLOEXEC, 0o644)
            self._turn_pid = os.getpid()
        fcntl.flock(self._turn_fd, fcntl.LOCK_EX)
        self._turn_path = path
        _turn_holders[path] = me

    def end_turn(self) -> None:
        path, self._turn_path = self._turn_path, None
        if path is not None and self._turn_pid == os.getpid():
            _turn_holders.pop(path, None)
            fcntl.flock(self._turn_fd, fcntl.LOCK_UN)

    def commit(self):
        try:
            super().commit()
        finally:
            self.end_turn()

    def rollback(self):
        try:
            super().rollback()
        finally:
            self.end_turn()

    def close(self):
        try:
            super().close()
        finally:
            self.end_turn()
            if self._turn_pid == os.getpid():
                os.close(self._turn_fd)
            self._turn_fd = self._turn_pid = None


def _sqlite_engine(url: str, reader: bool):
    """An engine on a SQLite file: WAL for concurrent readers; BEGIN IMMEDIATE for writers.

    pysqlite's own transaction handling is turned off and SQLAlchemy emits
    BEGIN itself, as the SQLAlchemy docs recommend ("Serializable isolation /
    Savepoints / Transactional DDL" for pysqlite). A write transaction takes the
    database lock when it begins, so a check-then-insert cannot interleave.

    A reader (reader=True) sends no BEGIN at all: in WAL mode each statement reads a consistent
    snapshot of its own, as each does under PostgreSQL's READ COMMITTED, and a read saves a
    statement. Its connections refuse to write (`PRAGMA query_only`), and the pool rolls nothing back
    when one returns: a connection never in a transaction has none to end (issue 14: 7 % of an
    availability request's instructions, against the writer's pool shared with a reader that only
    sent no BEGIN). What ends a statement's read snapshot on SQLite is its result being read to the
    end or closed, which SQLAlchemy's `.all()`, `.first()`, `.one()` and `.scalar()` do; the pool's
    rollback never did (Python 3.11's sqlite3 sends none outside a transaction).
    """
    factory = work_counts.CountingSQLiteConnection if reader else _WriterConnection
    engine = create_engine(url, connect_args={"timeout": SQLITE_BUSY_TIMEOUT_MS / 1000, "factory": factory},
                           **({"pool_reset_on_return": None} if reader else {}))

    @event.listens_for(engine, "connect")
    def on_connect(dbapi_connection, _record):
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        # In WAL mode NORMAL is safe from corruption and skips an fsync per commit (SQLite docs,
        # "PRAGMA synchronous"); production runs on PostgreSQL.
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
        cursor.execute("PRAGMA foreign_keys=ON")
        if reader:
            cursor.execute("PRAGMA query_only=ON")
        cursor.close()

    if not reader:
        turns = os.path.abspath(f"{make_url(url).database}.writers")

        @event.listens_for(engine, "begin")
        def on_begin(connection):
            raw = connection.connection.driver_connection
            try:
                raw.take_turn(turns)
            except sqlite3.OperationalError as exc:  # as SQLite's own refusal of the BEGIN would be
                raise OperationalError("BEGIN IMMEDIATE", None, exc) from exc
            try:
                connection.exec_driver_sql("BEGIN IMMEDIATE")
            except BaseException:
                raw.end_turn()
                raise

    return engine


def _ping_when_idle(engine):
    """Pessimistic disconnect handling, as pool_pre_ping, but only for a connection that sat idle in
    the pool: a server restarted while the pool was quiet is found before a request uses the
    connection, and a busy pool does not pay a round trip per checkout (issue 14: a tenth of a
    read's time). A failed ping raises DisconnectionError, on which the pool discards the connection
    and checks out another (SQLAlchemy, "Disconnect Handling - Pessimistic"). A server lost in the
    middle of busy traffic fails that request, as it would with pool_pre_ping, and the pool then
    starts afresh."""

    @event.listens_for(engine, "checkin")
    def on_checkin(_dbapi_connection, record):
        if record is not None:
            record.info["idle_since"] = time.monotonic()

    @event.listens_for(engine, "checkout")
    def on_checkout(dbapi_connection, record, _proxy):
        idle_since = record.info.get("idle_since")
        if idle_since is None or time.monotonic() - idle_since < PING_AFTER_IDLE_SECONDS:
            return
        try:
            with work_counts.uncounted():
                _ping_outside_transactions(dbapi_connection)
        except engine.dialect.loaded_dbapi.Error as exc:
            raise DisconnectionError(f"pooled connection failed its ping: {exc}") from exc


def _ping_outside_transactions(dbapi_connection) -> None:
    """`SELECT 1` on a psycopg connection in autocommit for that one statement, so that the ping opens
    no transaction for anyone to roll back. psycopg forgets every statement it prepared on a connection
    at a rollback (and sends DEALLOCATE ALL): a ping that rolled back made the first requests after
    each quiet second parse and plan every statement afresh (issue 14: the server's CPU per booking
    2.5-3.3 ms with this ping, 4.3-5.5 ms with the one that rolled back, on a slow machine)."""
    autocommit = dbapi_connection.autocommit
    dbapi_connection.autocommit = True
    try:
        cursor = dbapi_connection.cursor()
        cursor.execute("SELECT 1")
        cursor.close()
    finally:
        dbapi_connection.autocommit = autocommit


def after_commit(session, hook) -> None:
    """Call `hook()` once the transaction of `session` (a `Database.transaction`) has committed,
    before the session closes; not at all if it rolls back. An exception from a hook propagates
    to the caller of the transaction and the hooks after it do not run."""
    session.info.setdefault("after_commit", []).append(hook)


def before_commit(session, hook) -> None:
    """Call `hook()` at the end of the transaction of `session` (a `Database.transaction`), inside it,
    just before the commit: what it writes commits with the rest (the outbox's rows, shared.outbox)."""
    session.info.setdefault("before_commit", []).append(hook)


def on_rollback(session, hook) -> None:
    """Call `hook()` if the transaction of `session` (a `Database.transaction`) rolls back, before the
    exception that rolled it back goes on; not at all if it commits. A hook should not raise: its
    exception would hide the first."""
    session.info.setdefault("on_rollback", []).append(hook)


def one_of(column, values):
    """`column IN (values)` for values fixed when the statement is built, as plain bound parameters:
    SQLAlchemy renders the parameters of an IN list anew at every execution ("expanding"), which cost
    a hot statement 0.04-0.05 ms each time (issue 14: availability's one statement 0.12 → 0.08 ms of
    CPU on SQLite, 0.25 → 0.22 ms on PostgreSQL)."""
    return or_(*(column == value for value in values))


def ensure_sqlite_directory(url: str) -> None:
    if url.startswith("sqlite:///"):
        Path(url.removeprefix("sqlite:///")).parent.mkdir(parents=True, exist_ok=True)


class Database:
    """An engine and session factory for one service's database."""

    def __init__(self, url: str, infrastructure=None, runtime=None):
        self.url = url
        self.infrastructure = infrastructure
        # The service's runtime (shared.service_app), through which a transaction finds the outbox
        # relay; None for a database used alone (migrations, tests).
        self.runtime = runtime
        if url.startswith("sqlite:///"):
            ensure_sqlite_directory(url)
            self.engine = _sqlite_engine(url, reader=False)
            reader_engine = _sqlite_engine(url, reader=True)
        else:
            self.engine = create_engine(url)
            # Under READ COMMITTED (PostgreSQL's default) each statement sees its own snapshot, in a
            # transaction or not: a read needs no BEGIN and ROLLBACK round trips around it. Reads have
            # a pool of their own whose connections are in autocommit from the moment they connect,
            # so nothing is switched at each checkout and back at each return, and the pool rolls
            # nothing back when one returns: a connection never in a transaction has none to end
            # (issue 14: 9 % of an availability request's instructions, against the writer's
            # connections in autocommit for the length of one checkout).
            reader_engine = create_engine(url, isolation_level="AUTOCOMMIT", pool_reset_on_return=None)
            for engine in (self.engine, reader_engine):
                _ping_when_idle(engine)
        # Every engine this database opens connections on: the writer's, then the readers'.
        self.engines = (self.engine, reader_engine)
        self._writer = sessionmaker(self.engine, expire_on_commit=False)
        self._reader = sessionmaker(reader_engine, expire_on_commit=False)
        self._reader_engine = reader_engine
        self._fork_guard = None

    def guard_forks(self) -> None:
        """In a process that forks (the Celery worker's main process, whose relay thread
        writes): never fork in the middle of a transaction. A child forked while SQLite's
        BEGIN IMMEDIATE was held inherits the lock state and can never write again
        (found by tests/faults/test_redis_lost.py)."""
        if self._fork_guard is None:
            self._fork_guard = threading.RLock()  # re-entrant: a transaction may open another
            os.register_at_fork(before=self._fork_guard.acquire, after_in_parent=self._fork_guard.release,
                                after_in_child=self._fork_guard.release)

    @contextmanager
    def transaction(self):
        """A write transaction: committed on success, rolled back on error.

        Outbox rows added inside it are published right after the commit
        (see shared.outbox); what cannot be published waits for the relay.
        """
        guard = self._fork_guard or nullcontext()
        session = self._writer()
        relay = self.runtime.relay if self.runtime is not None else None
        session.info.update(infrastructure=self.infrastructure, relay=relay)
        try:
            try:
                with guard, session.begin():
                    yield session
                    for hook in session.info.pop("before_commit", []):
                        hook()
            except BaseException:
                for hook in session.info.pop("on_rollback", []):
                    hook()
                raise
            for hook in session.info.pop("after_commit", []):
                hook()
        finally:
            session.close()

    @contextmanager
    def statements(self):
        """A write transaction on a bare connection, for Core statements alone: no ORM objects, no outbox
        and no hooks, and cheaper than a session for that (issue 14). Committed on success, rolled back
        on error; on SQLite it takes the write lock when it begins, as `transaction` does."""
        with self._fork_guard or nullcontext(), self.engine.begin() as connection:
            yield connection

    @contextmanager
    def reader(self):
        """A read-only session that never takes SQLite's write lock."""
        session = self._reader()
        session.info.update(infrastructure=self.infrastructure)
        try:
            yield session
        finally:
            # close(), not rollback(): loaded objects stay readable for the response.
            session.close()

    @contextmanager
    def read_statements(self):
        """A bare connection for Core reads alone, reading as `reader` does (no BEGIN, never SQLite's
        write lock): no ORM objects, and cheaper than a session for that (issue 14)."""
        with self._reader_engine.connect() as connection:
            yield connection

    def ping(self) -> None:
        with self.engine.connect() as conn:
            conn.exec_driver_sql("SELECT 1")

    def dispose(self, close: bool = True) -> None:
        """Drop every pooled connection; close=False in a forked child, which must not close its
        parent's (SQLAlchemy, "Using Connection Pools with Multiprocessing or os.fork()")."""
        for engine in self.engines:
            engine.dispose(close=close)


@dataclass(frozen=True)
class Infrastructure:
    """The tables every service keeps: for messaging (outbox, inbox, dead letters) and the audit log."""

    outbox: type
    processed_task: type
    dead_letter: type
    audit_entry: type


def infrastructure_for(base) -> Infrastructure:
    """Declare a service's outbox, inbox, dead-letter and audit tables on its own declarative base."""
    return Infrastructure(
        outbox=type("Outbox", (OutboxMixin, base), {}),
        processed_task=type("ProcessedTask", (ProcessedTaskMixin, base), {}),
        dead_letter=type("DeadLetter", (DeadLetterMixin, base), {}),
        audit_entry=type("AuditEntry", (AuditEntryMixin, base), {}),
    )


class OutboxMixin:
    """A task to publish, written in the same transaction as the change that needs it."""

    __tablename__ = "outbox"
    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    task_name: Mapped[str] = mapped_column(String(100))
    payload: Mapped[dict] = mapped_column(JSON)
    headers: Mapped[dict] = mapped_column(JSON, default=dict)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
    published_at: Mapped[datetime | None] = mapped_column(UTCDateTime, index=True)
    attempts: Mapped[int] = mapped_column(default=0)
    last_error: Mapped[str | None] = mapped_column(Text)


class ProcessedTaskMixin:
    """The inbox: ids of tasks whose effect is committed, so a redelivery does nothing."""

    __tablename__ = "processed_tasks"
    task_id: Mapped[str] = mapped_column(String(255), primary_key=True)
    task_name: Mapped[str] = mapped_column(String(100))
    processed_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class DeadLetterMixin:
    """A message the worker refused, with the raw body and why, for an operator to replay."""

    __tablename__ = "dead_letters"
    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=True)
    queue: Mapped[str] = mapped_column(String(100))
    task_name: Mapped[str | None] = mapped_column(String(255))
    task_id: Mapped[str | None] = mapped_column(String(255))
    reason: Mapped[str] = mapped_column(Text)
    content_type: Mapped[str | None] = mapped_column(String(100))
    headers: Mapped[dict] = mapped_column(JSON, default=dict)
    body: Mapped[str] = mapped_column(Text)
    body_encoding: Mapped[str] = mapped_column(String(10), default="utf-8")
    received_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
    replayed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class AuditEntryMixin:
    """Who changed what, when and why: one row per change to data an admin must be able to trace
    (templates, errand types, organisations, credit, accounts). Written in the change's own
    transaction, so a change is never without its entry (shared/audit.py)."""

    __tablename__ = "audit_log"
    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
    # Principal.identity: role and subject ("staff:portal:7", "system:street-office").
    actor: Mapped[str] = mapped_column(String(120), index=True)
    action: Mapped[str] = mapped_column(String(60))
    subject: Mapped[str] = mapped_column(String(120), index=True)
    # {field: [before, after]} for the fields that changed.
    changes: Mapped[dict] = mapped_column(JSON, default=dict)
    reason: Mapped[str | None] = mapped_column(Text)
    request_id: Mapped[str | None] = mapped_column(String(64))
