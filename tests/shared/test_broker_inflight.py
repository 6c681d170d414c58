"""An entry taken off a queue is never in no place at all (shared.broker).

kombu's Redis transport takes an entry with BRPOP and only then records it as unacknowledged:
a worker SIGKILLed in between lost it (celery/kombu#305; it failed tests/faults/test_worker_killed.py
twice in CI). Here a real consumer process is killed in exactly that instant, and the entry is
found in its in-flight list, put back on the queue by the periodic restore, and delivered."""

import json
import os
import signal
import subprocess
import sys
import textwrap
import time
import uuid

import pytest
import redis
from kombu import Connection, Consumer, Queue

from shared import broker
from tests.raw_tasks import envelope, task_body

# A consumer that dies the moment the entry is off the list, before kombu records it as unacknowledged.
DYING_CONSUMER = textwrap.dedent("""
    import os, signal, sys
    from kombu import Connection, Consumer, Queue
    from shared import broker

    def die(self, item, queue):
        print("taken", flush=True)
        os.kill(os.getpid(), signal.SIGKILL)

    broker.Channel._deliver_entry = die
    url, queue = sys.argv[1:3]
    with Connection(url, transport="shared.broker:Transport") as connection:
        with Consumer(connection, [Queue(queue, routing_key=queue)], callbacks=[lambda body, message: None]):
            print("ready", flush=True)
            while True:
                connection.drain_events(timeout=30)
""")


@pytest.fixture
def isolated(redis_server):
    """A Redis server of the test's own: the unacknowledged hash is one per database."""
    client = redis.Redis.from_url(redis_server.url)
    yield redis_server.url, client
    client.close()


def entry(queue: str) -> bytes:
    return json.dumps(envelope(queue, "notify.send_message", task_body({"v": 1}))).encode()


def inflight_lists(client, queue: str) -> list[bytes]:
    return sorted(client.scan_iter(match=f"{broker.INFLIGHT_PREFIX}{queue}:*"))


def consume_one(url: str, queue: str, while_held=None):
    """One message from `queue` through shared.broker, as a worker takes it, acknowledged after
    `while_held(message)` has looked at Redis; None if none came."""
    received = []
    with Connection(url, transport="shared.broker:Transport") as connection:
        def on_message(body, message):
            received.append(message)
            if while_held is not None:
                while_held(message)
            message.ack()
        with Consumer(connection, [Queue(queue, routing_key=queue)], callbacks=[on_message]):
            deadline = time.monotonic() + 5
            while not received and time.monotonic() < deadline:
                try:
                    connection.drain_events(timeout=1)  # an entry refused is an event too
                except TimeoutError:
                    pass
    return received[0] if received else None


def restore_stranded(url: str, queue: str, now: float) -> int:
    """What the periodic restore of a worker consuming `queue` puts back, at `now` (visibility timeout 10 s:
    an in-flight list older than its BLMOVE's timeout (1 s) and 5 s is a dead consumer's)."""
    with Connection(url, transport="shared.broker:Transport",
                    transport_options={"visibility_timeout": 10}) as connection:
        channel = connection.default_channel
        Consumer(channel, [Queue(queue, routing_key=queue)], callbacks=[lambda body, message: None]).consume()
        return channel.restore_stranded(now=now)


def test_an_entry_taken_by_a_consumer_killed_before_recording_it_is_put_back_and_delivered(isolated):
    url, client = isolated
    queue = f"kill-{uuid.uuid4().hex[:8]}"
    consumer = subprocess.Popen([sys.executable, "-c", DYING_CONSUMER, url, queue], stdout=subprocess.PIPE,
                                text=True, cwd=os.getcwd())
    try:
        assert consumer.stdout.readline().strip() == "ready"
        raw = entry(queue)
        client.lpush(queue, raw)
        assert consumer.wait(20) == -signal.SIGKILL
    finally:
        consumer.kill()
    # Off the list and never recorded as unacknowledged: stock kombu had lost it here.
    assert client.llen(queue) == 0
    assert client.hlen("unacked") == 0
    [inflight] = inflight_lists(client, queue)
    assert client.lrange(inflight, 0, -1) == [raw]

    # Not yet: the consumer might only be slow. Once its BLMOVE is long past, it goes back.
    assert restore_stranded(url, queue, now=time.time()) == 0
    assert client.llen(queue) == 0
    assert restore_stranded(url, queue, now=time.time() + 7) == 1
    assert client.lrange(queue, 0, -1) == [raw]
    assert inflight_lists(client, queue) == []

    message = consume_one(url, queue)
    assert message is not None and message.headers["task"] == "notify.send_message"
    assert client.llen(queue) == 0 and client.hlen("unacked") == 0 and inflight_lists(client, queue) == []


def test_a_delivered_entry_is_recorded_unacknowledged_and_in_no_inflight_list(isolated):
    url, client = isolated
    queue = f"plain-{uuid.uuid4().hex[:8]}"
    client.lpush(queue, entry(queue))
    held = []

    def where_it_is(message):
        # In the unacknowledged hash, and in no in-flight list: one place, not two.
        held.append((client.hkeys("unacked"), inflight_lists(client, queue), client.llen(queue)))

    message = consume_one(url, queue, while_held=where_it_is)
    assert message is not None
    assert held == [([message.delivery_tag.encode()], [], 0)]
    assert client.hlen("unacked") == 0 and client.llen(queue) == 0


def test_refused_entries_even_an_empty_one_leave_no_inflight_list_behind(isolated):
    url, client = isolated
    queue = f"refused-{uuid.uuid4().hex[:8]}"
    client.lpush(queue, b"not json", b"")  # an empty entry is an entry, not "nothing came"
    client.lpush(queue, entry(queue))
    message = consume_one(url, queue)
    assert message is not None  # the good entry after the bad one
    assert client.llen(queue) == 0
    assert inflight_lists(client, queue) == []
    assert client.hlen("unacked") == 0


def test_entries_on_a_priority_sub_list_are_moved_onto_the_list_the_workers_watch(isolated):
    url, client = isolated
    queue = f"pri-{uuid.uuid4().hex[:8]}"
    raw = entry(queue)
    client.lpush(f"{queue}\x06\x163", raw)  # where a Celery client sending with priority 3 puts it
    assert restore_stranded(url, queue, now=time.time()) == 1
    assert client.lrange(queue, 0, -1) == [raw]
    assert consume_one(url, queue) is not None


def test_only_the_queues_own_inflight_lists_are_restored(isolated):
    url, client = isolated
    queue = f"own-{uuid.uuid4().hex[:8]}"
    old = int((time.time() - 3600) * 1000)
    client.rpush(f"{broker.INFLIGHT_PREFIX}{queue}-other:{old}:abc", b"x")  # another queue's, of a similar name
    client.rpush(f"{broker.INFLIGHT_PREFIX}{queue}:not-a-time:abc", b"y")  # not a name this module makes
    client.rpush(f"{broker.INFLIGHT_PREFIX}{queue}:{old}:abc", b"z")
    assert restore_stranded(url, queue, now=time.time()) == 1
    assert client.lrange(queue, 0, -1) == [b"z"]
    assert client.llen(f"{broker.INFLIGHT_PREFIX}{queue}-other:{old}:abc") == 1


def test_a_channel_keeps_one_redis_client_for_acknowledging_recording_and_publishing(isolated, monkeypatch):
    """kombu asked for a new Redis client for every acknowledgement, delivery record and publish, each
    95 µs of CPU with redis-py 8 (issue 14); the channel keeps one, and a new one once its pool is replaced
    (as kombu does when the connection to Redis was lost)."""
    url, client = isolated
    queue = f"kept-{uuid.uuid4().hex[:8]}"
    made = []
    create = broker.Channel._create_client
    monkeypatch.setattr(broker.Channel, "_create_client",
                        lambda self, asynchronous=False: made.append(asynchronous) or create(self, asynchronous))
    with Connection(url, transport="shared.broker:Transport") as connection:
        channel = connection.default_channel
        received = []

        def on_message(body, message):
            received.append(body)
            message.ack()
        with Consumer(channel, [Queue(queue, routing_key=queue)], callbacks=[on_message]):
            producer = connection.Producer(channel)
            for n in range(3):
                producer.publish({"n": n}, routing_key=queue)
            deadline = time.monotonic() + 5
            while len(received) < 3 and time.monotonic() < deadline:
                try:
                    connection.drain_events(timeout=1)
                except TimeoutError:
                    pass
        assert received == [{"n": 0}, {"n": 1}, {"n": 2}]
        assert made.count(False) == 1  # three publishes, three records, three acknowledgements: one client
        with channel.conn_or_acquire() as first, channel.conn_or_acquire() as second:
            assert first is second
        channel._pool = None  # what kombu does when the connection was lost
        with channel.conn_or_acquire() as renewed:
            assert renewed is not first and renewed.connection_pool is channel.pool
            assert renewed.ping()
    assert client.hlen("unacked") == 0 and client.llen(queue) == 0
