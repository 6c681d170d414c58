"""Before anyone cancels, the booking says whether cancelling now would be late and what it would
cost (GET /bookings/{id}; the portal states it on the confirm page, issue 12)."""

from datetime import datetime, timedelta

import pytest

from services.booking.domain.lifecycle import cancellation_cost
from services.booking.models import Booking
from shared.timefmt import STATION_TZ
from tests.booking.conftest import station_time
from tests.booking.test_lifecycle import decide
from tests.conftest import auth

REQUESTED = "2026-03-02 10:00"
START = "2026-03-10 09:00"


def cost_at(desk, booking_id: int, now: str) -> dict:
    with desk.database.reader() as session:
        return cancellation_cost(session.get(Booking, booking_id), station_time(now), desk.policy)


@pytest.mark.parametrize("now, late", [("2026-03-08 09:00", False), ("2026-03-09 09:01", True),
                                       ("2026-03-10 08:00", True)])
def test_an_approved_booking_costs_five_points_within_a_day_of_its_start(desk, now, late):
    booking_id = desk.request(REQUESTED, START).first.id
    decide(desk, booking_id)
    assert cost_at(desk, booking_id, now) == {"cancellation_would_be_late": late,
                                              "cancellation_cost_points": 5 if late else 0}


def test_a_pending_request_is_late_only_on_its_day(desk):
    booking_id = desk.request(REQUESTED, START).first.id
    assert cost_at(desk, booking_id, "2026-03-09 12:00")["cancellation_would_be_late"] is False
    assert cost_at(desk, booking_id, "2026-03-10 07:00") == {"cancellation_would_be_late": True,
                                                              "cancellation_cost_points": 5}


def test_a_cancelled_booking_cannot_be_cancelled_late(desk, station):
    booking_id = desk.request(REQUESTED, START).first.id
    station.client("booking").post(f"/bookings/{booking_id}/cancel", json={}, headers=auth("staff"))
    assert cost_at(desk, booking_id, "2026-03-10 08:00") == {"cancellation_would_be_late": False,
                                                              "cancellation_cost_points": 0}


def test_the_booking_api_answers_with_the_rule_at_the_present_time(station, desk):
    day = datetime.now(STATION_TZ).date() + timedelta(days=20)
    booking_id = desk.request((day - timedelta(days=10)).strftime("%Y-%m-%d 10:00"),
                              day.strftime("%Y-%m-%d 10:00")).first.id
    answer = station.client("booking").get(f"/bookings/{booking_id}", headers=auth("org", desk.organization_id))
    body = answer.get_json()
    assert answer.status_code == 200, body
    assert (body["cancellation_would_be_late"], body["cancellation_cost_points"]) == (False, 0)
