"""A booking after its request: the desk's decision, cancellation, check-in,
and the sweeps that mark no-shows, completions and send reminders.

pending_review → approved | rejected | cancelled;
approved → cancelled | checked_in | no_show; checked_in → completed (SPEC §4).
"""

from datetime import datetime, timedelta

from sqlalchemy import select

from services.booking.domain import integrity
from services.booking.domain.notices import notify_booker
from services.booking.domain.requests import get_booking, record_status, series_bookings
from services.booking.domain.statuses import (APPROVED, CANCELLABLE, CANCELLED, CHECKED_IN, COMPLETED, NO_SHOW,
                                              PENDING_REVIEW, REJECTED)
from services.booking.models import Booking
from shared import contracts
from shared.errors import Conflict
from shared.outbox import enqueue
from shared.timefmt import STATION_TZ, local_text, to_station_time

REMINDER_FROM_HOUR = 9  # reminders go out from 09:00 on the day before (station time)


def apply_review_decision(session, data: dict) -> list[Booking]:
    """Approve or reject a pending request (every pending occurrence of a series); tell the booker once."""
    first = session.get(Booking, data["booking_id"])
    if first is None:
        raise Conflict(f"no booking {data['booking_id']}", code="unknown_booking")
    new_status = APPROVED if data["decision"] == "approve" else REJECTED
    decided = []
    for booking in series_bookings(session, first):
        if booking.status != PENDING_REVIEW:
            continue  # cancelled meanwhile, or a repeated decision: nothing to do
        booking.status = new_status
        booking.review_reason = data.get("reason")
        record_status(session, booking, PENDING_REVIEW, new_status, data["decided_by"], data.get("reason"))
        decided.append(booking)
    if decided:
        extra = {"reason": data.get("reason") or ""} if new_status == REJECTED else {}
        notify_booker(session, decided[0], f"booking_{new_status}", **extra)
    return decided


def cancel_booking(session, booking_id: int, actor: str, by_staff: bool, reason: str | None, now: datetime,
                   policy) -> Booking:
    booking = get_booking(session, booking_id)
    if booking.status not in CANCELLABLE:
        raise Conflict(f"该预约已是“{booking.status}”,不能取消 A booking that is {booking.status} cannot be cancelled.",
                       {"status": [booking.status]}, code="invalid_transition")
    was = booking.status
    booking.status = CANCELLED
    record_status(session, booking, was, CANCELLED, actor, reason)
    if was == PENDING_REVIEW and not any(b.status == PENDING_REVIEW for b in series_bookings(session, booking)):
        first = series_bookings(session, booking)[0]
        enqueue(session, contracts.WITHDRAW_REVIEW, {
            "v": contracts.CONTRACT_VERSION, "idempotency_key": f"booking:{first.id}:withdraw",
            "booking_id": first.id, "reason": reason or "cancelled by the booker"})
    notify_booker(session, booking, "booking_cancelled")
    if not by_staff and is_late_cancellation(booking, was, now, policy):
        integrity.record_violation(session, booking.organization, "late_cancellation", booking, now, policy)
    return booking


def is_late_cancellation(booking: Booking, was: str, now: datetime, policy) -> bool:
    """Late: on the day itself, or within 24 h of the start once approved (the station's integrity rules)."""
    on_the_day = to_station_time(now).date() >= to_station_time(booking.start).date()
    close_to_start = was == APPROVED and booking.start - now < timedelta(hours=policy.late_cancellation_hours)
    return on_the_day or close_to_start


def cancellation_cost(booking: Booking, now: datetime, policy) -> dict:
    """What cancelling now would cost the organisation, for a page to say before it asks to confirm.

    Read-only; the same rule cancel_booking applies (staff cancelling cost nothing, but the
    organisation is the one who reads this)."""
    late = booking.status in CANCELLABLE and is_late_cancellation(booking, booking.status, now, policy)
    return {"cancellation_would_be_late": late,
            "cancellation_cost_points": -policy.late_cancellation_points if late else 0}


def check_in_window(booking: Booking, policy) -> dict:
    """From 15 minutes before to 30 minutes after the start (BOOKING_CHECK_IN_*_MINUTES); check_in
    applies it, and GET /bookings/{id} shows it, so the door page says when to scan."""
    return {"check_in_opens": booking.start - timedelta(minutes=policy.check_in_before_minutes),
            "check_in_closes": booking.start + timedelta(minutes=policy.check_in_after_minutes)}


def check_in(session, booking_id: int, actor: str, now: datetime, policy) -> Booking:
    booking = get_booking(session, booking_id)
    window = check_in_window(booking, policy)
    opens, closes = window["check_in_opens"], window["check_in_closes"]
    if booking.status != APPROVED:
        raise Conflict(f"只有已通过的预约可以签到 Only an approved booking can be checked in (this one is "
                       f"{booking.status}).", {"status": [booking.status]}, code="invalid_transition")
    if not opens <= now <= closes:
        raise Conflict(f"签到时间为{local_text(opens)}至{local_text(closes)} Check-in is open from "
                       f"{local_text(opens)} to {local_text(closes)}.", {"at": ["outside the check-in window"]},
                       code="check_in_window")
    booking.status, booking.checked_in_at = CHECKED_IN, now
    record_status(session, booking, APPROVED, CHECKED_IN, actor, None)
    return booking


def sweep_attendance(session, now: datetime, policy) -> dict:
    """No-show when nobody checked in by 30 minutes after the start; completed after the end."""
    late = now - timedelta(minutes=policy.check_in_after_minutes)
    no_shows = session.scalars(select(Booking).where(Booking.status == APPROVED, Booking.start < late)).all()
    for booking in no_shows:
        booking.status = NO_SHOW
        record_status(session, booking, APPROVED, NO_SHOW, "system", "not checked in")
        integrity.record_violation(session, booking.organization, "no_show", booking, now, policy)
    finished = session.scalars(select(Booking).where(Booking.status == CHECKED_IN, Booking.end <= now)).all()
    for booking in finished:
        booking.status = COMPLETED
        record_status(session, booking, CHECKED_IN, COMPLETED, "system", None)
    return {"no_show": len(no_shows), "completed": len(finished)}


def queue_reminders(session, now: datetime) -> int:
    """Remind the booker of tomorrow's approved bookings, once, from 09:00 the day before."""
    local_now = to_station_time(now)
    if local_now.hour < REMINDER_FROM_HOUR:
        return 0
    tomorrow = datetime.combine(local_now.date() + timedelta(days=1), datetime.min.time(), tzinfo=STATION_TZ)
    due = session.scalars(select(Booking).where(
        Booking.status == APPROVED, Booking.reminder_queued_at.is_(None),
        Booking.start >= tomorrow, Booking.start < tomorrow + timedelta(days=1))).all()
    for booking in due:
        booking.reminder_queued_at = now
        notify_booker(session, booking, "booking_reminder")
    return len(due)
