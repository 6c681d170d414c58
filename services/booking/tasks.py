"""Tasks the booking worker consumes: validate (ContractTask), then call domain code."""

from celery import shared_task

from services.booking.domain import bookings
from shared import contracts
from shared.contract_task import ContractTask


@shared_task(name=contracts.APPLY_REVIEW_DECISION, base=ContractTask)
def apply_review_decision(session, payload):
    bookings.apply_review_decision(session, payload)


@shared_task(name=contracts.REQUEST_BOOKING, base=ContractTask)
def request_booking(session, payload):
    bookings.request_booking(session, payload, actor="system")
