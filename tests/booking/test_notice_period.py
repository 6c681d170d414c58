"""Book at least 3 working days ahead, by China's official calendar with make-up workdays.

The calendar itself is tested in tests/shared/test_working_days.py; these tests
show the booking service applying it.
"""

import pytest

from shared.errors import Refused
from tests.conftest import auth, make_booking


def test_a_request_in_an_ordinary_week_may_start_on_the_third_working_day(desk):
    # Monday 2026-03-09: Tuesday, Wednesday, Thursday.
    with pytest.raises(Refused) as refused:
        desk.request("2026-03-09 10:00", "2026-03-11 09:00")
    assert "2026-03-12" in refused.value.message
    assert desk.request("2026-03-09 10:00", "2026-03-12 09:00").first.status == "pending_review"


def test_booking_on_a_make_up_sunday_counts_as_a_working_day(desk):
    # Friday 2026-09-18: Sunday 20 (调休), Monday 21, Tuesday 22.
    with pytest.raises(Refused):
        desk.request("2026-09-18 10:00", "2026-09-21 09:00")
    assert desk.request("2026-09-18 10:00", "2026-09-22 09:00").bookings


def test_the_national_day_holiday_does_not_count(desk):
    # Wednesday 2026-09-30: 1–7 October are off; Thursday 8, Friday 9, Saturday 10 (调休).
    with pytest.raises(Refused) as refused:
        desk.request("2026-09-30 10:00", "2026-10-09 09:00")
    assert "2026-10-10" in refused.value.message
    assert desk.request("2026-09-30 10:00", "2026-10-10 09:00").bookings


def test_a_request_made_on_friday_may_start_on_wednesday(desk):
    with pytest.raises(Refused):
        desk.request("2026-03-13 16:00", "2026-03-17 09:00")
    assert desk.request("2026-03-13 16:00", "2026-03-18 09:00").bookings


def test_the_step_into_2027_falls_back_to_monday_to_friday(desk):
    # Wednesday 2026-12-30: Thursday 31, Friday 1 January (no official 2027 data bundled), Monday 4.
    with pytest.raises(Refused) as refused:
        desk.request("2026-12-30 10:00", "2027-01-02 09:00")
    assert "2027-01-04" in refused.value.message
    assert desk.request("2026-12-30 10:00", "2027-01-04 09:00").bookings


def test_the_operator_calendar_file_moves_the_earliest_date(desk, tmp_path):
    from shared.working_days import WorkingCalendar

    (tmp_path / "calendar.json").write_text('{"2027": {"holidays": ["2027-01-01"], "workdays": []}}')
    desk.calendar = WorkingCalendar(tmp_path / "calendar.json")
    with pytest.raises(Refused) as refused:
        desk.request("2026-12-30 10:00", "2027-01-04 09:00")
    assert "2027-01-05" in refused.value.message


def test_over_http_a_too_early_request_names_the_earliest_date(station):
    from datetime import date, datetime, timedelta, timezone

    from shared.working_days import WorkingCalendar

    today = datetime.now(timezone(timedelta(hours=8))).date()
    earliest = WorkingCalendar().earliest_bookable_date(today)
    too_early = earliest - timedelta(days=1)
    start = f"{too_early.isoformat()}T09:00:00+08:00"
    response = station.client("booking").post("/bookings", headers=auth("staff"), json=make_booking(
        start=start, end=f"{too_early.isoformat()}T10:00:00+08:00"))
    assert response.status_code == 422
    assert response.json["error"]["code"] == "notice_period"
    assert earliest.isoformat() in response.json["error"]["message"]
    assert isinstance(earliest, date)
