"""Tasks the notify worker consumes: validate (ContractTask), then call domain code."""

import random

from celery import shared_task

from services.notify.context import notify_context
from services.notify.domain import delivery, messages
from services.notify.providers import CircuitOpen, TransientError
from shared import contracts
from shared.backoff import backoff_seconds
from shared.celery_app import max_task_delay
from shared.contract_task import ContractTask
from shared.db import utcnow


@shared_task(name=contracts.SEND_MESSAGE, base=ContractTask)
def send_message(session, payload):
    messages.accept_message(session, payload, notify_context().policy)


@shared_task(name=contracts.DELIVER_MESSAGE, base=ContractTask, transactional=False, bind=True,
             max_retries=None)  # bounded by the message's attempts (NOTIFY_MAX_RETRIES), not by Celery
def deliver_message(self, payload):
    runtime, context = self.runtime, notify_context()
    policy = context.policy
    try:
        delivery.deliver(runtime.database, runtime.settings, policy, context.circuit, context.send_locks,
                         payload["message_id"], utcnow())
    except CircuitOpen as exc:
        # Not an attempt: wait for the first circuit to half-open, however often that takes.
        delay = min(exc.wait_seconds + random.uniform(0, 2), max_task_delay(self.app))
        raise self.retry(countdown=delay, exc=exc) from None
    except TransientError as exc:
        attempts = getattr(exc, "attempts", self.request.retries + 1)
        if attempts > policy.max_retries:
            delivery.give_up(runtime.database, payload["message_id"], str(exc))
            return
        delay = backoff_seconds(attempts - 1, max_task_delay(self.app), policy.retry_base_seconds)
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
