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
from datetime import datetime, timedelta, timezone

from celery.worker import state as worker_state
from celery.worker.consumer import Consumer
from sqlalchemy import select

from shared.logs import mask_personal_data, printable
from shared.task_metrics import count_dead_letter, count_lost_message

log = logging.getLogger(__name__)

# What a dead letter keeps of a message: enough to read and replay any real task, bounded for any other.
MAX_STORED_BODY = 1_000_000
MAX_STORED_HEADERS = 16_000
MAX_STORED_REASON = 5_000
# The widths of the dead_letters columns (shared.db.DeadLetterMixin); PostgreSQL refuses longer.
MAX_QUEUE, MAX_NAME, MAX_CONTENT_TYPE = 100, 255, 100
# A raw list entry that never became a message (shared.broker) is kept whole, as this content type.
RAW_ENTRY = "application/x-redis-list-entry"


def _stored_body(body) -> tuple[str, str, str]:
    """(text, encoding, note): UTF-8 text when it is that and holds no NUL (PostgreSQL's text
    refuses NUL), else base64 of the raw bytes; cut to MAX_STORED_BODY either way."""
    if body is None:
        return "", "utf-8", ""
    if isinstance(body, str):
        body = body.encode("utf-8", "surrogatepass")  # lone surrogates become bytes that are not UTF-8
    body = bytes(body)
    cut = body[:MAX_STORED_BODY]
    note = f" (body cut to {len(cut)} of {len(body)} bytes)" if len(cut) < len(body) else ""
    try:
        text = cut.decode("utf-8")
    except UnicodeDecodeError:
        text = None
    if text is None or "\x00" in text:
        return base64.b64encode(cut).decode("ascii"), "base64", note
    return text, "utf-8", note


def _stored_text(value, limit: int) -> str | None:
    if value is None:
        return None
    text = value if isinstance(value, str) else repr(value)
    return printable(text[:limit])[:limit]


def _stored_headers(headers) -> dict:
    """Headers as JSON any database takes (json.dumps escapes NUL and lone surrogates), cut to size."""
    if not isinstance(headers, dict):
        return {"not_an_object": _stored_text(headers, MAX_STORED_HEADERS)} if headers is not None else {}
    try:
        text = json.dumps(headers, default=str)
    except (TypeError, ValueError, RecursionError) as exc:
        return {"unserializable": _stored_text(f"{type(exc).__name__}: {exc}", 300)}
    if len(text) > MAX_STORED_HEADERS:
        return {"cut": f"headers of {len(text)} characters, cut to {MAX_STORED_HEADERS}",
                "text": text[:MAX_STORED_HEADERS]}
    return json.loads(text)


def task_body_text(args, kwargs) -> str:
    """A task's body as JSON text for its dead letter: readable (ensure_ascii=False) unless it holds
    lone surrogates, which only escapes can carry."""
    body = [list(args), kwargs, {}]
    text = json.dumps(body, ensure_ascii=False, default=str)
    try:
        text.encode("utf-8")
        return text
    except UnicodeEncodeError:
        return json.dumps(body, default=str)


def record_dead_letter(database, *, queue, reason, body, content_type="application/json",
                       headers=None, task_name=None, task_id=None):
    """Keep a refused message. Never raises: whatever the message holds, what cannot be stored is
    cut or escaped; when the database refuses even that, the message is counted as lost
    (yizhan_lost_messages_total) and logged once. Returns the row, or None when lost."""
    queue = _stored_text(queue or "unknown", MAX_QUEUE)
    text, encoding, note = _stored_body(body)
    fields = dict(queue=queue, reason=_stored_text(reason, MAX_STORED_REASON - len(note)) + note, body=text,
                  body_encoding=encoding, content_type=_stored_text(content_type, MAX_CONTENT_TYPE),
                  headers=_stored_headers(headers), task_name=_stored_text(task_name, MAX_NAME),
                  task_id=_stored_text(task_id, MAX_NAME))
    try:
        row = _insert(database, fields)
    except Exception as exc:
        return _lost(queue, fields, exc)
    log.warning("dead letter %s on queue %s (%s): %s", row.id, queue, fields["task_name"], mask_personal_data(fields["reason"]))
    count_dead_letter(queue)
    return row


def _insert(database, fields):
    model = database.infrastructure.dead_letter
    with database.transaction() as session:
        row = model(**fields)
        session.add(row)
    return row


def _lost(queue, fields, exc):
    count_lost_message(queue)
    log.error("lost a refused message on queue %s (%s): %s; its dead letter could not be stored: %s",
              queue, fields["task_name"], mask_personal_data(fields["reason"][:500]),
              mask_personal_data(f"{type(exc).__name__}: {exc}"[:500]))
    return None


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


# Protocol 2 headers Celery reads as text (celery/worker/request.py); null or absent is fine.
TEXT_HEADERS = ("root_id", "parent_id", "group", "shadow", "argsrepr", "kwargsrepr", "origin", "lang",
                "eta", "expires")
# What makes a worker publish further tasks after this one. The station never sends them, and a
# message on a queue must not make a worker publish on the sender's behalf, so they must be null.
WORKFLOW_FIELDS = ("callbacks", "errbacks", "chain", "chord")
NO_TIME_LIMITS = (None, [None, None])


def task_message_refusal(message, app) -> str | None:
    """Why Celery could not run this message as a station task, or None. Checked before Celery's
    strategy sees it, because the strategy raises (and stops the worker) on many of these
    (celery/worker/strategy.py, celery/worker/request.py `Request.__init__`)."""
    headers = message.headers
    name = headers.get("task") if isinstance(headers, dict) else None
    if not isinstance(name, str):
        return "not a task message (no task name in its headers)"
    if not _is_station_task(app, name):
        return f"unknown task name: {name[:200]!r}"
    task_id = headers.get("id")
    if not isinstance(task_id, str) or not 0 < len(task_id) <= MAX_NAME:
        return f"the task id must be a string of 1 to {MAX_NAME} characters"
    for field in TEXT_HEADERS:
        if headers.get(field) is not None and not isinstance(headers[field], str):
            return f"header {field} must be a string or null"
    if not _is_count(headers.get("retries", 0)) or not _is_count(headers.get("replaced_task_nesting", 0)):
        return "headers retries and replaced_task_nesting must be whole numbers"
    if headers.get("timelimit") not in NO_TIME_LIMITS:
        return "time limits are the station's: the header timelimit must be null or [null, null]"
    for field in WORKFLOW_FIELDS:
        if headers.get(field) is not None:
            return f"header {field} must be null: a message cannot ask for further tasks"
    timing = _eta_refusal(headers.get("eta"), app) or _expires_refusal(headers.get("expires"))
    if timing:
        return timing
    return _body_refusal(message)


def _is_station_task(app, name: str) -> bool:
    """One of the app's own tasks. Celery registers built-ins (`celery.chord_unlock`, `celery.map`, …)
    in every app; no station sender has a reason to call them, so they count as unknown."""
    return name in app.tasks and not name.startswith("celery.")


def _is_count(value) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value >= 0


def _eta_refusal(eta, app) -> str | None:
    """A message held until its eta stays unacknowledged; past the visibility timeout Redis would
    deliver it again while it is held, and again, so no eta may lie further ahead."""
    when = _header_time(eta)
    if isinstance(when, str):
        return f"header eta {when}"
    limit = app.conf.broker_transport_options["visibility_timeout"]
    if when is not None and when > datetime.now(timezone.utc) + timedelta(seconds=limit):
        return f"header eta is more than the visibility timeout ({limit} s) ahead"
    return None


def _expires_refusal(expires) -> str | None:
    """An `expires` that is not a time is refused; one that has passed is not a dead letter.

    The sender asked for the task not to run after that moment (the scheduler's sweeps
    expire within their interval): Celery discards it (Request.revoked), logs "Discarding
    revoked task" and acknowledges it, and shared/task_metrics.py counts it as `expired`.
    A dead letter for each sweep that waited behind a busy worker would bury the real ones.
    """
    when = _header_time(expires)
    return f"header expires {when}" if isinstance(when, str) else None


def _header_time(value):
    """The aware time a header names, None for none, or why it is not one (a str)."""
    if value is None:
        return None
    try:
        when = datetime.fromisoformat(value)
    except ValueError:
        return "must be an ISO 8601 time"
    return when if when.tzinfo is not None else when.replace(tzinfo=timezone.utc)


def _body_refusal(message) -> str | None:
    from kombu.exceptions import ContentDisallowed

    try:
        body = message.decode()  # Celery decodes it in Request.__init__ too; kombu caches it
    except ContentDisallowed as exc:
        return f"refused message: {exc}"
    except Exception as exc:
        return f"undecodable body: {type(exc).__name__}: {exc}"
    if not isinstance(body, (list, tuple)) or len(body) != 3:
        return "the body must be the protocol 2 array [args, kwargs, embed]"
    args, kwargs, embed = body
    if not isinstance(args, list) or kwargs != {}:
        return "a task takes exactly one positional argument, the payload, and no keyword arguments"
    if embed is not None and (not isinstance(embed, dict) or set(embed) - set(WORKFLOW_FIELDS)
                              or any(value is not None for value in embed.values())):
        return f"the body's embed must name no {', '.join(WORKFLOW_FIELDS)} (null or absent)"
    return None


class DeadLetteringConsumer(Consumer):
    """Celery's consumer, keeping what it refuses as a dead letter instead of only logging it
    (or stopping on it), and surviving a Redis connection that breaks while it is being closed."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # The broker's own connection errors: the only errors a task handler lets through.
        self.broker_errors = tuple(self.connection_errors)
        # kombu 5.7's Redis channel raises AttributeError ('NoneType' … 'hostname') when used after
        # its connection was torn down: on close, and on a late ack after Redis went away. Counted as
        # a connection error, it makes the consumer reconnect (and the unacked message come back)
        # instead of stopping the worker (tests/faults/test_redis_lost.py).
        self.connection_errors = self.broker_errors + (AttributeError,)

    def connect(self):
        connection = super().connect()
        # shared.broker hands this consumer every list entry that is not a message at all.
        connection.transport.refuse_entry = self._keep_entry
        return connection

    def create_task_handler(self, *args, **kwargs):
        """Celery's handler for one message, after checks of its own; whatever still raises for one
        message is kept as its dead letter and acknowledged, never restored to crash the next start."""
        receive = super().create_task_handler(*args, **kwargs)

        def on_task_received(message):
            try:
                refusal = task_message_refusal(message, self.app)
            except Exception as exc:
                refusal = f"could not be read: {type(exc).__name__}: {exc}"
            if refusal:
                return self._refuse(message, refusal)
            try:
                return receive(message)
            except self.broker_errors:
                raise  # the consumer reconnects; the unacknowledged message comes back
            except Exception as exc:
                log.exception("a message could not be run")
                self._forget_request(message)
                return self._refuse(message, f"could not be run: {type(exc).__name__}: {exc}")

        return on_task_received

    def _refuse(self, message, reason):
        self._record(message, reason)
        if not message.acknowledged:
            message.ack()

    def _forget_request(self, message):
        """If Celery had reserved the request before raising, it will never finish: drop it."""
        request = worker_state.requests.get((message.headers or {}).get("id"))
        if request is not None and getattr(request, "_message", None) is message:
            worker_state.task_ready(request)

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

    @property
    def _database(self):
        runtime = getattr(self.app, "runtime", None)
        return runtime.database if runtime is not None else None

    def _keep_entry(self, queue, raw: bytes, reason: str):
        from shared.broker import task_identity

        task_name, task_id = task_identity(raw)
        self._keep(queue=queue, reason=f"not a message: {reason}", body=raw, content_type=RAW_ENTRY,
                   headers=None, task_name=task_name, task_id=task_id)

    def _record(self, message, reason, body=None):
        headers = message.headers if isinstance(message.headers, dict) else {}
        self._keep(queue=(message.delivery_info or {}).get("routing_key"), reason=reason,
                   body=message.body if body is None else body, content_type=message.content_type,
                   headers=message.headers, task_name=headers.get("task"), task_id=headers.get("id"))

    def _keep(self, **dead_letter):
        database = self._database
        if database is None:
            count_lost_message(dead_letter["queue"] or "unknown")
            log.error("no database to keep a refused message in: %s", mask_personal_data(dead_letter["reason"][:500]))
            return
        record_dead_letter(database, **dead_letter)

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
