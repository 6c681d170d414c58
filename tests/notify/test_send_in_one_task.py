"""A message accepted by the notify.send_message task is sent by that same task (issue 14), with
every guarantee of the two-task path kept: sent once, retried with backoff when the provider
fails, never lost. A real SMTP server on the station's SMTP port, the test Redis and database."""

import base64
import dataclasses
import json
import uuid
from datetime import datetime, timedelta

import pytest
import redis
from sqlalchemy import select

from services.notify.domain import delivery, messages
from services.notify.domain.circuit import CircuitBreaker
from services.notify.models import Message
from services.notify.policy import NotifyPolicy
from services.notify.providers import providers_for
from shared import contracts
from shared.db import utcnow
from tests.conftest import auth
from tests.processes import refused_port
from tests.notify.test_messages import PARAMS, deliveries_queued
from tests.test_budgets import work
from yizhan.smtp_sink import start_sink

_keys = iter(range(1_000_000))


@pytest.fixture(scope="module")
def mail(station):
    """The SMTP server the station's settings point at (nobody listens there unless a test starts one)."""
    controller, sink = start_sink(int(station.env["SMTP_PORT"]))
    yield sink
    controller.stop()


@pytest.fixture
def task(station):
    import services.notify.tasks  # noqa: F401  (registers the tasks, as the worker does)

    return station.apps["notify"].extensions["yizhan"].celery.tasks


def email(recipient: str, key: str | None = None) -> dict:
    return {"v": 1, "idempotency_key": key or f"inline-{next(_keys)}", "channel": "email", "recipient": recipient,
            "template": "booking_approved", "params": PARAMS}


def message_for(station, key: str) -> Message:
    with station.database("notify").reader() as session:
        message = session.scalar(select(Message).where(Message.idempotency_scope == messages.TASK_SCOPE,
                                                       Message.idempotency_key == key))
        message.history
        return message


def mails_to(sink, address: str) -> list:
    return [m for m in sink.received if m["To"] == address]


def handed_over(station, task_id: str) -> list[dict]:
    """The deliver_message tasks the send_message task `task_id` published, as their headers and
    payload, from the `notify` list of the Redis the in-process apps publish to (which no worker reads)."""
    client = redis.Redis.from_url(station.settings.redis_url)
    try:
        entries = [json.loads(raw) for raw in client.lrange("notify", 0, -1)]
    finally:
        client.close()
    return [{**entry["headers"], "payload": json.loads(base64.b64decode(entry["body"]))[0][0]} for entry in entries
            if entry["headers"].get("task") == contracts.DELIVER_MESSAGE and entry["headers"].get("parent_id") == task_id]


def deliveries_left(station, message_id: int) -> list:
    """The deliver_message rows of the outbox the relay would still publish: those not marked, once the
    task's marks (the net it marks done after sending, shared.outbox.enqueue) are made."""
    station.apps["notify"].extensions["yizhan"].relay.marks.flush()
    return [row for row in deliveries_queued(station, message_id) if row.published_at is None]


def send(task, payload) -> str:
    """Run notify.send_message in-process, as a worker would; its task id."""
    task_id = str(uuid.uuid4())
    task[contracts.SEND_MESSAGE].apply(args=[payload], task_id=task_id)
    return task_id


def test_the_task_sends_the_message_it_accepts_without_a_deliver_message_task(station, mail, task):
    deliveries_run = work("notify", contracts.DELIVER_MESSAGE)
    payload = email("inline@example.org")
    task_id = send(task, payload)
    message = message_for(station, payload["idempotency_key"])
    assert message.status == "sent" and message.provider == "smtp" and message.attempts == 1
    assert [h.status for h in message.history] == ["accepted", "sending", "sent"]
    assert len(mails_to(mail, "inline@example.org")) == 1
    assert deliveries_left(station, message.id) == [] and handed_over(station, task_id) == []
    assert work("notify", contracts.DELIVER_MESSAGE) == deliveries_run


def test_a_redelivered_task_or_a_repeated_key_sends_nothing_again(station, mail, task):
    payload = email("inline-once@example.org")
    first = send(task, payload)
    task[contracts.SEND_MESSAGE].apply(args=[payload], task_id=first)  # redelivered: the inbox stops it
    again = send(task, payload)  # another task, the same key: the first message, already sent
    message = message_for(station, payload["idempotency_key"])
    assert message.status == "sent" and message.attempts == 1
    assert len(mails_to(mail, "inline-once@example.org")) == 1
    assert deliveries_left(station, message.id) == [] and handed_over(station, first) == handed_over(station, again) == []


def test_a_message_posted_over_http_is_left_to_deliver_message(station, mail):
    """A request must not wait on an SMTP server: POST /messages queues the delivery, as before."""
    body = {k: v for k, v in email("inline-http@example.org").items() if k != "v"}
    response = station.client("notify").post("/messages", headers=auth("system"), json=body)
    assert response.status_code == 202 and response.json["status"] == "accepted"
    assert len(deliveries_queued(station, response.json["id"])) == 1
    assert mails_to(mail, "inline-http@example.org") == []


def test_a_provider_failing_is_handed_to_deliver_message_with_its_backoff_then_sent(station, mail, task):
    mail.refusing = True
    try:
        payload = email("inline-retry@example.org")
        task_id = send(task, payload)
        message = message_for(station, payload["idempotency_key"])
    finally:
        mail.refusing = False
    assert message.status == "accepted" and message.attempts == 1
    assert "retrying: smtp:" in message.history[-1].detail
    # Published at once with the first retry's countdown (full jitter under NOTIFY_RETRY_BASE_SECONDS, 0.5 s
    # here), as deliver_message's own retry would be; not through the outbox, which knows no countdown.
    published, = handed_over(station, task_id)
    assert published["payload"] == messages.delivery_payload(message.id)
    countdown = (datetime.fromisoformat(published["eta"]) - utcnow()).total_seconds()
    assert -5 < countdown <= 0.5
    assert deliveries_left(station, message.id) == []  # its net is marked done: handed over

    task[contracts.DELIVER_MESSAGE].apply(args=[messages.delivery_payload(message.id)])
    message = message_for(station, payload["idempotency_key"])
    assert message.status == "sent" and message.attempts == 2
    assert len(mails_to(mail, "inline-retry@example.org")) == 1


def test_an_open_circuit_is_waited_out_and_is_not_an_attempt(station, mail, task):
    policy = NotifyPolicy.from_env(station.env)
    circuit = CircuitBreaker(station.settings.redis_url, policy)
    for _ in range(policy.circuit_threshold):
        circuit.failed("smtp", utcnow())
    try:
        payload = email("inline-circuit@example.org")
        task_id = send(task, payload)
    finally:
        circuit.succeeded("smtp")
    message = message_for(station, payload["idempotency_key"])
    assert message.status == "accepted" and message.attempts == 0
    assert mails_to(mail, "inline-circuit@example.org") == []
    published, = handed_over(station, task_id)
    assert published["payload"] == messages.delivery_payload(message.id)
    wait = (datetime.fromisoformat(published["eta"]) - utcnow()).total_seconds()
    assert policy.circuit_cooldown_seconds - 5 < wait <= policy.circuit_cooldown_seconds + 2


def test_a_message_whose_task_died_before_sending_is_queued_again_by_the_sweep(station):
    """The worker died between the accept's commit and the send, and its net is gone too: the message
    is `sending` (as the task's claim wrote it) with no outbox row and no send lock, and
    requeue_stuck_messages queues its delivery once it has waited long enough."""
    policy = NotifyPolicy()
    with station.database("notify").transaction() as session:
        message, created = messages.accept_message(session, email("inline-died@example.org"), policy, queue=False)
    assert created and (message.status, message.attempts, message.send_after) == ("sending", 1, None)
    assert deliveries_queued(station, message.id) == []
    with station.database("notify").transaction() as session:
        messages.requeue_stuck(session, policy, utcnow())
    assert deliveries_queued(station, message.id) == []  # not yet: a live task may still be sending it
    with station.database("notify").transaction() as session:
        messages.requeue_stuck(session, policy, utcnow() + timedelta(seconds=policy.stuck_after_seconds + 1))
    assert len(deliveries_queued(station, message.id)) == 1


def test_a_task_that_ends_between_its_commit_and_the_send_leaves_a_net_the_relay_publishes(station, mail, task,
                                                                                             monkeypatch):
    """Celery ends a late-acked task whose broker connection is lost, maybe right after the accept's
    commit; a copy of the task replayed after Redis lost its data then stops in the inbox. The net,
    deliver_message written with the claim and not marked done, is what the relay publishes: the message
    is sent in seconds, not at the stuck sweep (tests/faults/test_redis_lost.py lost one so)."""
    import services.notify.tasks as tasks
    from shared import outbox as outbox_module

    monkeypatch.setattr(tasks, "_send_claimed", lambda *args: None)  # the task ends after its commit
    payload = email("inline-net@example.org")
    send(task, payload)
    message = message_for(station, payload["idempotency_key"])
    assert (message.status, mails_to(mail, "inline-net@example.org")) == ("sending", [])
    net, = deliveries_left(station, message.id)
    relay = station.apps["notify"].extensions["yizhan"].relay
    monkeypatch.setattr(outbox_module, "RELAY_GRACE", timedelta(0))
    assert relay.relay_once() >= 1 and deliveries_left(station, message.id) == []
    redis.Redis.from_url(station.settings.redis_url).delete(f"yizhan:notify:sending:{message.id}")  # Redis forgot
    task[contracts.DELIVER_MESSAGE].apply(args=[net.payload])  # the task the relay published
    message = message_for(station, payload["idempotency_key"])
    assert message.status == "sent" and len(mails_to(mail, "inline-net@example.org")) == 1


def test_a_message_is_claimed_in_the_transaction_that_accepts_it_and_a_rollback_frees_its_send_lock(station):
    """The claim (the send lock, `sending`, attempt 1) goes in with the accept; should that transaction
    roll back, the lock it took is released at once, not left to expire over a message that never was."""
    policy, context = NotifyPolicy.from_env(station.env), station.apps["notify"].extensions["notify"]
    locks = context.send_locks
    with pytest.raises(RuntimeError):
        with station.database("notify").transaction() as session:
            message, created = messages.accept_message(session, email("inline-rollback@example.org"), policy,
                                                       queue=False)
            permit = delivery.claim_accepted(session, policy, context.circuit, locks,
                                             providers_for(station.settings, "email"), message, utcnow())
            assert [p.name for p in permit.allowed] == ["smtp"]
            assert (message.status, message.attempts) == ("sending", 1)
            assert locks.client.exists(locks.key(message.id))
            raise RuntimeError("the commit failed")
    assert not locks.client.exists(locks.key(message.id))


def test_a_message_whose_send_lock_is_held_is_left_accepted_and_handed_over(station, mail, task, monkeypatch):
    """The lock of a new message held (a stale lock over an id SQLite gave out again): not an attempt;
    deliver_message tries it later, as it would any message another worker is sending."""
    monkeypatch.setattr(delivery.SendLocks, "key", staticmethod(lambda message_id: "yizhan:notify:sending:held"))
    locks = station.apps["notify"].extensions["notify"].send_locks
    locks.client.set("yizhan:notify:sending:held", "1", ex=30)
    try:
        payload = email("inline-held@example.org")
        task_id = send(task, payload)
    finally:
        locks.client.delete("yizhan:notify:sending:held")
    message = message_for(station, payload["idempotency_key"])
    assert (message.status, message.attempts) == ("accepted", 0)
    assert [h.status for h in message.history] == ["accepted"]
    assert mails_to(mail, "inline-held@example.org") == []
    published, = handed_over(station, task_id)
    assert published["payload"] == messages.delivery_payload(message.id)


def test_a_message_that_cannot_be_claimed_with_redis_away_is_queued_in_the_accepts_own_transaction(station, task,
                                                                                                   monkeypatch):
    """Redis refuses the send lock: the delivery is queued through the outbox in the accept's own
    transaction, not published after it, so a worker Celery terminates after the commit (its broker
    connection lost, tests/faults/test_redis_lost.py) cannot leave the message unsent."""
    app = station.apps["notify"]
    with refused_port() as port:
        away = delivery.SendLocks(f"redis://127.0.0.1:{port}/0", 30)
        monkeypatch.setitem(app.extensions, "notify", dataclasses.replace(app.extensions["notify"], send_locks=away))
        payload = email("inline-redis-away@example.org")
        send(task, payload)
    message = message_for(station, payload["idempotency_key"])
    assert (message.status, message.attempts) == ("accepted", 0)
    assert len(deliveries_queued(station, message.id)) == 1
