"""Tasks the notify worker consumes: validate (ContractTask), then call domain code.

A message is sent in one task where nothing forces a second (issue 14): `send_message`
accepts it and, when it is due now, claims it in the same transaction and sends it itself right
after that has committed.
`deliver_message` sends whatever else is to be sent: a message accepted over HTTP (a request
does not wait on a provider), one to be tried again later, one released after quiet hours
or swept up by `requeue_stuck_messages`, and the net `send_message` leaves in the outbox with its
claim: a task that ends between the accept's commit and the send (or its hand-over) leaves the message
`sending` and the net unmarked, and the relay publishes the net after its grace.
"""

import logging
import random

from celery import shared_task

from services.notify.context import notify_context
from services.notify.domain import delivery, messages
from services.notify.providers import CircuitOpen, TransientError, providers_for
from shared import contracts
from shared.backoff import backoff_seconds
from shared.celery_app import max_task_delay
from shared.contract_task import ContractTask
from shared.db import after_commit, utcnow
from shared.logs import request_id_var

log = logging.getLogger(__name__)


@shared_task(name=contracts.SEND_MESSAGE, base=ContractTask, bind=True)
def send_message(self, session, payload):
    context = notify_context()
    message, created = messages.accept_message(session, payload, context.policy, queue=False)
    # Only a message this task created, due now (written `sending` for this task to claim): a repeated
    # idempotency key finds the first message, which its own task sends; a redelivered task id stops
    # in the inbox before it gets here.
    if not (created and message.status == messages.SENDING):
        return
    now = utcnow()
    try:
        # Claimed in the accept's transaction (its send lock taken, the circuits asked): no second
        # transaction to claim it after the commit.
        permit = delivery.claim_accepted(session, context.policy, context.circuit, context.send_locks,
                                         providers_for(self.runtime.settings, message.channel), message, now)
    except TransientError as exc:  # the send lock held, every circuit open: not now, and not an attempt
        after_commit(session, lambda failure=exc: _try_later(self, message, failure))
    except Exception as exc:
        # Redis away (or a bug): deliver_message sends it, queued through the outbox in this very
        # transaction, so that a worker terminated after the commit (Celery ends a late-acked task
        # whose broker connection is lost) cannot lose it; the relay publishes it once Redis is back.
        log.warning("message %s could not be claimed by the task that accepted it (%s: %s); queued for delivery",
                    message.id, type(exc).__name__, exc)
        messages.queue_delivery(session, message.id)
    else:
        # The net: deliver_message in the outbox, written with the claim and not published. The task
        # marks it done once the message is sent or handed over; should the task end between the
        # commit and that (Celery ends a late-acked task whose broker connection is lost, and a copy
        # of the task replayed after Redis lost its data stops in the inbox), the relay publishes it
        # after its grace and deliver_message sends the message, `sending` with its lock gone or
        # expired: in seconds, not at the stuck sweep (tests/faults/test_redis_lost.py found this).
        net = messages.queue_delivery(session, message.id, publish=False)
        after_commit(session, lambda: _send_claimed(self, message, permit, now, net))


def _send_claimed(task, message, permit, now, net) -> None:
    """Send the message just accepted and claimed; what cannot be sent now goes to `deliver_message`,
    as its own retry would. Never raises: the accept has committed, and the message must not be lost.
    Once the message is sent or handed over, its net is marked done; otherwise the relay publishes it."""
    context = notify_context()
    try:
        delivery.deliver_claimed(task.runtime.database, context.circuit, context.send_locks, permit, message, now)
        handled = True
    except TransientError as exc:
        handled = _try_later(task, message, exc)
    except Exception:
        # The database away for the outcome, Redis for the lock's release, a bug: deliver_message tries again.
        log.exception("message %s could not be sent by the task that accepted it; queued for delivery", message.id)
        handled = _hand_over(task, message.id, 0)
    if handled:
        task.runtime.relay.marks.add([net.id])


def _try_later(task, message, exc: TransientError) -> bool:
    """Hand the message over for its next try, or fail it when it had its tries; True once done."""
    delay = _next_try(task, message.id, exc, attempts=1)
    return True if delay is None else _hand_over(task, message.id, delay)


def _hand_over(task, message_id: int, countdown: float) -> bool:
    """Queue `deliver_message` for the message in `countdown` seconds, published at once as Celery's
    own retry is; when Redis cannot take it, through the outbox, whose relay publishes it once Redis
    is back. False when even that fails: the message is still `accepted` (or `sending`), and its net,
    if it has one, or the stuck sweep finds it."""
    payload = messages.delivery_payload(message_id)
    try:
        contracts.check_outgoing(contracts.DELIVER_MESSAGE, payload)
        # Its parent is this task, and it carries the request id on, as the outbox's rows do.
        task.app.send_task(contracts.DELIVER_MESSAGE, args=[payload], countdown=countdown, retry=False,
                           parent_id=task.request.id, headers={"request_id": request_id_var.get()})
        return True
    except Exception:
        log.warning("could not publish the delivery of message %s; through the outbox instead", message_id)
        try:
            with task.runtime.database.transaction() as session:
                messages.queue_delivery(session, message_id)
            return True
        except Exception:
            log.exception("message %s left for the relay or the stuck sweep", message_id)
            return False


def _next_try(task, message_id: int, exc: TransientError, attempts: int) -> float | None:
    """Seconds until delivery is tried again after `exc`, or None: the message had its tries and is failed.

    `attempts` counts the tries when `exc` does not (the send lock was held by another worker)."""
    policy = notify_context().policy
    if isinstance(exc, CircuitOpen):
        # Not an attempt: wait for the first circuit to half-open, however often that takes.
        return min(exc.wait_seconds + random.uniform(0, 2), max_task_delay(task.app))
    attempts = getattr(exc, "attempts", attempts)
    if attempts > policy.max_retries:
        delivery.give_up(task.runtime.database, message_id, str(exc))
        return None
    return backoff_seconds(attempts - 1, max_task_delay(task.app), policy.retry_base_seconds)


@shared_task(name=contracts.DELIVER_MESSAGE, base=ContractTask, transactional=False, bind=True,
             max_retries=None)  # bounded by the message's attempts (NOTIFY_MAX_RETRIES), not by Celery
def deliver_message(self, payload):
    runtime, context = self.runtime, notify_context()
    try:
        delivery.deliver(runtime.database, runtime.settings, context.policy, context.circuit, context.send_locks,
                         payload["message_id"], utcnow())
    except TransientError as exc:
        delay = _next_try(self, payload["message_id"], exc, attempts=self.request.retries + 1)
        if delay is not None:
            raise self.retry(countdown=delay, exc=exc) from None


@shared_task(name=contracts.REQUEUE_STUCK_MESSAGES, base=ContractTask)
def requeue_stuck_messages(session, payload):
    messages.requeue_stuck(session, notify_context().policy)


@shared_task(name=contracts.RELEASE_HELD_MESSAGES, base=ContractTask)
def release_held_messages(session, payload):
    messages.release_held(session, utcnow())


@shared_task(name=contracts.PURGE_MESSAGE_BODIES, base=ContractTask)
def purge_message_bodies(session, payload):
    messages.purge_bodies(session, utcnow(), notify_context().policy)
