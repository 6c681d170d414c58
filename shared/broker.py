"""The Redis transport every yizhan Celery app uses: kombu's, made to survive any bytes on a list.

Other community systems LPUSH onto the queues themselves, so an entry may be anything. kombu's
Redis channel parses an entry with `loads(bytes_to_str(item))` and builds a Message from it
(kombu/transport/redis.py `Channel._brpop_read`, kombu/transport/virtual/base.py `Message`); an
entry that is not JSON, not an object, or lacks what Message reads raises inside the worker's event
loop, and the worker stops ("Unrecoverable error") or drops the entry as if the connection broke.

Here an entry is checked before kombu sees it. One that is not a message kombu can deliver is
handed to the callback the worker's consumer installs (`Transport.refuse_entry`), which keeps it
as a dead letter, and is never delivered. What only kombu itself reads (the delivery tag and the
delivery info) is set from what is true rather than trusted: a fresh tag, so two entries can never
share one, and the list the entry came from, so a restored message goes back to that same list.
"""

import base64
import binascii
import codecs
import logging
from queue import Empty

from kombu.transport import redis as kombu_redis
from kombu.utils.json import loads
from kombu.utils.uuid import uuid

log = logging.getLogger(__name__)

# An entry of a maximal task (shared.contract_task.MAX_PAYLOAD_BYTES, base64) is far below this;
# what is larger is refused before it is parsed, so one entry cannot hold the worker's memory.
MAX_ENTRY_BYTES = 16 * 1024 * 1024
MAX_REASON_DETAIL = 300


class MalformedEntry(Exception):
    """A list entry that is not a message kombu can deliver; the text says why."""


def parse_entry(raw: bytes, queue: str) -> dict:
    """The entry as kombu's Message reads it, or MalformedEntry."""
    if len(raw) > MAX_ENTRY_BYTES:
        raise MalformedEntry(f"entry too large: {len(raw)} bytes, at most {MAX_ENTRY_BYTES}")
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        # kombu would decode with errors="replace", changing the message silently.
        raise MalformedEntry(f"not UTF-8: {_short(exc)}") from None
    try:
        message = loads(text)
    except Exception as exc:  # JSONDecodeError, RecursionError for deep nesting, kombu's typed values
        raise MalformedEntry(f"not JSON: {_short(exc)}") from None
    if not isinstance(message, dict):
        raise MalformedEntry(f"a JSON {_json_type(message)}, not an object")
    properties = message.get("properties", {})
    if not isinstance(properties, dict):
        raise MalformedEntry(f"properties are a JSON {_json_type(properties)}, not an object")
    headers = message.get("headers")
    if headers is not None and not isinstance(headers, dict):
        raise MalformedEntry(f"headers are a JSON {_json_type(headers)}, not an object")
    for field in ("content-type", "content-encoding"):
        if message.get(field) is not None and not isinstance(message[field], str):
            raise MalformedEntry(f"{field} is a JSON {_json_type(message[field])}, not a string")
    encoding = message.get("content-encoding")
    if encoding is not None:
        try:
            codecs.lookup(encoding)
        except LookupError:
            raise MalformedEntry(f"unknown content-encoding {_short(encoding)}") from None
    _check_body(message.get("body"), properties.get("body_encoding"))
    delivery_info = properties.get("delivery_info")
    redelivered = isinstance(delivery_info, dict) and delivery_info.get("redelivered") is True
    properties = {**properties, "delivery_tag": uuid(),
                  "delivery_info": {"exchange": "", "routing_key": queue, "redelivered": redelivered}}
    if not _is_priority(properties.get("priority", 0)):
        properties["priority"] = 0  # only kombu's restore reads it, to pick a list
    return {**message, "properties": properties}


def _check_body(body, body_encoding) -> None:
    if not isinstance(body, str) or not body:
        raise MalformedEntry("no body (a non-empty string)")
    if body_encoding is None:
        return
    if body_encoding != "base64":
        raise MalformedEntry(f"unknown body_encoding {_short(body_encoding)}")
    try:
        base64.b64decode(body)  # as kombu decodes it (virtual.base.Base64)
    except (binascii.Error, ValueError) as exc:
        raise MalformedEntry(f"body is not base64: {_short(exc)}") from None


def _is_priority(value) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and 0 <= value <= 255


def _json_type(value) -> str:
    return {dict: "object", list: "array", str: "string", bool: "boolean", type(None): "null",
            int: "number", float: "number"}.get(type(value), type(value).__name__)


def _short(value) -> str:
    text = repr(value) if not isinstance(value, BaseException) else str(value)
    return text if len(text) <= MAX_REASON_DETAIL else text[:MAX_REASON_DETAIL] + "…"


def task_identity(raw: bytes) -> tuple[str | None, str | None]:
    """The task name and id an entry claims, where it names them as strings; for the dead letter."""
    if len(raw) > MAX_ENTRY_BYTES:
        return None, None
    try:
        headers = loads(raw.decode("utf-8")).get("headers")
        return tuple(value if isinstance(value, str) else None for value in (headers.get("task"), headers.get("id")))
    except Exception:
        return None, None


class Channel(kombu_redis.Channel):
    def _brpop_read(self, **options):
        # kombu 5.7's Channel._brpop_read, with the entry checked before it is delivered.
        try:
            try:
                dest__item = self.client.parse_response(self.client.connection, "BRPOP", **options)
            except self.connection_errors:
                # if there's a ConnectionError, disconnect so the next iteration will reconnect automatically.
                self.client.connection.disconnect()
                raise
            if dest__item:
                dest, item = dest__item
                dest = kombu_redis.bytes_to_str(dest).rsplit(self.sep, 1)[0]
                self._queue_cycle.rotate(dest)
                self._deliver_entry(item, dest)
                return True
            else:
                raise Empty()
        finally:
            self._in_poll = None
            self._flush_brpop_reauth()

    def _get(self, queue):
        # kombu's Channel._get (basic_get), with the entry checked; a refused entry reads as none.
        with self.conn_or_acquire() as client:
            for pri in self.priority_steps:
                item = client.rpop(self._q_for_pri(queue, pri))
                if item:
                    self._maybe_update_queues_expire(client, queue)
                    try:
                        return parse_entry(item, queue)
                    except MalformedEntry as exc:
                        self._refuse(item, queue, str(exc))
                        raise Empty() from None
            self._maybe_update_queues_expire(client, queue)
            raise Empty()

    def _deliver_entry(self, item: bytes, queue: str) -> None:
        try:
            message = parse_entry(item, queue)
        except MalformedEntry as exc:
            self._refuse(item, queue, str(exc))
            return
        try:
            self.connection._deliver(message, queue)
        except self.connection_errors:
            raise  # the consumer reconnects; an unacknowledged message comes back
        except Exception as exc:
            # Past these checks kombu and Celery should not raise, and the consumer's task handler
            # keeps what it cannot run; if something still does, keep the entry rather than stop the worker.
            self._forget(message["properties"]["delivery_tag"])
            self._refuse(item, queue, f"could not be delivered: {type(exc).__name__}: {_short(exc)}")

    def _forget(self, delivery_tag) -> None:
        """Make sure kombu will not restore a refused message at shutdown (QoS.append recorded it)."""
        if delivery_tag in self.qos._delivered:
            self.qos.ack(delivery_tag)

    def _refuse(self, item: bytes, queue: str, reason: str) -> None:
        refuse = getattr(self.connection, "refuse_entry", None)
        try:
            if refuse is not None:
                return refuse(queue, item, reason)
            problem = "nobody to keep it"
        except Exception as exc:  # keeping it failed; the worker must go on all the same
            problem = f"keeping it failed: {type(exc).__name__}"
        from shared.task_metrics import count_lost_message

        count_lost_message(queue)
        log.error("queue %s: lost an entry of %d bytes (%s): %s", queue, len(item), problem, reason)


class Transport(kombu_redis.Transport):
    Channel = Channel
    # Set by the worker's consumer (shared.dead_letters): refuse_entry(queue, raw_bytes, reason).
    refuse_entry = None
