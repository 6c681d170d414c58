"""The transactional outbox.

A service that must send a task writes it to its `outbox` table in the same
transaction as its own change (`enqueue`). Right after the commit the row is
published; if Redis is down the request still succeeds and the relay, a
thread in the service's worker, publishes it when Redis is back. The row's id
is the Celery task id, so a receiver drops a task it has already processed.
"""

import atexit
import logging
import os
import threading
import time
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select, update

from shared.contracts import check_outgoing
from shared.db import after_commit, before_commit, new_id, utcnow
from shared.logs import request_id_var
from shared.work_counts import counting

log = logging.getLogger(__name__)

# The relay leaves fresh rows to the publish that follows their commit.
RELAY_GRACE = timedelta(seconds=2)
RELAY_BATCH = 200
# After Redis loses its data, tasks published within this window are published again.
REPLAY_WINDOW = timedelta(hours=24)
# A row whose task Redis forgot (replay_if_redis_forgot): published again by the relay, never marked by
# a PublishedMarks that published it to the Redis that forgot it.
REPLAYED = "Redis lost its data: to be published again"
# The unit PublishedMarks counts its work under (shared/work_counts.py): a share of every request that publishes.
MARKS_UNIT = "outbox marks"


@dataclass
class PendingTask:
    """An outbox row as enqueue() wrote it: what publish_committed() needs, with no read back."""

    id: str
    task_name: str
    payload: dict
    headers: dict
    created_at: datetime
    attempts: int = 0
    last_error: str | None = None

    def values(self) -> dict:
        return {"id": self.id, "task_name": self.task_name, "payload": self.payload, "headers": self.headers,
                "created_at": self.created_at, "attempts": 0}


def enqueue(session, task_name: str, payload: dict, publish: bool = True) -> PendingTask:
    """Add a task to the outbox inside the caller's transaction.

    The rows of one transaction go to the database as one INSERT just before it commits (a Core
    executemany, not one ORM object each: issue 14), and are published right after it.

    `publish=False` writes a net, not a task to send now: the row is left to the relay, which
    publishes it once it is older than RELAY_GRACE, unless the caller has meanwhile done the work
    itself and said so (`relay.marks.add([row.id])`). Should the caller die between the commit and
    that, the task still goes out."""
    check_outgoing(task_name, payload)
    row = PendingTask(id=new_id(), task_name=task_name, payload=payload,
                      headers={"request_id": request_id_var.get()}, created_at=utcnow())
    written = session.info.get("outbox_rows")
    if written is None:
        written = session.info["outbox_rows"] = []
        before_commit(session, lambda: _write(session, written))
    written.append(row)
    relay = session.info.get("relay")
    if publish and relay is not None:
        published = session.info.get("outbox_published")
        if published is None:
            published = session.info["outbox_published"] = []
            after_commit(session, lambda: relay.publish_committed(published))
        published.append(row)
    return row


def _write(session, rows: list[PendingTask]) -> None:
    table = session.info["infrastructure"].outbox.__table__
    session.connection().execute(table.insert(), [row.values() for row in rows])


def marker_key(url) -> str:
    """The Redis key by which the relay of the database at `url` (a SQLAlchemy URL) sees that Redis kept
    its data: set by its first pass, missing again only if Redis forgot."""
    return f"yizhan:outbox:{url.database or 'db'}:alive"


class OutboxRelay:
    """Publishes outbox rows of one service's database through its Celery app."""

    def __init__(self, database, celery_app):
        self.database = database
        self.celery_app = celery_app
        self.outbox = database.infrastructure.outbox
        self._local = threading.local()
        self._redis = None
        self.marks = PublishedMarks(database, self.outbox)
        self.marker_key = marker_key(database.engine.url)
        self.replay_window = REPLAY_WINDOW

    def _producer(self):
        """This thread's producer on its broker connection, both kept between publishes (Celery makes a
        new Producer per send when given only a connection). The connection fails at once when Redis is
        away, instead of retrying for broker_connection_timeout: the relay will try again."""
        producer = getattr(self._local, "producer", None)
        if producer is None:
            options = {**self.celery_app.conf.broker_transport_options, "max_retries": 0}
            connection = self._local.connection = self.celery_app.connection_for_write(transport_options=options)
            producer = self._local.producer = self.celery_app.amqp.Producer(connection, auto_declare=False)
        return producer

    def _drop_connection(self) -> None:
        connection = getattr(self._local, "connection", None)
        self._local.connection = self._local.producer = None
        if connection is not None:
            try:
                connection.release()
            except Exception:  # closing a broken connection may fail too; it is gone either way
                pass

    def _publish_rows(self, rows) -> int:
        """Publish in order; stop at the first failure (Redis is down) and say why."""
        published = 0
        for row in rows:
            if not self._publish(row):
                break
            row.published_at = utcnow()
            published += 1
        return published

    def _send(self, row, producer) -> None:
        # argsrepr: what the worker logs for the task; the payload's own repr would cost a saferepr()
        # per publish and put phone numbers and addresses in the logs.
        self.celery_app.send_task(row.task_name, args=[row.payload], task_id=row.id, headers=row.headers or {},
                                  retry=False, producer=producer, argsrepr=f"({row.task_name} payload)",
                                  kwargsrepr="{}")

    def _publish(self, row) -> bool:
        try:
            self._send(row, self._producer())
            return True
        except Exception as exc:  # kombu raises many kinds; all mean "try later"
            self._note_failure(row, exc)
            return False

    def _note_failure(self, row, exc) -> None:
        self._drop_connection()
        row.attempts += 1
        row.last_error = f"{type(exc).__name__}: {exc}"[:500]
        log.warning("outbox: could not publish %s (%s); will retry", row.task_name, row.last_error)

    def publish_committed(self, rows) -> int:
        """The fast path, right after a commit, from the rows as the transaction wrote them (no read
        back), all in one round trip to Redis (kombu's Producer.batch: one pipeline of LPUSHes). What
        went out is marked `published_at` by this process's PublishedMarks, batched with other
        requests' rows, off the request's path. A failed batch leaves delivery uncertain, so none of
        its rows counts as published and the first records the failure. Whatever is left unmarked
        waits for the relay, which leaves rows younger than RELAY_GRACE alone: should it meet one
        anyway (a mark lost with its process, or late), or publish one that did go out, the task goes
        out twice under one id and its receiver's inbox drops the second."""
        try:
            producer = self._producer()
            with producer.batch():
                for row in rows:
                    self._send(row, producer)
        except Exception as exc:  # kombu raises many kinds; all mean "try later"
            failed = rows[0]
            self._note_failure(failed, exc)
            try:
                with self.database.transaction() as session:
                    session.execute(update(self.outbox).where(self.outbox.id == failed.id)
                                    .values(attempts=self.outbox.attempts + 1, last_error=failed.last_error))
            except Exception:
                log.exception("outbox: recording a failed publish failed; the relay will publish it")
            return 0
        self.marks.add([row.id for row in rows])
        return len(rows)

    def replay_if_redis_forgot(self) -> int:
        """If Redis lost its data (a restart without persistence, a new server), the tasks it
        held are gone: publish again what went out within the replay window. Receivers drop
        what they already processed (their inbox), so replaying is safe.

        The sign is a marker key this relay keeps in Redis: missing means Redis forgot."""
        import redis

        try:
            if not self._marker_client().set(self.marker_key, "1", nx=True):
                return 0
        except redis.RedisError:
            return 0  # Redis is away; the publishing below says so
        since = utcnow() - self.replay_window
        with self.database.transaction() as session:
            # Rows published but not yet marked (PublishedMarks) are taken too: their task went to the
            # Redis that forgot it, and REPLAYED keeps their late mark from hiding them from the relay.
            rows = session.scalars(select(self.outbox).where(
                (self.outbox.published_at > since)
                | (self.outbox.published_at.is_(None) & (self.outbox.created_at > since)))).all()
            for row in rows:
                row.published_at, row.last_error = None, REPLAYED
        if rows:
            log.warning("outbox: Redis lost its data; publishing %d task(s) from the last %s again",
                        len(rows), self.replay_window)
        return len(rows)

    def _marker_client(self):
        if self._redis is None:
            import redis

            self._redis = redis.Redis.from_url(self.celery_app.conf.broker_url, socket_connect_timeout=2,
                                               socket_timeout=2)
        return self._redis

    def relay_once(self) -> int:
        """Publish every row older than the grace period that is still unpublished."""
        self.replay_if_redis_forgot()
        with self.database.transaction() as session:
            rows = session.scalars(select(self.outbox).where(
                self.outbox.published_at.is_(None), self.outbox.created_at < utcnow() - RELAY_GRACE
            ).order_by(self.outbox.created_at).limit(RELAY_BATCH).with_for_update(skip_locked=True)).all()
            return self._publish_rows(rows)

    def run(self, stop: threading.Event, interval: float) -> None:
        """A pass at once, so a worker that starts after Redis lost its data replays before its tasks
        flow, not one interval into them; then one every `interval` seconds."""
        while True:
            try:
                count = self.relay_once()
                if count:
                    log.info("outbox: relayed %d task(s)", count)
            except Exception:
                log.exception("outbox: relay pass failed; retrying")
            if stop.wait(interval):
                return


class PublishedMarks:
    """Outbox ids published right after their commit, marked `published_at` by one thread per process
    in one UPDATE per batch (issue 14): a request no longer pays a second transaction for its mark.

    A mark is only bookkeeping for the relay: lost (the process dies first) or late, the relay
    publishes the row again after RELAY_GRACE and the receiver's inbox drops the repeat. A mark never
    lands on a row the relay has taken back because Redis forgot its task (REPLAYED). The thread
    starts at the first mark in each process, so a forked child (a Celery pool process, a gunicorn
    worker) runs its own; flush() marks what is waiting now, and runs at exit."""

    BATCH = 500
    # After the first mark arrives, wait this long for others, so one UPDATE marks many.
    LINGER_SECONDS = 0.05

    _starting = threading.Lock()

    def __init__(self, database, outbox):
        self.database = database
        self.outbox = outbox
        self._pid = None

    def _start(self) -> None:
        with self._starting:
            if self._pid == os.getpid():
                return  # another thread of this process started it meanwhile
            self._lock = threading.Lock()
            # Held through a whole flush: a flush() returns only once what was waiting when it was
            # called is marked, even if the thread had taken it first.
            self._flushing = threading.Lock()
            self._waiting = []
            self._wake = threading.Event()
            threading.Thread(target=self._run, name="outbox-marks", daemon=True).start()
            atexit.register(self._flush_at_exit)
            self._pid = os.getpid()

    def add(self, ids) -> None:
        if not ids:
            return
        if self._pid != os.getpid():
            self._start()
        with self._lock:
            self._waiting.extend(ids)
        self._wake.set()

    def _run(self) -> None:
        while True:
            self._wake.wait()
            time.sleep(self.LINGER_SECONDS)
            self._wake.clear()
            try:
                self.flush()
            except Exception:  # the rows stay unmarked: the relay publishes them again, safely
                log.exception("outbox: marking published tasks failed; the relay will publish them again")

    def _flush_at_exit(self) -> None:
        try:
            self.flush()
        except Exception as exc:  # the database may be gone first; the relay publishes what stays unmarked
            log.warning("outbox: marks left unmade at exit (%s); the relay will publish those tasks again", exc)

    def flush(self) -> int:
        if self._pid != os.getpid():
            return 0
        with self._flushing:
            with self._lock:
                ids, self._waiting = self._waiting, []
            if not ids:
                return 0
            runtime = self.database.runtime
            with counting(runtime.name if runtime is not None else "-", MARKS_UNIT):
                self._mark(ids)
            return len(ids)

    def _mark(self, ids) -> None:
        for at in range(0, len(ids), self.BATCH):
            with self.database.transaction() as session:
                session.execute(update(self.outbox).where(self.outbox.id.in_(ids[at:at + self.BATCH]),
                                                          self.outbox.published_at.is_(None),
                                                          self.outbox.last_error.is_(None))
                                .values(published_at=utcnow()).execution_options(synchronize_session=False))


# A child forked while another thread held the lock would never get it: each child starts with its own.
os.register_at_fork(after_in_child=lambda: setattr(PublishedMarks, "_starting", threading.Lock()))
