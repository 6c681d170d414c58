"""GET /statistics?month=YYYY-MM on the booking API (issue 13): per venue, the bookings held in the
month and their hours, rejections, cancellations, late cancellations and no-shows, counted by the
month of the start in station time (+08:00); admins and other systems only."""

import pytest

from services.booking.domain import lifecycle
from services.booking.policy import BookingPolicy
from tests.booking.conftest import BookingDesk, station_time
from tests.booking.test_lifecycle import decide
from tests.conftest import auth

MEETING_ROOM, SQUARE = 3, 11
# One organisation books all of these: the monthly quota is not what this test is about.
POLICY = BookingPolicy(monthly_bookings=50, monthly_hours=500)
ASKED = "2027-01-04 10:00"


@pytest.fixture
def desk(station, request):
    desk = BookingDesk(station, POLICY)
    desk.new_organization(f"统计测试 {request.node.name}"[:200])
    yield desk
    desk.forget_bookings()


def book(desk, start, hours=2.0, venue=MEETING_ROOM, approve=True):
    booking = desk.request(ASKED, start, hours=hours, venue_id=venue).first.id
    if approve:
        decide(desk, booking)
    return booking


def at(desk, function, *args, now):
    with desk.database.transaction() as session:
        return function(session, *args, station_time(now), desk.policy)


def cancel(desk, booking_id, now):
    """The organisation cancels (by_staff False): late or not is the integrity rule's call."""
    with desk.database.transaction() as session:
        lifecycle.cancel_booking(session, booking_id, "org", False, None, station_time(now), desk.policy)


def statistics(station, month, role="admin"):
    return station.client("booking").get(f"/statistics?month={month}", headers=auth(role))


def venue_row(answer, venue_id):
    return next(v for v in answer.json["venues"] if v["venue_id"] == venue_id)


def test_a_month_of_bookings_is_counted_per_venue(station, desk):
    no_show = book(desk, "2027-01-11 09:00")
    at(desk, lifecycle.sweep_attendance, now="2027-01-11 09:31")
    book(desk, "2027-01-12 09:00", hours=2)
    checked_in = book(desk, "2027-01-13 14:00", hours=1.5)
    at(desk, lifecycle.check_in, checked_in, "staff-wang", now="2027-01-13 13:55")
    late = book(desk, "2027-01-14 09:00")
    cancel(desk, late, now="2027-01-14 07:00")
    early = book(desk, "2027-01-15 09:00", approve=False)
    cancel(desk, early, now="2027-01-06 09:00")
    rejected = book(desk, "2027-01-18 09:00", approve=False)
    decide(desk, rejected, "reject", "场地维修 The room is being repaired")
    book(desk, "2027-01-19 10:00", hours=3, venue=SQUARE)

    answer = statistics(station, "2027-01")
    assert answer.status_code == 200, answer.json
    room = venue_row(answer, MEETING_ROOM)
    assert {k: room[k] for k in ("code", "name_zh", "requested", "held", "hours", "rejected", "cancelled",
                                 "late_cancellations", "no_shows")} == {
        "code": "meeting-room", "name_zh": "党群会议室", "requested": 6, "held": 2, "hours": 3.5, "rejected": 1,
        "cancelled": 2, "late_cancellations": 1, "no_shows": 1}
    assert venue_row(answer, SQUARE)["held"] == 1 and venue_row(answer, SQUARE)["hours"] == 3.0
    assert answer.json["totals"]["held"] == 3 and answer.json["totals"]["hours"] == 6.5
    assert answer.json["month"] == "2027-01"
    assert answer.json["start"] == "2027-01-01T00:00:00+08:00" and answer.json["end"] == "2027-02-01T00:00:00+08:00"


def test_the_month_begins_at_midnight_station_time_not_utc(station, desk):
    # 07:00 on 1 February in Haikou is still 31 January in UTC: it is February's.
    book(desk, "2027-02-01 07:00", hours=1, venue=SQUARE)
    book(desk, "2027-01-31 21:00", hours=1, venue=SQUARE)
    january, february = statistics(station, "2027-01"), statistics(station, "2027-02")
    assert venue_row(january, SQUARE)["held"] == 1
    assert venue_row(february, SQUARE)["held"] == 1
    assert february.json["start"] == "2027-02-01T00:00:00+08:00"


def test_an_empty_month_lists_every_bookable_venue_with_nothing(station):
    answer = statistics(station, "2031-07", role="system")
    assert answer.status_code == 200
    assert len(answer.json["venues"]) == 10  # the service counter is not booked
    assert all(v["requested"] == 0 and v["hours"] == 0 for v in answer.json["venues"])


@pytest.mark.parametrize("month", ["2027-13", "2027-1", "27-01", "2027-01-01", "january", "", "0999-01", "9999-12"])
def test_a_malformed_month_is_refused_naming_the_field(station, month):
    answer = statistics(station, month)
    assert answer.status_code == 422
    assert "month" in str(answer.json["error"]["fields"])


def test_the_month_is_required(station):
    answer = station.client("booking").get("/statistics", headers=auth("admin"))
    assert answer.status_code == 422 and "month" in str(answer.json["error"]["fields"])


@pytest.mark.parametrize("role", ["resident", "org", "staff"])
def test_only_admins_and_other_systems_see_the_numbers(station, role):
    token = auth(role, 1 if role == "org" else None)
    answer = station.client("booking").get("/statistics?month=2027-01", headers=token)
    assert answer.status_code == 403


def test_the_numbers_need_a_token(station):
    assert station.client("booking").get("/statistics?month=2027-01").status_code == 401


def test_the_statistics_are_in_the_openapi_document(station):
    document = station.client("booking").get("/openapi.json").json
    operation = document["paths"]["/statistics"]["get"]
    assert any(p["name"] == "month" and p["required"] for p in operation["parameters"])
