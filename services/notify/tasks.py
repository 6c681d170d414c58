"""Tasks the notify worker consumes: validate (ContractTask), then call domain code."""

from celery import shared_task

from services.notify.domain import delivery, messages
from services.notify.providers import TransientError
from shared import contracts
from shared.backoff import backoff_seconds
from shared.celery_app import max_task_delay
from shared.contract_task import ContractTask

MAX_DELIVERY_RETRIES = 8


@shared_task(name=contracts.SEND_MESSAGE, base=ContractTask)
def send_message(session, payload):
    messages.accept_message(session, payload)


@shared_task(name=contracts.DELIVER_MESSAGE, base=ContractTask, transactional=False, bind=True,
             max_retries=MAX_DELIVERY_RETRIES)
def deliver_message(self, payload):
    runtime = self.app.flask_app.extensions["yizhan"]
    try:
        delivery.deliver(runtime.database, runtime.settings, payload["message_id"])
    except TransientError as exc:
        if self.request.retries >= self.max_retries:
            delivery.give_up(runtime.database, payload["message_id"], str(exc))
            return
        raise self.retry(countdown=backoff_seconds(self.request.retries, max_task_delay(self.app)),
                         exc=exc) from None


@shared_task(name=contracts.REQUEUE_STUCK_MESSAGES, base=ContractTask)
def requeue_stuck_messages(session, payload):
    messages.requeue_stuck(session)
