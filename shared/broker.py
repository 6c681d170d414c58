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

An entry is never in no place at all. kombu takes one off its list with BRPOP and only then
records it as unacknowledged, so a worker killed between the two lost it (celery/kombu#305).
Here a worker consuming one queue takes it with BLMOVE into an in-flight list of its own, named
for the queue and the moment it asked (`yizhan:inflight:<queue>:<ms>:<id>`), and drops that list in
the same MULTI as kombu's unacknowledged record (`QoS.append`). Whatever an in-flight list still
holds well after its BLMOVE could have answered was taken by a worker that died (or lost its
connection) in between, and the periodic restore puts it back on its queue (`restore_stranded`):
delivered again, never lost; a second delivery stops in the receiver's inbox.
"""

import base64
import binascii
import codecs
import logging
import re
from contextlib import contextmanager
from queue import Empty
from time import monotonic, time

from kombu.transport import redis as kombu_redis
from kombu.transport import virtual
from kombu.utils.json import dumps, loads
from kombu.utils.uuid import uuid

log = logging.getLogger(__name__)

# An entry of a maximal task (shared.contract_task.MAX_PAYLOAD_BYTES, base64) is far below this;
# what is larger is refused before it is parsed, so one entry cannot hold the worker's memory.
MAX_ENTRY_BYTES = 16 * 1024 * 1024
MAX_REASON_DETAIL = 300
INFLIGHT_PREFIX = "yizhan:inflight:"
# An in-flight list still holding its entry this long after its BLMOVE could have answered (the
# BLMOVE's timeout) is a dead consumer's; at least this, or a tenth of the visibility timeout.
STRANDED_AFTER_SECONDS = 5


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
    # Only kombu's restore reads it, to pick a list: always the plain list, the one the workers
    # watch (a priority sub-list is only swept into it, see Channel.restore_stranded).
    properties["priority"] = 0
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


def inflight_key(queue: str) -> str:
    """A fresh in-flight list for one BLMOVE from `queue`, named for the moment it is asked for."""
    return f"{INFLIGHT_PREFIX}{queue}:{int(time() * 1000)}:{uuid()[:12]}"


def taken_at(key: bytes | str, queue: str) -> float | None:
    """When the in-flight list `key` of `queue` was asked for, in seconds; None if not one of its lists."""
    key = kombu_redis.bytes_to_str(key)
    match = re.fullmatch(re.escape(INFLIGHT_PREFIX + queue) + r":(\d{1,15}):[0-9a-f-]{1,36}", key)
    return int(match.group(1)) / 1000 if match else None


def _glob_escaped(text: str) -> str:
    return re.sub(r"([\\*?\[\]])", r"\\\1", text)


class QoS(kombu_redis.QoS):
    def append(self, message, delivery_tag):
        # kombu 5.7's QoS.append, with the entry's in-flight list dropped in the same MULTI that records
        # it as unacknowledged: from one instant to the next it is in one of the two, never in neither.
        inflight, self.channel.inflight = self.channel.inflight, None
        delivery = message.delivery_info
        with self.pipe_or_acquire() as pipe:
            pipe.zadd(self.unacked_index_key, {delivery_tag: time()})
            pipe.hset(self.unacked_key, delivery_tag,
                      dumps([message._raw, delivery["exchange"], delivery["routing_key"]]))
            if inflight is not None:
                pipe.delete(inflight)
            pipe.execute()
        virtual.QoS.append(self, message, delivery_tag)

    def restore_visible(self, start=0, num=10, interval=10):
        super().restore_visible(start, num, interval)
        self.channel.restore_stranded()


class Channel(kombu_redis.Channel):
    QoS = QoS
    # The in-flight list of the entry being delivered, until QoS.append drops it.
    inflight = None
    # The queue and in-flight list of the BLMOVE sent and not yet read.
    _moving = None
    # (connection pool, client on it) that conn_or_acquire hands out.
    _kept_client = None

    @contextmanager
    def conn_or_acquire(self, client=None):
        """kombu 5.7's, with one client kept per channel instead of a new one each time: kombu asks for one
        to acknowledge every task, to record every delivery and to publish, and redis-py 8 builds each
        client's table of 169 response callbacks anew, 95 µs of CPU (issue 14). A client takes a
        connection from its pool for each command, so one client serves every thread; it is made
        again when kombu replaces the pool (after the connection to Redis was lost)."""
        if client:
            yield client
            return
        pool, kept = self.pool, self._kept_client
        if kept is None or kept[0] is not pool:
            kept = self._kept_client = (pool, self._create_client())
        yield kept[1]

    def _moves(self) -> bool:
        """Whether entries are taken with BLMOVE: one queue (BLMOVE reads one list), no key prefix."""
        return len(self.active_queues) == 1 and not self.global_keyprefix

    def _brpop_start(self, timeout=None):
        if not self._moves():
            self._moving = None
            return super()._brpop_start(timeout)
        # kombu 5.7's Channel._brpop_start, with BLMOVE from the plain list into a fresh in-flight list.
        timeout = self.brpop_timeout if timeout is None else timeout
        queues = self._queue_cycle.consume(1)
        if not queues:
            return
        self._moving = (queues[0], inflight_key(queues[0]))
        self._in_poll = self.client.connection
        self._brpop_sent_at = monotonic()
        self.client.connection.send_command("BLMOVE", queues[0], self._moving[1], "RIGHT", "LEFT", timeout or 0)

    def _brpop_read(self, **options):
        # kombu 5.7's Channel._brpop_read, with the entry checked before it is delivered.
        moving, self._moving = self._moving, None
        try:
            try:
                command = "BLMOVE" if moving else "BRPOP"
                reply = self.client.parse_response(self.client.connection, command, **options)
            except self.connection_errors:
                # if there's a ConnectionError, disconnect so the next iteration will reconnect automatically.
                # (An entry BLMOVE had already moved waits in its in-flight list for restore_stranded.)
                self.client.connection.disconnect()
                raise
            if reply is None or (not moving and not reply):  # an empty entry, b"", is an entry
                raise Empty()
            if moving:
                dest, item = moving[0], reply
                self.inflight = moving[1]
            else:
                dest, item = reply
                dest = kombu_redis.bytes_to_str(dest).rsplit(self.sep, 1)[0]
            self._queue_cycle.rotate(dest)
            try:
                self._deliver_entry(item, dest)
            except BaseException:
                # The connection broke (the consumer reconnects): whether or not kombu recorded the entry,
                # its in-flight list stays for restore_stranded; a second delivery stops in the inbox.
                self.inflight = None
                raise
            self._drop_inflight()
            return True
        finally:
            self._in_poll = None
            self._flush_brpop_reauth()

    def _drop_inflight(self) -> None:
        """An entry that never reached QoS.append (refused, or not acknowledged at all) is done with too."""
        inflight, self.inflight = self.inflight, None
        if inflight is None:
            return
        try:
            with self.conn_or_acquire() as client:
                client.delete(inflight)
        except self.connection_errors:
            log.warning("could not drop the in-flight list %s; its entry will be delivered again", inflight)

    def restore_stranded(self, now: float | None = None) -> int:
        """Put back on its queue every entry a consumer took and never recorded: an in-flight list older
        than its BLMOVE's timeout and the grace. Entries on a queue's priority sub-lists, which nobody
        here watches, go onto the plain list too. Returns how many entries were put back."""
        if not self._moves():
            return 0
        now = time() if now is None else now
        cutoff = now - self.brpop_timeout - max(STRANDED_AFTER_SECONDS, self.visibility_timeout / 10)
        restored = 0
        with self.conn_or_acquire() as client:
            for queue in self.active_queues:
                for key in client.scan_iter(match=_glob_escaped(INFLIGHT_PREFIX + queue) + ":*", count=1000):
                    at = taken_at(key, queue)
                    if at is None or at > cutoff:
                        continue
                    moved = self._move_all(client, key, queue)
                    if moved:
                        log.warning("queue %s: %d entries taken by a consumer that died before recording them "
                                    "are back on the queue", queue, moved)
                    restored += moved
                for pri in self.priority_steps:
                    if pri:
                        restored += self._move_all(client, self._q_for_pri(queue, pri), queue)
        return restored

    @staticmethod
    def _move_all(client, source, queue: str) -> int:
        """Move every entry of `source` to the end of `queue` the workers take from next, one atomic LMOVE each."""
        moved = 0
        while client.lmove(source, queue, "RIGHT", "RIGHT") is not None:
            moved += 1
        return moved

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
