"""What a request must satisfy besides the notice period; each refusal stores nothing."""

from dataclasses import replace

import pytest
from sqlalchemy import event, func, select

from services.booking.models import Booking
from shared.errors import Conflict, Refused
from tests.conftest import auth, make_booking

NOW = "2026-03-02 10:00"  # a Monday; the earliest start is Thursday 2026-03-05


def booking_count(desk):
    with desk.database.reader() as session:
        return session.scalar(select(func.count(Booking.id)))


@pytest.mark.parametrize("start, hours, code", [
    ("2026-03-10 07:00", 2, "outside_opening_hours"),   # the meeting room opens at 08:30
    ("2026-03-10 20:00", 2, "outside_opening_hours"),   # and closes at 21:00
    ("2026-03-10 09:00", 0.25, "duration"),             # shorter than 30 minutes
    ("2026-03-10 09:00", 5, "duration"),                # longer than 4 hours
])
def test_times_outside_the_venue_rules_are_refused(desk, start, hours, code):
    before = booking_count(desk)
    with pytest.raises(Refused) as refused:
        desk.request(NOW, start, hours)
    assert refused.value.code == code
    assert booking_count(desk) == before


def test_attendees_over_the_capacity_are_refused(desk):
    with pytest.raises(Refused) as refused:
        desk.request(NOW, "2026-03-10 09:00", attendees=21)  # the meeting room seats 20
    assert "attendees" in refused.value.fields


def test_the_after_school_class_holds_its_room_on_school_days(desk):
    with pytest.raises(Conflict) as refused:
        desk.request(NOW, "2026-03-10 17:00", venue_id=5)  # a Tuesday
    assert "2026-03-10" in refused.value.message
    assert desk.request(NOW, "2026-03-14 17:00", venue_id=5).bookings  # a Saturday: no class


def test_the_monthly_quota_counts_bookings_per_organisation(desk):
    desk.policy = replace(desk.policy, monthly_bookings=2, monthly_hours=100)
    desk.request(NOW, "2026-03-10 09:00")
    desk.request(NOW, "2026-03-11 09:00")
    with pytest.raises(Refused) as refused:
        desk.request(NOW, "2026-03-12 09:00")
    assert refused.value.code == "quota"
    assert desk.request(NOW, "2026-04-01 09:00").bookings  # a new month, a new quota


def test_the_monthly_quota_counts_hours_too(desk):
    desk.policy = replace(desk.policy, monthly_bookings=10, monthly_hours=5)
    desk.request(NOW, "2026-03-10 09:00", hours=4)
    with pytest.raises(Refused) as refused:
        desk.request(NOW, "2026-03-11 09:00", hours=2)
    assert refused.value.code == "quota"


def test_the_hours_quota_holds_to_the_minute(desk):
    """Three bookings of 1 h 40 min fill a 5-hour quota exactly: the held hours are summed by the
    database (each booking rounded to the second, so floating point never tips an exact fit over)."""
    desk.policy = replace(desk.policy, monthly_bookings=10, monthly_hours=5)
    desk.request(NOW, "2026-03-10 09:00", hours=5 / 3)
    desk.request(NOW, "2026-03-11 09:00", hours=5 / 3)
    assert desk.request(NOW, "2026-03-12 09:00", hours=5 / 3).bookings  # 5 h in all: allowed
    with pytest.raises(Refused) as refused:
        desk.request(NOW, "2026-03-13 09:00", hours=0.5)
    assert refused.value.code == "quota"
    assert "5 hours" in refused.value.message
    assert refused.value.fields["organization_id"] == ["2026-03: 4 bookings, 5.5 hours"]


def test_default_quota_is_four_bookings_and_twenty_hours(desk):
    from services.booking.policy import BookingPolicy

    assert (BookingPolicy().monthly_bookings, BookingPolicy().monthly_hours) == (4, 20)
    assert BookingPolicy.from_env({"BOOKING_MONTHLY_QUOTA": "6"}).monthly_bookings == 6
    with pytest.raises(ValueError, match="BOOKING_MONTHLY_QUOTA"):
        BookingPolicy.from_env({"BOOKING_MONTHLY_QUOTA": "many"})


def test_the_quota_reads_the_organisations_month_by_its_index_in_the_requests_first_statement(station, backend):
    """The quota is read with the venue in one statement (issue 14), over the organisation's bookings of
    that month only, by ix_bookings_organization_id_start (migration 0008), not every booking of the
    organisation or of the month."""
    if backend != "sqlite":
        pytest.skip("the plan is checked on SQLite; PostgreSQL's planner prefers a scan of a small table")
    statements = []

    def capture(conn, cursor, statement, parameters, context, executemany):
        if statement.lstrip().startswith("SELECT"):
            statements.append((statement, parameters))
    engine = station.database("booking").engine
    event.listen(engine, "before_cursor_execute", capture)
    try:
        created = station.client("booking").post("/bookings", json=make_booking(), headers=auth("org", 1))
    finally:
        event.remove(engine, "before_cursor_execute", capture)
    assert created.status_code == 201, created.get_json()
    assert len(statements) == 1  # the venue, the organisation, the credit, the conflict and the quota
    statement, parameters = statements[0]
    with engine.connect() as conn:
        plan = " ".join(row[3] for row in conn.exec_driver_sql(f"EXPLAIN QUERY PLAN {statement}", parameters))
    assert "USING INDEX ix_bookings_organization_id_start (organization_id=? AND start>? AND start<?)" in plan, plan
