"""GET /bookings/{id} says when the booking's check-in opens and closes, the window
POST /bookings/{id}/check-in applies (BOOKING_CHECK_IN_BEFORE/AFTER_MINUTES), so the portal's
door page can tell a contact when to scan without knowing the rule itself (issue 13)."""

from tests.conftest import auth

REQUESTED = "2026-03-02 10:00"


def test_the_booking_names_its_check_in_window(desk, station):
    booking = desk.request(REQUESTED, "2026-03-12 09:00").first
    answer = station.client("booking").get(f"/bookings/{booking.id}", headers=auth("org", desk.organization_id))
    assert answer.status_code == 200, answer.json
    assert answer.json["check_in_opens"] == "2026-03-12T08:45:00+08:00"
    assert answer.json["check_in_closes"] == "2026-03-12T09:30:00+08:00"


def test_another_organisation_learns_nothing_of_it(desk, station):
    booking = desk.request(REQUESTED, "2026-03-12 14:00").first
    answer = station.client("booking").get(f"/bookings/{booking.id}", headers=auth("org", desk.organization_id + 1000))
    assert answer.status_code == 403 and "check_in_opens" not in answer.json


def test_the_window_is_in_the_openapi_document(station):
    spec = station.client("booking").get("/openapi.json").json
    detail = spec["components"]["schemas"]["BookingDetail"]["properties"]
    assert {"check_in_opens", "check_in_closes"} <= set(detail)
