"""The integrity (诚信) ledger: each organisation's credit is the sum of its events.

Defaults (services/booking/policy.py, README): start at 100; a late
cancellation costs 5, a no-show 10; three violations within 90 days suspend
booking for 30 days; every clean calendar month gives 2 back, up to 100.
"""

import functools
from datetime import datetime, timedelta

from sqlalchemy import bindparam, func, or_, select
from sqlalchemy.orm import aliased

from services.booking.domain.notices import notify_organization
from services.booking.models import CreditEvent, Organization
from shared.db import UTCDateTime, one_of
from shared.errors import Conflict, Refused
from shared.timefmt import local_text, to_station_time

VIOLATIONS = ("late_cancellation", "no_show")


def credit_score(session, organization_id: int, policy) -> int:
    points = session.scalar(select(func.coalesce(func.sum(CreditEvent.points), 0))
                            .where(CreditEvent.organization_id == organization_id))
    return policy.start_score + int(points)


def last_lift_id(session, organization_id: int) -> int:
    """The ledger id of the last suspension staff lifted (0 if none): it ends every suspension before it.
    By id, not time: the ledger is append-only, and a rule's event may carry a time later than the lift's."""
    return session.scalar(select(func.coalesce(func.max(CreditEvent.id), 0)).where(
        CreditEvent.organization_id == organization_id, CreditEvent.kind == "suspension_lifted"))


def suspended_until(session, organization_id: int, now: datetime) -> datetime | None:
    until = session.scalar(select(func.max(CreditEvent.suspended_until)).where(
        CreditEvent.organization_id == organization_id, CreditEvent.kind == "suspension",
        CreditEvent.id > last_lift_id(session, organization_id)))
    if until is not None and until.tzinfo is None:  # SQLite's max() skips the column type
        until = until.replace(tzinfo=now.tzinfo)
    return until if until is not None and until > now else None


def recent_violations(session, organization_id: int, now: datetime, policy) -> int:
    """Violations in the rolling window, counting only those after the last suspension began
    and after staff last lifted one (a lift is a fresh start)."""
    since = now - timedelta(days=policy.violation_window_days)
    last_suspension = session.scalar(select(func.max(CreditEvent.at)).where(
        CreditEvent.organization_id == organization_id, CreditEvent.kind == "suspension"))
    query = select(func.count(CreditEvent.id)).where(
        CreditEvent.organization_id == organization_id, CreditEvent.kind.in_(VIOLATIONS), CreditEvent.at >= since)
    if last_suspension is not None:
        query = query.where(CreditEvent.at >= last_suspension)
    return session.scalar(query.where(CreditEvent.id > last_lift_id(session, organization_id)))


def refuse_if_suspended(session, organization: Organization, now: datetime, summary: dict | None = None) -> None:
    """Refuse while a suspension is in force; `summary` (credit_summary's) saves reading the ledger again."""
    until = summary["suspended_until"] if summary is not None else suspended_until(session, organization.id, now)
    if until is not None:
        raise Refused(f"{organization.name}的预约资格暂停至{local_text(until)} "
                      f"Booking is suspended for this organisation until {local_text(until)}.",
                      {"organization_id": [f"suspended until {until.isoformat()}"]}, code="suspended")


def record_violation(session, organization: Organization, kind: str, booking, now: datetime, policy) -> CreditEvent:
    """Take the points, tell the organisation, and suspend it at the third violation."""
    points = policy.late_cancellation_points if kind == "late_cancellation" else policy.no_show_points
    event = CreditEvent(organization_id=organization.id, kind=kind, points=points, booking_id=booking.id, at=now,
                        note=f"booking {booking.id}")
    session.add(event)
    session.flush()
    score = credit_score(session, organization.id, policy)
    violations = recent_violations(session, organization.id, now, policy)
    if violations >= policy.violations_to_suspend and suspended_until(session, organization.id, now) is None:
        until = now + timedelta(days=policy.suspension_days)
        session.add(CreditEvent(organization_id=organization.id, kind="suspension", points=0, at=now,
                                suspended_until=until, note=f"{violations} violations in {policy.violation_window_days} days"))
        notify_organization(session, organization, "credit_suspended", f"suspended:{event.id}",
                            until=local_text(until), score=str(score))
    else:
        notify_organization(session, organization, "credit_warning", f"warning:{event.id}",
                            violation=_violation_text(kind), points=str(-points), score=str(score),
                            remaining=str(max(policy.violations_to_suspend - violations, 0)))
    return event


def _violation_text(kind: str) -> str:
    return {"late_cancellation": "临时取消预约 late cancellation", "no_show": "预约未到场 no-show"}[kind]


def recover_monthly_credit(session, now: datetime, policy) -> int:
    """Give back points for the last calendar month without a violation (idempotent per month)."""
    local_now = to_station_time(now)
    month_start = local_now.replace(day=1, hour=0, minute=0, second=0, microsecond=0)
    previous_start = (month_start - timedelta(days=1)).replace(day=1)
    period = previous_start.strftime("%Y-%m")
    recovered = 0
    for organization in session.scalars(select(Organization)):
        score = credit_score(session, organization.id, policy)
        if score >= policy.start_score:
            continue
        violated = session.scalar(select(func.count(CreditEvent.id)).where(
            CreditEvent.organization_id == organization.id, CreditEvent.kind.in_(VIOLATIONS),
            CreditEvent.at >= previous_start, CreditEvent.at < month_start))
        paid = session.scalar(select(func.count(CreditEvent.id)).where(
            CreditEvent.organization_id == organization.id, CreditEvent.kind == "recovery",
            CreditEvent.period == period))
        if violated or paid:
            continue
        session.add(CreditEvent(organization_id=organization.id, kind="recovery", period=period, at=now,
                                points=min(policy.monthly_recovery_points, policy.start_score - score),
                                note=f"no violation in {period}"))
        recovered += 1
    return recovered


def credit_summary(session, organization: Organization, now: datetime, policy) -> dict:
    """The score, the suspension in force and the recent violations, as credit_score(),
    suspended_until() and recent_violations() give them, in one statement (issue 14)."""
    row = session.execute(select(*credit_columns()), credit_parameters(organization.id, now, policy)).one()
    return summary_of(row, now, policy)


def credit_parameters(organization_id: int, now: datetime, policy) -> dict:
    """The parameters credit_columns() read: the organisation and the start of the violation window."""
    return {"organization_id": organization_id, "since": now - timedelta(days=policy.violation_window_days)}


def summary_of(row, now: datetime, policy) -> dict:
    """credit_summary's answer from a row holding credit_columns() (`points`, `until`, `violations`)."""
    until = row.until
    if until is not None and until.tzinfo is None:  # SQLite's max() skips the column type
        until = until.replace(tzinfo=now.tzinfo)
    return {"credit_score": policy.start_score + int(row.points),
            "suspended_until": until if until is not None and until > now else None,
            "recent_violations": int(row.violations)}


@functools.cache
def credit_columns() -> tuple:
    """The three answers as scalar subqueries, built once: each over its own alias of the ledger, so
    none correlates with another; a statement that selects them may select other things beside them
    (requests.py reads them with the venue and the organisation). Building them (five aliases) cost
    more than running them, on every request (issue 14's profile). Their parameters are
    `organization_id` and `since` (credit_parameters)."""
    organization_id, since = bindparam("organization_id"), bindparam("since", type_=UTCDateTime)

    def ledger():
        event = aliased(CreditEvent)
        return event, event.organization_id == organization_id

    lift, mine = ledger()
    last_lift = select(func.coalesce(func.max(lift.id), 0)).where(mine, lift.kind == "suspension_lifted").scalar_subquery()
    scored, mine = ledger()
    points = select(func.coalesce(func.sum(scored.points), 0)).where(mine).scalar_subquery()
    suspension, mine = ledger()
    until = select(func.max(suspension.suspended_until)).where(
        mine, suspension.kind == "suspension", suspension.id > last_lift).scalar_subquery()
    began, mine = ledger()
    last_suspension = select(func.max(began.at)).where(mine, began.kind == "suspension").scalar_subquery()
    violation, mine = ledger()
    violations = select(func.count(violation.id)).where(
        mine, one_of(violation.kind, VIOLATIONS), violation.at >= since,
        violation.id > last_lift, or_(last_suspension.is_(None), violation.at >= last_suspension)).scalar_subquery()
    return points.label("points"), until.label("until"), violations.label("violations")


# --- changes staff make by hand (issue 13), each with its reason and who made it ---------------

def adjust_credit(session, organization: Organization, points: int, reason: str, by: str, now: datetime,
                  policy) -> CreditEvent:
    """Add or take points by hand; the score stays between 0 and the start score, as the rules keep it."""
    score = credit_score(session, organization.id, policy)
    if not 0 <= score + points <= policy.start_score:
        raise Refused(f"调整后诚信分须在0至{policy.start_score}分之间(现为{score}分) "
                      f"The score must stay between 0 and {policy.start_score} (it is {score}).",
                      {"points": [f"between {-score} and {policy.start_score - score}"]})
    event = CreditEvent(organization_id=organization.id, kind="adjustment", points=points, at=now, note=reason,
                        recorded_by=by)
    session.add(event)
    session.flush()
    return event


def lift_suspension(session, organization: Organization, reason: str, by: str, now: datetime) -> CreditEvent:
    """End a suspension before its time; its violations no longer count towards the next one."""
    if suspended_until(session, organization.id, now) is None:
        raise Conflict(f"{organization.name}的预约资格没有被暂停 Booking is not suspended for this organisation.",
                       code="not_suspended")
    event = CreditEvent(organization_id=organization.id, kind="suspension_lifted", points=0, at=now, note=reason,
                        recorded_by=by)
    session.add(event)
    session.flush()
    return event
