"""When a venue can be used: opening hours, the station's own sessions, and
what is free or busy on a day."""

import functools
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from sqlalchemy import and_, bindparam, select

from services.booking.domain import statuses
from services.booking.models import Booking, Venue
from services.booking.seed_data import STATION_HELD
from shared.db import UTCDateTime, one_of
from shared.errors import Refused
from shared.timefmt import STATION_TZ, to_station_time

# check_opening_hours keeps every booking inside one day's opening hours, so none lasts longer than a
# day. Bounding the start by it lets the (venue_id, start) index read two days of a venue, not its
# whole history (bench/scale_bench.py: 100,000 bookings).
LONGEST_BOOKING = timedelta(days=1)


@dataclass(frozen=True)
class Interval:
    start: datetime
    end: datetime
    kind: str = "free"  # free | booked | station
    title: str | None = None

    def overlaps(self, start: datetime, end: datetime) -> bool:
        return self.start < end and start < self.end


def _at(day: date, hhmm: str) -> datetime:
    hour, minute = map(int, hhmm.split(":"))
    return datetime.combine(day, time(hour, minute), tzinfo=STATION_TZ)


def opening_intervals(venue: Venue, day: date) -> list[Interval]:
    return [Interval(_at(day, a), _at(day, b)) for a, b in venue.opening_hours.get(str(day.weekday()), [])]


def check_opening_hours(venue: Venue, start: datetime, end: datetime) -> None:
    day = to_station_time(start).date()
    if not any(i.start <= start and end <= i.end for i in opening_intervals(venue, day)):
        hours = ", ".join(f"{a}–{b}" for a, b in venue.opening_hours.get(str(day.weekday()), [])) or "closed"
        raise Refused(f"须在开放时间内 {venue.name_en} is open {hours} on {day.isoformat()}.",
                      {"start": [f"outside the opening hours ({hours})"]}, code="outside_opening_hours")


def check_duration(venue: Venue, start: datetime, end: datetime) -> None:
    minutes = (end - start).total_seconds() / 60
    if not venue.min_minutes <= minutes <= venue.max_minutes:
        raise Refused(f"每次预约须在{venue.min_minutes}至{venue.max_minutes}分钟之间 "
                      f"A booking of {venue.name_en} lasts {venue.min_minutes}–{venue.max_minutes} minutes.",
                      {"end": [f"the booking lasts {minutes:.0f} minutes"]}, code="duration")


def station_sessions(venue: Venue, day: date, calendar) -> list[Interval]:
    """The station's own recurring sessions, e.g. the after-school class 16:30–19:00 on school days."""
    sessions = []
    for held in STATION_HELD:
        if held["venue_code"] != venue.code:
            continue
        # School days follow the official working-day calendar: a make-up Sunday has class, a holiday not.
        held_today = calendar.is_working_day(day) if held.get("school_days_only") else day.weekday() in held["weekdays"]
        if not held_today:
            continue
        sessions.append(Interval(_at(day, held["start"]), _at(day, held["end"]), "station",
                                 f"{held['title_zh']} {held['title_en']}"))
    return sessions


def holding_bookings(session, venue_id: int, start: datetime, end: datetime):
    """The id, start and end of a venue's bookings that hold part of [start, end), by start: rows,
    not whole bookings, which would bring their venue and organisation along (lazy="joined")."""
    return session.execute(_holding_statement(), holding_window(start, end) | {"venue_id": venue_id}).all()


def holding_window(start: datetime, end: datetime) -> dict:
    """The parameters of _holds() for [start, end) (LONGEST_BOOKING bounds the start). OverflowError
    for a start within a day of the first date a datetime holds."""
    return {"start": start, "end": end, "earliest": start - LONGEST_BOOKING}


def _holds(venue_id):
    """A booking of the venue `venue_id` (a parameter or a column) holding part of [:start, :end).
    On the table's columns, so a Core statement built with it stays Core."""
    booking = Booking.__table__.c
    start, end = bindparam("start", type_=UTCDateTime), bindparam("end", type_=UTCDateTime)
    return and_(booking.venue_id == venue_id, one_of(booking.status, statuses.HOLDING), booking.start < end,
                booking.start > bindparam("earliest", type_=UTCDateTime), booking.end > start)


@functools.cache
def _holding_statement():
    """Built once (issue 14)."""
    return select(Booking.id, Booking.start, Booking.end).where(_holds(bindparam("venue_id"))).order_by(Booking.start)


@functools.cache
def held_column():
    """Whether a booking of the venue :venue_id holds part of [:start, :end) (holding_window), as a column
    that a statement reading other things may select: requests.py reads it with the venue. Built once."""
    return select(Booking.__table__.c.id).where(_holds(bindparam("venue_id"))).exists().label("held")


def busy_intervals(bookings, venue: Venue, day: date, calendar) -> list[Interval]:
    """The day's bookings (their start and end) and the station's own sessions, by start."""
    booked = [Interval(b.start, b.end, "booked") for b in bookings]
    return sorted(booked + station_sessions(venue, day, calendar), key=lambda i: i.start)


def venue_day(connection, venue_id: int, day: date) -> tuple:
    """What availability() reads of a venue (id, code, bookable, opening_hours) and the start and end
    of its bookings that hold part of one day (station time), in one statement (issue 14): (None, [])
    when there is no such venue. Rows of a Core statement, not a Venue: the ORM's part cost 10–15 % of
    the request's CPU (in-process, 1.32 → 1.18 ms on PostgreSQL, 0.92 → 0.78 ms on SQLite). Read on a
    bare connection (`Database.read_statements`), which costs less than a session, or on a session."""
    day_start = datetime.combine(day, time(0), tzinfo=STATION_TZ)
    rows = connection.execute(_venue_day_statement(),
                              holding_window(day_start, day_start + timedelta(days=1)) | {"venue_id": venue_id}).all()
    if not rows:
        return None, []
    return rows[0], [booking for booking in rows if booking.start is not None]


@functools.cache
def _venue_day_statement():
    venue, booking = Venue.__table__, Booking.__table__
    return (select(venue.c.id, venue.c.code, venue.c.bookable, venue.c.opening_hours, booking.c.start, booking.c.end)
            .select_from(venue.outerjoin(booking, _holds(venue.c.id)))
            .where(venue.c.id == bindparam("venue_id")).order_by(booking.c.start))


def free_intervals(opening: list[Interval], busy: list[Interval]) -> list[Interval]:
    free = []
    for window in opening:
        cursor = window.start
        for b in busy:
            if b.end <= cursor or b.start >= window.end:
                continue
            if b.start > cursor:
                free.append(Interval(cursor, b.start))
            cursor = max(cursor, b.end)
        if cursor < window.end:
            free.append(Interval(cursor, window.end))
    return free


def availability(venue, day: date, calendar, bookings) -> dict:
    """The day's free and busy times, from the venue and its holding bookings as venue_day() reads them
    (a Venue serves as well: only its id, code, bookable and opening_hours are read)."""
    busy = busy_intervals(bookings, venue, day, calendar)
    return {"venue_id": venue.id, "date": day, "bookable": venue.bookable,
            "free": free_intervals(opening_intervals(venue, day), busy) if venue.bookable else [],
            "busy": busy}
