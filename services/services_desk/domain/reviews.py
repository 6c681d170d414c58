"""Review cases: opened by booking, decided by staff, withdrawn on cancellation."""

from datetime import date

from sqlalchemy import select

from services.services_desk.models import ReviewCase
from shared import contracts
from shared.db import utcnow
from shared.errors import Conflict, NotFound
from shared.outbox import enqueue
from shared.timefmt import to_station_time

OPEN, APPROVED, REJECTED, WITHDRAWN = "open", "approved", "rejected", "withdrawn"


def open_review(session, payload: dict) -> ReviewCase:
    """One case per booking, whatever how often the request arrives.

    The task carries no token, so its key is scoped by the organisation it names: another
    organisation's equal key opens its own case. A repeat must agree on booking and organisation;
    one that does not is refused (a dead letter), never answered with the other's case.
    """
    organization_id, key, booking_id = payload["organization"]["id"], payload["idempotency_key"], payload["booking_id"]
    existing = session.scalar(select(ReviewCase).where(
        ((ReviewCase.organization_id == organization_id) & (ReviewCase.idempotency_key == key))
        | (ReviewCase.booking_id == booking_id)))
    if existing is not None:
        if (existing.booking_id, existing.organization_id) != (booking_id, organization_id):
            raise Conflict("审核请求与已有审核不符 This review request does not match the case already open "
                           "for its key or booking.", {"idempotency_key": ["used for another booking"]},
                           code="review_mismatch")
        return existing
    case = ReviewCase(
        booking_id=booking_id, organization_id=organization_id, idempotency_key=key, status=OPEN,
        venue=payload["venue"], organization=payload["organization"], start=payload["start"],
        end=payload["end"], title=payload["title"], attendees=payload["attendees"], contact=payload["contact"],
        series=_json_series(payload.get("series")),
    )
    session.add(case)
    session.flush()
    return case


def decide_review(session, review_id: int, decision: str, reason: str | None, actor: str) -> ReviewCase:
    case = session.get(ReviewCase, review_id, with_for_update=True)
    if case is None:
        raise NotFound(f"没有这个审核 No review {review_id}.")
    if case.status != OPEN:
        raise Conflict(f"该审核已是“{case.status}” This review is already {case.status}.",
                       {"status": [case.status]}, code="already_decided")
    case.status = APPROVED if decision == "approve" else REJECTED
    case.decided_at, case.decided_by, case.reason = utcnow(), actor, reason
    enqueue(session, contracts.APPLY_REVIEW_DECISION, {
        "v": contracts.CONTRACT_VERSION,
        "idempotency_key": f"review:{case.id}:decision",
        "booking_id": case.booking_id, "review_id": case.id,
        "decision": decision, "reason": reason, "decided_by": actor,
    })
    return case


def withdraw_review(session, payload: dict) -> ReviewCase | None:
    case = session.scalar(select(ReviewCase).where(ReviewCase.booking_id == payload["booking_id"]))
    if case is None or case.status != OPEN:
        return case
    case.status = WITHDRAWN
    case.decided_at, case.decided_by, case.reason = utcnow(), "booking", payload["reason"]
    return case


def review_due_date(case: ReviewCase, calendar) -> date:
    """Staff decide within one working day of the request reaching the desk."""
    return calendar.add_working_days(to_station_time(case.opened_at).date(), 1)


def is_overdue(case: ReviewCase, calendar, today: date) -> bool:
    return case.status == OPEN and today > review_due_date(case, calendar)


def get_review(session, review_id: int) -> ReviewCase:
    case = session.get(ReviewCase, review_id)
    if case is None:
        raise NotFound(f"没有这个审核 No review {review_id}.")
    return case


def _json_series(series: dict | None) -> dict | None:
    if not series:
        return None
    return {"id": series["id"], "occurrences": [
        {"booking_id": o["booking_id"], "start": o["start"].isoformat(), "end": o["end"].isoformat()}
        for o in series["occurrences"]]}
