"""Dead letters: messages a worker refused, kept with the raw body and the reason.

Two places refuse a message. The worker's consumer refuses what never becomes
a task (not JSON, a pickle body, an unknown task name); `ContractTask` refuses
a payload that breaks its contract or the station's rules. Both write here, in
the database of the service that owns the queue, and `yizhan dead-letters
list|replay` reads and replays them.
"""

import base64
import json
import logging
import uuid

from celery.worker.consumer import Consumer
from sqlalchemy import select

from shared.logs import mask_personal_data
from shared.task_metrics import count_dead_letter

log = logging.getLogger(__name__)

MAX_STORED_BODY = 1_000_000


def _stored_body(body) -> tuple[str, str]:
    if body is None:
        return "", "utf-8"
    if isinstance(body, str):
        return body[:MAX_STORED_BODY], "utf-8"
    try:
        return body.decode("utf-8")[:MAX_STORED_BODY], "utf-8"
    except UnicodeDecodeError:
        return base64.b64encode(body[:MAX_STORED_BODY]).decode("ascii"), "base64"


def record_dead_letter(database, *, queue, reason, body, content_type="application/json",
                       headers=None, task_name=None, task_id=None):
    text, encoding = _stored_body(body)
    model = database.infrastructure.dead_letter
    with database.transaction() as session:
        row = model(queue=queue, reason=reason[:5000], body=text, body_encoding=encoding,
                    content_type=content_type, headers=_json_safe(headers or {}),
                    task_name=task_name, task_id=task_id)
        session.add(row)
    log.warning("dead letter %s on queue %s (%s): %s", row.id, queue, task_name, mask_personal_data(reason))
    count_dead_letter(queue)
    return row


def _json_safe(value):
    return json.loads(json.dumps(value, default=str))


def list_dead_letters(database, include_replayed=False):
    model = database.infrastructure.dead_letter
    with database.reader() as session:
        query = select(model).order_by(model.id)
        if not include_replayed:
            query = query.where(model.replayed_at.is_(None))
        return session.scalars(query).all()


def replay_dead_letter(database, celery_app, dead_letter_id: int, payload=None):
    """Put the refused message back on its queue, as it was or with a corrected payload.

    The message keeps its task name and gets a new task id, so the receiver's
    inbox does not mistake it for a message already processed.
    """
    from shared.db import utcnow

    model = database.infrastructure.dead_letter
    with database.transaction() as session:
        row = session.get(model, dead_letter_id)
        if row is None:
            raise LookupError(f"no dead letter {dead_letter_id}")
        body = base64.b64decode(row.body) if row.body_encoding == "base64" else row.body.encode("utf-8")
        headers = dict(row.headers or {})
        if payload is not None:
            body = json.dumps([[payload], {}, {"callbacks": None, "errbacks": None, "chain": None, "chord": None}]).encode()
        if "id" in headers:
            headers["id"] = headers["root_id"] = str(uuid.uuid4())
        with celery_app.connection_for_write() as connection:
            connection.default_channel.basic_publish(
                connection.default_channel.prepare_message(
                    body, content_type=row.content_type or "application/json",
                    content_encoding="utf-8", headers=headers,
                ),
                exchange="", routing_key=row.queue,
            )
        row.replayed_at = utcnow()
        return row


class DeadLetteringConsumer(Consumer):
    """Celery's consumer, recording what it refuses instead of only logging it, and
    surviving a Redis connection that breaks while it is being closed."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # kombu 5.7's Redis channel raises AttributeError ('NoneType' … 'hostname') when used after
        # its connection was torn down: on close, and on a late ack after Redis went away. Counted as
        # a connection error, it makes the consumer reconnect (and the unacked message come back)
        # instead of stopping the worker (tests/faults/test_redis_lost.py).
        self.connection_errors = tuple(self.connection_errors) + (AttributeError,)

    def on_connection_error_after_connected(self, exc):
        # With celery 5.7 / kombu 5.7, closing a Redis connection that broke on the
        # remote-control socket can raise AttributeError ('NoneType' … 'hostname') from
        # Channel.close → restore_unacked; uncaught, it stops the worker for good.
        # Found by tests/faults/test_redis_lost.py. The connection is gone either way.
        connection = self.connection
        if connection is not None:
            close = connection.close

            def close_quietly():
                try:
                    close()
                except AttributeError:
                    log.warning("broken broker connection could not be closed cleanly; dropping it")
            connection.close = close_quietly
        super().on_connection_error_after_connected(exc)

    def _record(self, message, reason, body=None):
        database = getattr(self.app, "yizhan_database", None)
        if database is None:
            return
        headers = dict(message.headers or {})
        queue = (message.delivery_info or {}).get("routing_key") or "unknown"
        try:
            record_dead_letter(database, queue=queue, reason=reason,
                               body=message.body if body is None else body,
                               content_type=message.content_type, headers=headers,
                               task_name=headers.get("task"), task_id=headers.get("id"))
        except Exception:
            log.exception("could not record a dead letter")

    def on_decode_error(self, message, exc):
        self._record(message, f"undecodable body: {exc}")
        super().on_decode_error(message, exc)

    def on_unknown_message(self, body, message):
        self._record(message, "not a task message (no task name in its headers)")
        super().on_unknown_message(body, message)

    def on_unknown_task(self, body, message, exc):
        self._record(message, f"unknown task name: {(message.headers or {}).get('task')!r}")
        super().on_unknown_task(body, message, exc)

    def on_invalid_task(self, body, message, exc):
        self._record(message, f"refused message: {exc}")
        super().on_invalid_task(body, message, exc)
