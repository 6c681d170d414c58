"""The transactional outbox.

A service that must send a task writes it to its `outbox` table in the same
transaction as its own change (`enqueue`). Right after the commit the row is
published; if Redis is down the request still succeeds and the relay, a
thread in the service's worker, publishes it when Redis is back. The row's id
is the Celery task id, so a receiver drops a task it has already processed.
"""

import logging
import threading
from datetime import timedelta

from sqlalchemy import select, update

from shared.contracts import check_outgoing
from shared.db import new_id, utcnow
from shared.logs import request_id_var

log = logging.getLogger(__name__)

# The relay leaves fresh rows to the publish that follows their commit.
RELAY_GRACE = timedelta(seconds=2)
RELAY_BATCH = 200
# After Redis loses its data, tasks published within this window are published again.
REPLAY_WINDOW = timedelta(hours=24)


def enqueue(session, task_name: str, payload: dict):
    """Add a task to the outbox inside the caller's transaction."""
    check_outgoing(task_name, payload)
    infrastructure = session.info["infrastructure"]
    # The id is made here, not at a flush: rows added together go to the database as one
    # batched INSERT when the transaction flushes (issue 14), not one statement each.
    row = infrastructure.outbox(id=new_id(), task_name=task_name, payload=payload,
                                headers={"request_id": request_id_var.get()}, created_at=utcnow())
    session.add(row)
    relay = session.info.get("relay")
    if relay is not None:
        pending = session.info.setdefault("outbox_rows", [])
        if not pending:
            session.info.setdefault("after_commit", []).append(lambda: relay.publish_committed(pending))
        pending.append(row)
    return row


class OutboxRelay:
    """Publishes outbox rows of one service's database through its Celery app."""

    def __init__(self, database, celery_app):
        self.database = database
        self.celery_app = celery_app
        self.outbox = database.infrastructure.outbox
        self._local = threading.local()
        self._redis = None
        self.marker_key = f"yizhan:outbox:{database.engine.url.database or 'db'}:alive"
        self.replay_window = REPLAY_WINDOW

    def _connection(self):
        """This thread's broker connection, kept between publishes. It fails at once
        when Redis is away, instead of retrying for broker_connection_timeout: the
        relay will try again."""
        connection = getattr(self._local, "connection", None)
        if connection is None:
            options = {**self.celery_app.conf.broker_transport_options, "max_retries": 0}
            connection = self._local.connection = self.celery_app.connection_for_write(transport_options=options)
        return connection

    def _drop_connection(self) -> None:
        connection = getattr(self._local, "connection", None)
        self._local.connection = None
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

    def _publish(self, row) -> bool:
        try:
            self.celery_app.send_task(row.task_name, args=[row.payload], task_id=row.id,
                                      headers=row.headers or {}, retry=False, connection=self._connection())
            return True
        except Exception as exc:  # kombu raises many kinds; all mean "try later"
            self._drop_connection()
            row.attempts += 1
            row.last_error = f"{type(exc).__name__}: {exc}"[:500]
            log.warning("outbox: could not publish %s (%s); will retry", row.task_name, row.last_error)
            return False

    def publish_committed(self, rows) -> int:
        """The fast path, right after a commit, from the rows as the transaction wrote them (no read
        back); then one UPDATE marks what went out. Whatever fails waits for the relay, which leaves
        rows younger than RELAY_GRACE alone: should it meet one anyway (this path stalled), the task
        goes out twice under one id and its receiver's inbox drops the second."""
        published = []
        failed = None
        for row in rows:
            if not self._publish(row):
                failed = row
                break
            published.append(row.id)
        try:
            with self.database.transaction() as session:
                if published:
                    session.execute(update(self.outbox).where(self.outbox.id.in_(published),
                                                              self.outbox.published_at.is_(None))
                                    .values(published_at=utcnow()))
                if failed is not None:
                    session.execute(update(self.outbox).where(self.outbox.id == failed.id)
                                    .values(attempts=self.outbox.attempts + 1, last_error=failed.last_error))
        except Exception:
            log.exception("outbox: marking what was published after commit failed; the relay will publish it again")
        return len(published)

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
            rows = session.scalars(select(self.outbox).where(self.outbox.published_at > since)).all()
            for row in rows:
                row.published_at = None
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
        while not stop.wait(interval):
            try:
                count = self.relay_once()
                if count:
                    log.info("outbox: relayed %d task(s)", count)
            except Exception:
                log.exception("outbox: relay pass failed; retrying")
