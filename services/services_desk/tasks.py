"""Tasks the desk worker consumes: validate (ContractTask), then call domain code."""

from celery import shared_task

from services.services_desk.domain import reviews, tickets
from shared import contracts
from shared.contract_task import ContractTask


@shared_task(name=contracts.REVIEW_BOOKING, base=ContractTask)
def review_booking(session, payload):
    reviews.open_review(session, payload)


@shared_task(name=contracts.WITHDRAW_REVIEW, base=ContractTask)
def withdraw_review(session, payload):
    reviews.withdraw_review(session, payload)


@shared_task(name=contracts.CREATE_TICKET, base=ContractTask)
def create_ticket(session, payload):
    tickets.create_ticket(session, payload, actor="system")
