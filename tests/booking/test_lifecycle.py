"""After the request: decision, cancellation, check-in, no-shows, completion, reminders."""

import pytest
from sqlalchemy import select

from services.booking.domain import lifecycle
from services.booking.models import Booking, CreditEvent
from shared import contracts
from shared.errors import Conflict
from tests.booking.conftest import station_time

REQUESTED = "2026-03-02 10:00"
START = "2026-03-10 09:00"


def outbox_tasks(desk, since_id=None):
    outbox = desk.database.infrastructure.outbox
    with desk.database.reader() as session:
        return [(r.task_name, r.payload) for r in session.scalars(select(outbox).order_by(outbox.created_at))]


def messages_about(desk, booking_id):
    return [p["template"] + ":" + p["channel"] for name, p in outbox_tasks(desk)
            if name == contracts.SEND_MESSAGE and p["idempotency_key"].startswith(f"booking:{booking_id}:")]


def decide(desk, booking_id, decision="approve", reason=None):
    with desk.database.transaction() as session:
        return lifecycle.apply_review_decision(session, {"booking_id": booking_id, "decision": decision,
                                                         "reason": reason, "decided_by": "staff-wang"})


def act(desk, function, *args, now):
    with desk.database.transaction() as session:
        return function(session, *args, station_time(now), desk.policy)


def status(desk, booking_id):
    with desk.database.reader() as session:
        booking = session.get(Booking, booking_id)
        booking.history
        return booking.status, [(h.from_status, h.to_status, h.actor) for h in booking.history]


def credit_events(desk):
    with desk.database.reader() as session:
        return [(e.kind, e.points) for e in session.scalars(
            select(CreditEvent).where(CreditEvent.organization_id == desk.organization_id).order_by(CreditEvent.id))]


def test_approval_and_rejection_are_recorded_and_told(desk):
    approved = desk.request(REQUESTED, START).first.id
    rejected = desk.request(REQUESTED, "2026-03-11 09:00").first.id
    decide(desk, approved)
    decide(desk, rejected, "reject", "场地维修 The room is being repaired")
    assert status(desk, approved) == ("approved", [(None, "pending_review", "test"),
                                                   ("pending_review", "approved", "staff-wang")])
    assert status(desk, rejected)[0] == "rejected"
    assert "booking_approved:sms" in messages_about(desk, approved)
    rejection = [p for n, p in outbox_tasks(desk) if n == contracts.SEND_MESSAGE
                 and p["idempotency_key"] == f"booking:{rejected}:booking_rejected:sms"]
    assert rejection[0]["params"]["reason"] == "场地维修 The room is being repaired"


def test_a_repeated_decision_changes_nothing(desk):
    booking = desk.request(REQUESTED, START).first.id
    decide(desk, booking)
    assert decide(desk, booking, "reject", "too late") == []
    assert status(desk, booking)[0] == "approved"


def test_cancelling_while_the_review_is_open_withdraws_it(desk):
    booking = desk.request(REQUESTED, START).first.id
    act(desk, lambda s, now, p: lifecycle.cancel_booking(s, booking, "org-1", False, "plans changed", now, p),
        now="2026-03-03 10:00")
    assert status(desk, booking)[0] == "cancelled"
    withdrawals = [p for n, p in outbox_tasks(desk) if n == contracts.WITHDRAW_REVIEW and p["booking_id"] == booking]
    assert withdrawals and withdrawals[0]["reason"] == "plans changed"
    assert "booking_cancelled:sms" in messages_about(desk, booking)
    assert credit_events(desk) == []


@pytest.mark.parametrize("when, late", [
    ("2026-03-08 10:00", False),  # two days before: in time
    ("2026-03-09 10:00", True),   # 23 hours before an approved booking
    ("2026-03-09 08:00", False),  # 25 hours before
])
def test_a_late_cancellation_of_an_approved_booking_costs_five_points(desk, when, late):
    booking = desk.request(REQUESTED, START).first.id
    decide(desk, booking)
    act(desk, lambda s, now, p: lifecycle.cancel_booking(s, booking, "org", False, None, now, p), now=when)
    assert credit_events(desk) == ([("late_cancellation", -5)] if late else [])


def test_cancelling_a_pending_request_on_the_day_is_late_too(desk):
    booking = desk.request(REQUESTED, START).first.id
    act(desk, lambda s, now, p: lifecycle.cancel_booking(s, booking, "org", False, None, now, p), now="2026-03-10 07:00")
    assert credit_events(desk) == [("late_cancellation", -5)]


def test_staff_cancelling_costs_the_organisation_nothing(desk):
    booking = desk.request(REQUESTED, START).first.id
    decide(desk, booking)
    act(desk, lambda s, now, p: lifecycle.cancel_booking(s, booking, "staff-wang", True, "venue needed", now, p),
        now="2026-03-10 08:00")
    assert credit_events(desk) == []


def test_a_finished_booking_cannot_be_cancelled(desk):
    booking = desk.request(REQUESTED, START).first.id
    decide(desk, booking, "reject", "no")
    with pytest.raises(Conflict):
        act(desk, lambda s, now, p: lifecycle.cancel_booking(s, booking, "org", False, None, now, p),
            now="2026-03-03 10:00")


@pytest.mark.parametrize("when, allowed", [
    ("2026-03-10 08:44", False), ("2026-03-10 08:45", True), ("2026-03-10 09:30", True), ("2026-03-10 09:31", False),
])
def test_check_in_is_open_from_15_minutes_before_to_30_after_the_start(desk, when, allowed):
    booking = desk.request(REQUESTED, START).first.id
    decide(desk, booking)
    if allowed:
        act(desk, lambda s, now, p: lifecycle.check_in(s, booking, "org", now, p), now=when)
        assert status(desk, booking)[0] == "checked_in"
    else:
        with pytest.raises(Conflict) as refused:
            act(desk, lambda s, now, p: lifecycle.check_in(s, booking, "org", now, p), now=when)
        assert refused.value.code == "check_in_window"


def test_the_sweep_marks_no_shows_with_a_penalty_and_completes_checked_in_bookings(desk):
    absent = desk.request(REQUESTED, START).first.id
    present = desk.request(REQUESTED, "2026-03-10 12:00").first.id
    decide(desk, absent)
    decide(desk, present)
    act(desk, lambda s, now, p: lifecycle.check_in(s, present, "org", now, p), now="2026-03-10 12:05")
    act(desk, lifecycle.sweep_attendance, now="2026-03-10 09:29")
    assert status(desk, absent)[0] == "approved"
    act(desk, lifecycle.sweep_attendance, now="2026-03-10 09:31")
    assert status(desk, absent)[0] == "no_show"
    assert credit_events(desk) == [("no_show", -10)]
    assert status(desk, present)[0] == "checked_in"
    act(desk, lifecycle.sweep_attendance, now="2026-03-10 14:00")
    assert status(desk, present)[0] == "completed"
    assert credit_events(desk) == [("no_show", -10)]


def test_the_reminder_goes_out_once_from_nine_on_the_day_before(desk):
    booking = desk.request(REQUESTED, START).first.id
    decide(desk, booking)
    remind = lambda now: desk.database and _remind(desk, now)  # noqa: E731
    assert remind("2026-03-09 08:59") == 0
    assert remind("2026-03-09 09:00") == 1
    assert remind("2026-03-09 15:00") == 0
    assert messages_about(desk, booking).count("booking_reminder:sms") == 1


def _remind(desk, now):
    with desk.database.transaction() as session:
        return lifecycle.queue_reminders(session, station_time(now))
