"""Free and busy time for a day, and the venue's calendar feed."""

import pytest
from icalendar import Calendar
from sqlalchemy import event

from tests.conftest import auth, make_booking


def test_a_school_day_shows_the_after_school_class_as_busy(station):
    response = station.client("booking").get("/venues/5/availability?date=2026-03-10", headers=auth("resident"))
    assert response.status_code == 200
    body = response.json
    assert body["busy"] == [{"start": "2026-03-10T16:30:00+08:00", "end": "2026-03-10T19:00:00+08:00",
                             "kind": "station", "title": "四点半课堂 After-school class"}]
    assert body["free"] == [{"start": "2026-03-10T08:30:00+08:00", "end": "2026-03-10T16:30:00+08:00"},
                            {"start": "2026-03-10T19:00:00+08:00", "end": "2026-03-10T21:00:00+08:00"}]


def test_a_make_up_working_sunday_is_a_school_day_and_a_holiday_is_not(station):
    client = station.client("booking")
    sunday = client.get("/venues/5/availability?date=2026-09-20", headers=auth("resident")).json
    holiday = client.get("/venues/5/availability?date=2026-10-02", headers=auth("resident")).json
    assert [b["kind"] for b in sunday["busy"]] == ["station"]
    assert holiday["busy"] == []


def test_a_pending_booking_is_busy_and_splits_the_free_time(station):
    body = make_booking(venue_id=2, start="2027-06-08T10:00:00+08:00", end="2027-06-08T12:00:00+08:00")
    assert station.client("booking").post("/bookings", json=body, headers=auth("staff")).status_code == 201
    day = station.client("booking").get("/venues/2/availability?date=2027-06-08", headers=auth("resident")).json
    assert {"start": "2027-06-08T10:00:00+08:00", "end": "2027-06-08T12:00:00+08:00", "kind": "booked",
            "title": None} in day["busy"]
    assert {"start": "2027-06-08T08:30:00+08:00", "end": "2027-06-08T10:00:00+08:00"} in day["free"]


def test_availability_needs_a_date(station):
    response = station.client("booking").get("/venues/2/availability", headers=auth("resident"))
    assert response.status_code == 422 and "date" in response.json["error"]["fields"]


def test_the_calendar_feed_is_valid_icalendar_with_approved_bookings_only(station):
    from shared import contracts
    from services.booking.domain.lifecycle import apply_review_decision

    client = station.client("booking")
    approved = client.post("/bookings", headers=auth("staff"), json=make_booking(venue_id=6, title="党课 Party class")).json
    client.post("/bookings", headers=auth("staff"), json=make_booking(venue_id=6, title="还在审核 pending"))
    with station.database("booking").transaction() as session:
        apply_review_decision(session, {"booking_id": approved["id"], "decision": "approve", "reason": None,
                                        "decided_by": "staff", "v": contracts.CONTRACT_VERSION})
    response = client.get("/venues/6/calendar.ics", headers=auth("resident"))
    assert response.status_code == 200 and response.mimetype == "text/calendar"
    calendar = Calendar.from_ical(response.data)
    events = [c for c in calendar.walk("VEVENT")]
    assert [str(e["summary"]) for e in events] == ["党课 Party class"]
    assert events[0]["uid"] == f"booking-{approved['id']}@yizhan"


def test_what_is_busy_on_a_day_reads_the_venue_index_for_two_days_not_the_venues_history(station, backend):
    """With 100,000 bookings the busy query once read every booking of the venue (bench/scale_bench.py)."""
    if backend != "sqlite":
        pytest.skip("the plan is checked on SQLite; PostgreSQL's planner prefers a scan of a small table")
    statements = []

    def capture(conn, cursor, statement, parameters, context, executemany):
        if statement.lstrip().startswith("SELECT") and "bookings" in statement:
            statements.append((statement, parameters))
    engines = station.database("booking").engines  # the writer's and the readers'
    for engine in engines:
        event.listen(engine, "before_cursor_execute", capture)
    try:
        answer = station.client("booking").get("/venues/2/availability?date=2027-06-08", headers=auth("resident"))
    finally:
        for engine in engines:
            event.remove(engine, "before_cursor_execute", capture)
    assert answer.status_code == 200 and len(statements) == 1
    statement, parameters = statements[0]
    with engine.connect() as conn:
        plan = " ".join(row[3] for row in conn.exec_driver_sql(f"EXPLAIN QUERY PLAN {statement}", parameters))
    assert "USING INDEX ix_bookings_venue_id_start (venue_id=? AND start>? AND start<?)" in plan, plan


def test_bookings_the_day_before_and_after_are_not_busy(station):
    client = station.client("booking")
    for start, end in (("2027-06-14T19:00:00+08:00", "2027-06-14T21:00:00+08:00"),
                       ("2027-06-16T08:30:00+08:00", "2027-06-16T10:00:00+08:00")):
        body = make_booking(venue_id=2, start=start, end=end)
        assert client.post("/bookings", json=body, headers=auth("staff")).status_code == 201
    day = client.get("/venues/2/availability?date=2027-06-15", headers=auth("resident")).json
    assert [b for b in day["busy"] if b["kind"] == "booked"] == []


def test_availability_names_the_earliest_bookable_date_by_the_working_day_rule(station):
    from datetime import datetime

    from services.booking.policy import BookingPolicy
    from shared.timefmt import STATION_TZ
    from shared.working_days import WorkingCalendar

    body = station.client("booking").get("/venues/3/availability?date=2027-01-05", headers=auth("resident")).json
    today = datetime.now(STATION_TZ).date()
    notice = BookingPolicy.from_env(station.settings.environ).notice_working_days
    expected = WorkingCalendar.from_environ(station.settings.environ).earliest_bookable_date(today, notice)
    assert body["notice_working_days"] == notice == 3
    assert body["earliest_bookable_date"] == expected.isoformat()
