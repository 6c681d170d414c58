"""Tasks the booking worker consumes: validate (ContractTask), then call domain code."""

from celery import shared_task

from services.booking.context import booking_context
from services.booking.domain import integrity, lifecycle, requests, statuses
from services.booking.models import RequestOutcome
from shared import contracts
from shared.contract_task import ContractTask
from shared.db import utcnow
from shared.errors import DomainError


@shared_task(name=contracts.APPLY_REVIEW_DECISION, base=ContractTask)
def apply_review_decision(session, payload):
    lifecycle.apply_review_decision(session, payload)


def task_owner(organization_id: int) -> str:
    """Whose key a task's is. A task carries no token, so its owner is the organisation it asks for,
    in a namespace of its own: a task never reaches a booking made over HTTP, nor one for another
    organisation (docs/tasks.md, "Idempotency key")."""
    return f"task:org:{organization_id}"


@shared_task(name=contracts.REQUEST_BOOKING, base=ContractTask)
def request_booking(session, payload):
    """Same code as POST /bookings; the outcome is kept for GET /booking-requests/{key}?organization_id=."""
    organization_id, key = payload["organization_id"], payload["idempotency_key"]
    if session.get(RequestOutcome, (organization_id, key)) is not None:
        return
    context = booking_context()
    try:
        with session.begin_nested():  # a refusal rolls back the request, not the outcome
            result = requests.request_booking(session, payload, "system", task_owner(organization_id),
                                              context.policy, context.calendar, utcnow())
    except DomainError as refusal:
        session.add(RequestOutcome(organization_id=organization_id, idempotency_key=key,
                                   status=statuses.OUTCOME_REFUSED, reason=refusal.message, fields=refusal.fields))
        return
    session.add(RequestOutcome(organization_id=organization_id, idempotency_key=key,
                               status=statuses.OUTCOME_ACCEPTED, booking_id=result.first.id))


@shared_task(name=contracts.SWEEP_ATTENDANCE, base=ContractTask)
def sweep_attendance(session, payload):
    lifecycle.sweep_attendance(session, utcnow(), booking_context().policy)


@shared_task(name=contracts.QUEUE_REMINDERS, base=ContractTask)
def queue_reminders(session, payload):
    lifecycle.queue_reminders(session, utcnow())


@shared_task(name=contracts.RECOVER_CREDIT, base=ContractTask)
def recover_credit(session, payload):
    integrity.recover_monthly_credit(session, utcnow(), booking_context().policy)
