"""How far ahead one may book (BOOKING_HORIZON_DAYS), and dates at the ends of the calendar:
each a clear refusal naming the field, never a 500 (issue 11, section 5)."""

from datetime import date, datetime, timedelta

import pytest

from services.booking.policy import BookingPolicy
from shared.errors import Refused
from shared.timefmt import STATION_TZ
from tests.booking.conftest import station_time
from tests.conftest import auth, make_booking

NOW = "2026-03-02 10:00"  # a Monday


def day_after(days: int) -> str:
    return (station_time(NOW).date() + timedelta(days=days)).isoformat()


def test_day_180_may_be_booked_and_day_181_not(desk):
    assert BookingPolicy().horizon_days == 180
    assert desk.request(NOW, f"{day_after(180)} 10:00").first.status == "pending_review"
    with pytest.raises(Refused) as refused:
        desk.request(NOW, f"{day_after(181)} 10:00")
    assert refused.value.code == "horizon" and "start" in refused.value.fields
    assert "180" in refused.value.message and day_after(180) in refused.value.message
    assert "最多可提前180天预约" in refused.value.message


def test_every_occurrence_of_a_series_is_within_the_horizon(desk):
    start = date.fromisoformat(day_after(160))
    with pytest.raises(Refused) as refused:
        desk.request(NOW, f"{start.isoformat()} 10:00", recurrence={"frequency": "weekly", "count": 4})
    assert refused.value.code == "horizon" and "recurrence" in refused.value.fields
    assert len(desk.request(NOW, f"{start.isoformat()} 10:00",
                            recurrence={"frequency": "weekly", "count": 3}).bookings) == 3  # day 174 is the last


def test_the_horizon_is_configuration(desk):
    desk.policy = BookingPolicy(horizon_days=400)
    assert desk.request(NOW, f"{day_after(300)} 10:00").first.status == "pending_review"
    with pytest.raises(ValueError, match="BOOKING_HORIZON_DAYS"):
        BookingPolicy.from_env({"BOOKING_HORIZON_DAYS": "0"})


@pytest.mark.parametrize("change, field", [
    ({"start": "9999-12-30T10:00:00+08:00", "end": "9999-12-30T12:00:00+08:00"}, "start"),
    ({"start": "9999-12-31T10:00:00+08:00", "end": "9999-12-31T12:00:00+08:00"}, "start"),
    ({"start": "9999-12-31T22:00:00-12:00", "end": "9999-12-31T23:00:00-12:00"}, "start"),  # no such station date
    ({"start": "9999-12-27T10:00:00+08:00", "end": "9999-12-27T12:00:00+08:00",
      "recurrence": {"frequency": "weekly", "count": 3}}, "start"),
    ({"start": "9999-11-30T10:00:00+08:00", "end": "9999-11-30T12:00:00+08:00",
      "recurrence": {"frequency": "monthly", "count": 3}}, "start"),
    ({"start": "0001-01-01T00:00:00+08:00", "end": "0001-01-01T02:00:00+08:00"}, "start"),
    # A year before 1000, which strftime writes in three digits (schemathesis found a 500 here).
    ({"start": "0803-02-17T10:00:00+08:00", "end": "0803-02-17T12:00:00+08:00"}, "start"),
    ({"start": "0999-12-31T23:00:00+08:00", "end": "1000-01-01T01:00:00+08:00"}, "start"),
    ({"recurrence": {"frequency": "weekly", "until": "2026-01-01"}}, "recurrence.until"),
])
def test_dates_at_the_ends_of_the_calendar_are_refused_naming_the_field(station, change, field):
    response = station.client("booking").post("/bookings", json=make_booking(**change), headers=auth("staff"))
    assert response.status_code in (400, 422), response.get_data(as_text=True)
    assert field in response.json["error"]["fields"], response.json


@pytest.mark.parametrize("day", ["9999-12-31", "0001-01-01", "9999-12-30", "0001-01-02"])
def test_availability_on_the_first_or_last_days_there_are_is_refused_naming_the_date(station, day):
    response = station.client("booking").get(f"/venues/3/availability?date={day}", headers=auth("resident"))
    assert response.status_code in (400, 422), response.get_data(as_text=True)
    assert "date" in response.json["error"]["fields"]
    assert "日期" in response.json["error"]["fields"]["date"][0]


def test_availability_far_ahead_still_answers(station):
    response = station.client("booking").get("/venues/3/availability?date=2099-06-01", headers=auth("resident"))
    assert response.status_code == 200 and response.json["date"] == "2099-06-01"


def test_a_request_past_the_horizon_is_a_422_naming_the_start_and_the_latest_date(station):
    horizon = int(station.env["BOOKING_HORIZON_DAYS"])
    day = datetime.now(STATION_TZ).date() + timedelta(days=horizon + 1)
    body = make_booking(start=f"{day.isoformat()}T10:00:00+08:00", end=f"{day.isoformat()}T12:00:00+08:00")
    response = station.client("booking").post("/bookings", json=body, headers=auth("staff"))
    assert response.status_code == 422 and response.json["error"]["code"] == "horizon"
    assert "start" in response.json["error"]["fields"]
    assert f"最多可提前{horizon}天预约" in response.json["error"]["message"]
    assert f"at most {horizon} days ahead" in response.json["error"]["message"]
