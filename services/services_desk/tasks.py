"""Tasks the desk worker consumes: validate (ContractTask), then call domain code."""

from celery import shared_task

from services.services_desk.context import desk_context
from services.services_desk.domain import digest, reviews, tickets
from shared import contracts
from shared.contract_task import ContractTask
from shared.db import utcnow
from shared.timefmt import to_station_time


@shared_task(name=contracts.REVIEW_BOOKING, base=ContractTask)
def review_booking(session, payload):
    reviews.open_review(session, payload)


@shared_task(name=contracts.WITHDRAW_REVIEW, base=ContractTask)
def withdraw_review(session, payload):
    reviews.withdraw_review(session, payload)


@shared_task(name=contracts.CREATE_TICKET, base=ContractTask)
def create_ticket(session, payload):
    """Same code as POST /tickets; a refusal (unknown type, not a mobile number) is a dead letter."""
    tickets.create_ticket(session, payload, "system", tickets.TASK_OWNER, desk_context().calendar,
                          to_station_time(utcnow()).date())


@shared_task(name=contracts.SEND_STAFF_DIGEST, base=ContractTask)
def send_staff_digest(session, payload):
    context = desk_context()
    digest.queue_staff_digest(session, context.digest_recipients, context.calendar, utcnow())
