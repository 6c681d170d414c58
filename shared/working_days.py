"""Working days by China's official calendar (SPEC §5 "Working days").

Each year the State Council publishes which weekdays are holidays and which
weekend days are make-up workdays (调休) (国务院办公厅关于××年部分节假日安排的通知).
The `chinesecalendar` package carries those schedules for the years it knows
(2004–2026 in 1.11.0) and raises NotImplementedError for any other year. For
such a year the operator may list the schedule in a JSON file named by
YIZHAN_CALENDAR_FILE; a day the file does not list counts Monday–Friday.
The file cannot change a year the package covers: its entries for such a year
are ignored with a warning, so a package upgrade that covers the year never
stops the station from starting.
"""

import json
import logging
import os
import re
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from functools import cache
from pathlib import Path

import chinese_calendar

from shared.settings import ConfigurationError

log = logging.getLogger(__name__)

CALENDAR_FILE_ENV = "YIZHAN_CALENDAR_FILE"
# SPEC §5: a booking starts on or after the third working day after today.
BOOKING_NOTICE_WORKING_DAYS = 3
DAY_LISTS = ("holidays", "workdays")
# Strict YYYY-MM-DD: Python 3.11's date.fromisoformat also takes "20270101" and "2027-W01-5".
ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}", re.ASCII)
YEAR_KEY = re.compile(r"\d{4}", re.ASCII)


class CalendarFileError(ConfigurationError):
    """The operator's calendar file is missing or is not a calendar."""


@dataclass(frozen=True)
class OperatorSchedule:
    """The days the operator's file lists, and the years it has an entry for."""
    holidays: frozenset = frozenset()
    workdays: frozenset = frozenset()
    years: frozenset = frozenset()


@cache
def package_covers(year: int) -> bool:
    """chinesecalendar raises NotImplementedError for a year it has no schedule for."""
    try:
        chinese_calendar.is_workday(date(year, 1, 1))
    except NotImplementedError:
        return False
    return True


def load_operator_schedule(path: str | os.PathLike) -> OperatorSchedule:
    """Read and check the operator's file; keys starting with `_` are comments."""
    path = Path(path)
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise CalendarFileError(f"calendar file {path} not found (looked for {path.absolute()})") from None
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise CalendarFileError(f"calendar file {path} cannot be read as JSON: {exc}") from None
    if not isinstance(data, dict):
        raise CalendarFileError(f"calendar file {path}: expected an object keyed by year, like {{\"2027\": ...}}")
    days = {name: set() for name in DAY_LISTS}
    years = set()
    for key, entry in _without_comments(data):
        if not YEAR_KEY.fullmatch(key):
            raise CalendarFileError(f"calendar file {path}: {key!r} is not a year")
        years.add(int(key))
        year_days = _read_year(path, key, entry)
        for name in DAY_LISTS:
            days[name] |= year_days[name]
    return OperatorSchedule(frozenset(days["holidays"]), frozenset(days["workdays"]), frozenset(years))


def _without_comments(mapping: dict):
    return ((key, value) for key, value in mapping.items() if not key.startswith("_"))


def _read_year(path: Path, key: str, entry) -> dict:
    if not isinstance(entry, dict):
        raise CalendarFileError(f"calendar file {path}: {key} must be an object with {' and '.join(DAY_LISTS)}")
    unknown = [name for name, _ in _without_comments(entry) if name not in DAY_LISTS]
    if unknown:
        raise CalendarFileError(f"calendar file {path}: {key} has unknown key {unknown[0]!r} "
                                f"(expected {' and '.join(DAY_LISTS)})")
    year_days = {name: {_read_day(path, key, name, text) for text in _read_list(path, key, name, entry)}
                 for name in DAY_LISTS}
    both = year_days["holidays"] & year_days["workdays"]
    if both:
        raise CalendarFileError(f"calendar file {path}: {min(both)} is listed under both holidays and workdays of {key}")
    return year_days


def _read_list(path: Path, key: str, name: str, entry: dict) -> list:
    texts = entry.get(name, [])
    if not isinstance(texts, list):
        raise CalendarFileError(f"calendar file {path}: {key}.{name} must be a list of dates")
    return texts


def _read_day(path: Path, key: str, name: str, text) -> date:
    if not isinstance(text, str) or not ISO_DATE.fullmatch(text):
        raise CalendarFileError(f"calendar file {path}: {key}.{name} has {text!r}, not a date like \"{key}-01-01\"")
    try:
        day = date.fromisoformat(text)
    except ValueError:
        raise CalendarFileError(f"calendar file {path}: {key}.{name} has {text!r}, which is not a real date") from None
    if str(day.year) != key:
        raise CalendarFileError(f"calendar file {path}: {key}.{name} has {text}, which belongs under {day.year}")
    return day


def _require_plain_date(day: date) -> None:
    # A UTC datetime's .date() can be the wrong day in Shanghai; callers pass the station's local date.
    if isinstance(day, datetime) or not isinstance(day, date):
        raise TypeError(f"expected the station's local date (a datetime.date), got {day!r}")


class WorkingCalendar:
    """Answers "is this a working day?" and counts working days after a date."""

    def __init__(self, calendar_file: str | os.PathLike | None = None):
        self.calendar_file = Path(calendar_file) if calendar_file else None
        self.operator = load_operator_schedule(self.calendar_file) if self.calendar_file else OperatorSchedule()
        self._fallback_years_reported = set()
        # earliest_bookable_date's answers by (today, notice): asked on every availability read and
        # booking request, and fixed for the day once the schedule is loaded (issue 14).
        self._earliest = {}
        for year in sorted(year for year in self.operator.years if package_covers(year)):
            log.warning("calendar file %s: entries for %s are ignored, chinesecalendar %s has that year's schedule",
                        self.calendar_file, year, chinese_calendar.__version__)

    @classmethod
    def from_environ(cls, environ) -> "WorkingCalendar":
        """The calendar a service uses, from YIZHAN_CALENDAR_FILE in its settings' environment."""
        return cls(environ.get(CALENDAR_FILE_ENV) or None)

    def is_working_day(self, day: date) -> bool:
        _require_plain_date(day)
        if package_covers(day.year):
            return chinese_calendar.is_workday(day)
        if day in self.operator.workdays:
            return True
        if day in self.operator.holidays:
            return False
        self._report_fallback(day.year)
        return day.weekday() < 5

    def add_working_days(self, start: date, n: int) -> date:
        """The n-th working day strictly after `start` (`start` itself when n is 0)."""
        _require_plain_date(start)
        if n < 0:
            raise ValueError(f"cannot count {n} working days forward")
        day = start
        for _ in range(n):
            day = self.next_working_day(day)
        return day

    def next_working_day(self, day: date) -> date:
        day += timedelta(days=1)
        while not self.is_working_day(day):
            day += timedelta(days=1)
        return day

    def earliest_bookable_date(self, today: date, notice: int = BOOKING_NOTICE_WORKING_DAYS) -> date:
        """The first date a booking requested today may start on."""
        key = (today, notice)
        if key not in self._earliest:
            if len(self._earliest) > 64:  # a long-running process: yesterday's answers go
                self._earliest.clear()
            self._earliest[key] = self.add_working_days(today, notice)
        return self._earliest[key]

    def due_date(self, opened: date, limit_days: int) -> date:
        """An errand's deadline: its time limit counted in working days from the day it was opened."""
        return self.add_working_days(opened, limit_days)

    def working_days_between(self, a: date, b: date) -> int:
        """Working days after `a` up to and including `b`; negative when `b` is before `a`.

        So `working_days_between(a, add_working_days(a, n)) == n`.
        """
        _require_plain_date(a)
        _require_plain_date(b)
        if b < a:
            return -self.working_days_between(b, a)
        return sum(self.is_working_day(a + timedelta(days=i)) for i in range(1, (b - a).days + 1))

    def _report_fallback(self, year: int) -> None:
        if year not in self.operator.years and year not in self._fallback_years_reported:
            self._fallback_years_reported.add(year)
            log.warning("no official calendar for %s: counting Monday to Friday; list the schedule in %s",
                        year, CALENDAR_FILE_ENV)


@cache
def default_calendar() -> WorkingCalendar:
    """The calendar the services use, from YIZHAN_CALENDAR_FILE (a path relative to the current directory)."""
    return WorkingCalendar(os.environ.get(CALENDAR_FILE_ENV) or None)
