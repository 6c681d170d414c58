"""SPEC §5 "Working days": a booking starts on or after the third working day
after today, by China's official calendar with its make-up workdays (调休).

The 2026 dates below are from chinesecalendar 1.11.0's data, which follows the
State Council's 2026 schedule: Mid-Autumn Festival 25–27 September, National
Day 1–7 October, make-up workdays Sunday 20 September and Saturday 10 October.
The package stops at 2026.
"""

import json
import re
from datetime import date, datetime
from pathlib import Path

import pytest

from shared import working_days
from shared.working_days import CalendarFileError, WorkingCalendar, default_calendar

EXAMPLE_FILE = Path(working_days.__file__).parent / "calendar" / "official_calendar.example.json"


def calendar_file(tmp_path, schedule: dict) -> Path:
    path = tmp_path / "official_calendar.json"
    path.write_text(json.dumps(schedule), encoding="utf-8")
    return path


# --- the official calendar ---------------------------------------------------------------------

def test_a_request_on_an_ordinary_monday_may_start_on_thursday():
    assert WorkingCalendar().earliest_bookable_date(date(2026, 3, 9)) == date(2026, 3, 12)


def test_a_request_on_an_ordinary_friday_may_start_on_the_next_wednesday():
    assert WorkingCalendar().earliest_bookable_date(date(2026, 3, 13)) == date(2026, 3, 18)


def test_booking_on_a_make_up_sunday_counts_as_a_working_day():
    calendar = WorkingCalendar()
    assert calendar.is_working_day(date(2026, 9, 20))
    assert not calendar.is_working_day(date(2026, 9, 19))
    # Friday 18th: Sunday 20th, Monday 21st, Tuesday 22nd (not Wednesday 23rd as Monday–Friday would give).
    assert calendar.earliest_bookable_date(date(2026, 9, 18)) == date(2026, 9, 22)


def test_a_request_on_the_eve_of_national_day_waits_out_the_holiday():
    calendar = WorkingCalendar()
    assert not any(calendar.is_working_day(date(2026, 10, d)) for d in range(1, 8))
    # Wednesday 30 September: Thursday 8th, Friday 9th, then the make-up Saturday 10th.
    assert calendar.earliest_bookable_date(date(2026, 9, 30)) == date(2026, 10, 10)


def test_a_weekday_holiday_is_not_a_working_day():
    assert not WorkingCalendar().is_working_day(date(2026, 9, 25))  # Mid-Autumn Festival, a Friday


def test_the_notice_period_is_a_parameter():
    assert WorkingCalendar().earliest_bookable_date(date(2026, 3, 9), notice=5) == date(2026, 3, 16)


def test_an_errand_is_due_its_time_limit_in_working_days_after_it_was_opened():
    calendar = WorkingCalendar()
    assert calendar.due_date(date(2026, 9, 30), 5) == date(2026, 10, 13)
    assert calendar.working_days_between(date(2026, 9, 30), date(2026, 10, 13)) == 5
    assert calendar.working_days_between(date(2026, 10, 13), date(2026, 9, 30)) == -5
    assert calendar.add_working_days(date(2026, 9, 30), 0) == date(2026, 9, 30)


def test_a_datetime_is_refused_so_a_utc_time_is_never_taken_for_the_local_day():
    with pytest.raises(TypeError):
        WorkingCalendar().earliest_bookable_date(datetime(2026, 3, 9, 23, 0))


# --- a year the package does not cover ----------------------------------------------------------

def test_without_an_operator_file_a_year_not_covered_counts_monday_to_friday():
    calendar = WorkingCalendar()
    assert calendar.is_working_day(date(2027, 1, 1))  # a Friday
    # Wednesday 30 December 2026: Thursday 31st, Friday 1 January, Monday 4th.
    assert calendar.earliest_bookable_date(date(2026, 12, 30)) == date(2027, 1, 4)


def test_a_holiday_in_the_operator_file_is_not_a_working_day(tmp_path):
    calendar = WorkingCalendar(calendar_file(tmp_path, {"2027": {"holidays": ["2027-01-01"]}}))
    assert not calendar.is_working_day(date(2027, 1, 1))
    assert calendar.earliest_bookable_date(date(2026, 12, 30)) == date(2027, 1, 5)


def test_a_make_up_workday_in_the_operator_file_counts_as_a_working_day(tmp_path):
    path = calendar_file(tmp_path, {"2027": {"holidays": ["2027-01-01"], "workdays": ["2027-01-02"]}})
    calendar = WorkingCalendar(path)
    assert calendar.is_working_day(date(2027, 1, 2))  # a Saturday
    assert calendar.earliest_bookable_date(date(2026, 12, 30)) == date(2027, 1, 4)


def test_a_far_year_never_fails():
    calendar = WorkingCalendar()
    assert calendar.is_working_day(date(2031, 1, 1))  # a Wednesday
    assert not calendar.is_working_day(date(2031, 1, 4))  # a Saturday
    assert calendar.earliest_bookable_date(date(2031, 12, 31)) == date(2032, 1, 5)


def test_the_operator_file_cannot_change_a_year_the_package_covers(tmp_path, caplog):
    calendar = WorkingCalendar(calendar_file(tmp_path, {"2026": {"holidays": ["2026-03-09"]}}))
    assert calendar.is_working_day(date(2026, 3, 9))
    assert "2026" in caplog.text and "ignored" in caplog.text


def test_the_shipped_example_file_is_valid_and_only_illustrates():
    calendar = WorkingCalendar(EXAMPLE_FILE)
    assert calendar.operator.years == {2027}
    assert calendar.operator.holidays == {date(2027, 1, 1)}


def test_the_services_calendar_comes_from_the_environment(tmp_path, monkeypatch):
    monkeypatch.setenv("YIZHAN_CALENDAR_FILE", str(calendar_file(tmp_path, {"2027": {"holidays": ["2027-01-01"]}})))
    default_calendar.cache_clear()
    try:
        assert not default_calendar().is_working_day(date(2027, 1, 1))
        assert default_calendar() is default_calendar()
    finally:
        default_calendar.cache_clear()


# --- bad operator files are refused -------------------------------------------------------------

@pytest.mark.parametrize("schedule, complaint", [
    ({"2027": {"holidays": ["1 January"]}}, "'1 January', not a date"),
    ({"2027": {"holidays": ["20270101"]}}, "'20270101', not a date"),
    ({"2027": {"holidays": ["2027-02-30"]}}, "not a real date"),
    ({"2027": {"holidays": ["2028-01-01"]}}, "2028-01-01, which belongs under 2028"),
    ({"2027": {"holidays": ["2027-01-01"], "workdays": ["2027-01-01"]}}, "2027-01-01 is listed under both"),
    ({"2027": {"holiday": ["2027-01-01"]}}, "unknown key 'holiday'"),
    ({"2027": {"holidays": "2027-01-01"}}, "2027.holidays must be a list"),
    ({"2027": ["2027-01-01"]}, "2027 must be an object"),
    ({"next year": {}}, "'next year' is not a year"),
    (["2027-01-01"], "expected an object keyed by year"),
])
def test_a_bad_operator_file_is_refused_naming_the_file_and_the_entry(tmp_path, schedule, complaint):
    path = calendar_file(tmp_path, schedule)
    with pytest.raises(CalendarFileError, match=re.escape(str(path))) as refused:
        WorkingCalendar(path)
    assert complaint in str(refused.value)


def test_an_operator_file_that_is_not_json_is_refused(tmp_path):
    path = tmp_path / "official_calendar.json"
    path.write_text("{'2027': }", encoding="utf-8")
    with pytest.raises(CalendarFileError, match="cannot be read as JSON"):
        WorkingCalendar(path)


def test_a_missing_operator_file_named_by_the_environment_is_refused(tmp_path, monkeypatch):
    monkeypatch.setenv("YIZHAN_CALENDAR_FILE", str(tmp_path / "nowhere.json"))
    default_calendar.cache_clear()
    try:
        with pytest.raises(CalendarFileError, match="nowhere.json not found"):
            default_calendar()
    finally:
        default_calendar.cache_clear()


def test_comment_keys_are_ignored(tmp_path):
    schedule = {"_comment": "illustration", "2027": {"_comment": "partial", "holidays": ["2027-01-01"]}}
    assert not WorkingCalendar(calendar_file(tmp_path, schedule)).is_working_day(date(2027, 1, 1))
