"""Booking requests: the station's rules, then one review at the desk.

`POST /bookings` and the `booking.request_booking` task both call
`request_booking`. Every refusal raises before anything is written, so a
refused request stores nothing.

An idempotency key is chosen by the client, so it means something only
together with who sent it: the caller passes that `owner` (api/bookings.py:
`Principal.key_owner` in shared/auth.py, tasks.py `task_owner`) and a repeat is found by the pair, never
by the key alone. Another owner's equal key makes a new request.
"""

import functools
import uuid
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from sqlalchemy import and_, bindparam, func, insert, select, true
from sqlalchemy.exc import IntegrityError

from services.booking.domain import integrity
from services.booking.domain.notices import notify_booker
from services.booking.domain.statuses import PENDING_REVIEW, QUOTA
from services.booking.domain.venue_times import (check_duration, check_opening_hours, held_column, holding_bookings,
                                                 holding_window, station_sessions)
from services.booking.models import Booking, BookingStatusChange, Organization, Venue
from shared import contracts
from shared.db import UTCDateTime, one_of, utcnow
from shared.errors import Conflict, NotFound, Refused
from shared.outbox import enqueue
from shared.sql_time import hours_between
from shared.timefmt import STATION_TZ, to_station_time


@dataclass
class RequestResult:
    bookings: list = field(default_factory=list)
    skipped: list = field(default_factory=list)

    @property
    def first(self) -> Booking:
        return self.bookings[0]


@dataclass(frozen=True)
class Occurrence:
    start: datetime
    end: datetime


def request_booking(session, data: dict, actor: str, owner: str, policy, calendar, now: datetime) -> RequestResult:
    """Store a request (one booking, or one per occurrence of a series) as pending review.

    `actor` is recorded in the history; `owner` scopes the idempotency key (see the module's docstring).
    """
    key = data.get("idempotency_key")
    if key:
        existing = session.scalar(_statements().repeat, {"owner": owner, "key": key})
        if existing is not None:
            return RequestResult(series_bookings(session, existing))
    data = {**data, **_in_station_time(data)}
    # The credit is read once, with the venue and the organisation: a request changes no credit, so the
    # summary serves the review payload below too.
    venue, organization, credit, first = _venue_organization_and_credit(session, data, now, policy)
    integrity.refuse_if_suspended(session, organization, now, credit)
    # Before expanding a series: a start in year 9999 is refused here, not overflowed into year 10000.
    _check_horizon(data["start"], "start", policy, now)
    occurrences = expand_occurrences(data, policy)
    _check_notice(occurrences[0], policy, calendar, now)
    for occurrence in occurrences[1:]:
        _check_horizon(occurrence.start, "recurrence", policy, now)
    _check_size(venue, data["attendees"])
    for occurrence in occurrences:
        check_opening_hours(venue, occurrence.start, occurrence.end)
        check_duration(venue, occurrence.start, occurrence.end)
    free, conflicts = _split_conflicts(session, venue, occurrences, calendar, first)
    if conflicts and not (data.get("skip_conflicts") and free):
        dates = [to_station_time(o.start).date().isoformat() for o in conflicts]
        raise Conflict(f"以下日期该时段已被占用 {venue.name_en} is taken at that time on: {', '.join(dates)}.",
                       {"start": [f"conflicts on {', '.join(dates)}"]}, code="conflict")
    _check_quota(session, organization, free, policy, first)
    result = RequestResult(skipped=[to_station_time(o.start).date() for o in conflicts])
    result.bookings = _store(session, venue, organization, data, free, actor, owner, key)
    enqueue(session, contracts.REVIEW_BOOKING, review_request_payload(session, result.bookings, now, policy, credit))
    notify_booker(session, result.first, "booking_received")
    return result


def _in_station_time(data: dict) -> dict:
    """Start and end as station time. An instant with no date there (after 9999-12-31 or before the
    year 1, e.g. `9999-12-31T23:00-12:00`) is refused: datetime cannot hold it (OverflowError)."""
    moments = {}
    for field in ("start", "end"):
        try:
            moments[field] = to_station_time(data[field])
        except OverflowError:
            raise Refused(f"日期超出范围 The {field} is out of range.",
                          {field: ["out of range: no such date in station time"]}) from None
    return moments


@dataclass(frozen=True)
class FirstOccurrence:
    """What the request's first statement also reads of the requested start and end (issue 14: one
    statement for the checks that can share one), so that a single booking, and a series' first
    occurrence, cost no statement of their own for the conflict and the quota. Each answer serves only
    the occurrence or month it was read for."""

    start: datetime | None = None
    end: datetime | None = None
    held: bool = False
    month: str | None = None
    quota: tuple = (0, 0)

    def held_for(self, occurrence: Occurrence) -> bool | None:
        return self.held if (occurrence.start, occurrence.end) == (self.start, self.end) else None

    def quota_for(self, month: str) -> tuple | None:
        return self.quota if month == self.month else None


def _venue_organization_and_credit(session, data: dict, now, policy):
    """The venue, the organisation, its credit summary and the FirstOccurrence in one statement; which
    one is missing is asked only when one is."""
    start, end = data["start"], data["end"]
    month = _month_of(start)
    try:
        checks = holding_window(start, end) | _month_bounds(start)
    except (OverflowError, ValueError):  # a date at the very ends of the calendar: the horizon or notice rule refuses it
        month, checks = None, dict.fromkeys(("start", "end", "earliest", "first", "after"))
    row = session.execute(_statements().venue_and_organization,
                          {"venue_id": data["venue_id"], **checks,
                           **integrity.credit_parameters(data["organization_id"], now, policy)}).first()
    venue, organization = row[:2] if row is not None else (session.get(Venue, data["venue_id"]),
                                                            session.get(Organization, data["organization_id"]))
    if venue is None:
        raise Refused("没有这个场地 No such venue.", {"venue_id": ["unknown venue"]})
    if not venue.bookable:
        raise Refused(f"{venue.name_zh}不接受预约 {venue.name_en} cannot be booked.",
                      {"venue_id": ["this venue is not bookable"]}, code="not_bookable")
    if organization is None:
        raise Refused("没有这个组织 No such organisation.", {"organization_id": ["unknown organisation"]})
    first = FirstOccurrence() if month is None else FirstOccurrence(
        start, end, bool(row.held), month, (row.quota_count, row.quota_seconds))
    return venue, organization, integrity.summary_of(row, now, policy), first


def _month_of(start: datetime) -> str:
    """The station-time month of `start`, "2026-12" (the year in four digits, as strftime does not
    write a year before 1000)."""
    local = to_station_time(start)
    return f"{local.year:04d}-{local.month:02d}"


def _month_bounds(start: datetime) -> dict:
    """The quota statement's bounds of the station-time month of `start`. ValueError in December 9999."""
    local = to_station_time(start)
    return {"first": datetime(local.year, local.month, 1, tzinfo=STATION_TZ),
            "after": datetime(local.year + local.month // 12, local.month % 12 + 1, 1, tzinfo=STATION_TZ)}


@dataclass(frozen=True)
class _Statements:
    repeat: object
    venue_and_organization: object
    quota: object
    insert_bookings: object
    insert_history: object


@functools.cache
def _statements() -> _Statements:
    """The request's reads, built once with bound parameters: building an ORM statement costs more
    Python than running it (issue 14's profile), and SQLAlchemy caches the compiled form by shape."""
    # The month's quota as one row of both figures (an aggregate with no GROUP BY has exactly one), joined
    # ON true: one pass over the month's bookings, where a scalar subquery each read them twice.
    quota = select(*_quota_columns()).where(_quota_of_month()).subquery("quota")
    return _Statements(
        repeat=select(Booking).where(Booking.idempotency_owner == bindparam("owner"),
                                     Booking.idempotency_key == bindparam("key")),
        # Two rows by their keys, side by side: joined ON true, which says so (no cartesian-product warning);
        # beside them the credit and the FirstOccurrence's answers (whether its time is held, its month's quota).
        venue_and_organization=select(Venue, Organization, *integrity.credit_columns(), held_column(),
                                      quota.c.quota_count, quota.c.quota_seconds)
        .join_from(Venue, Organization, true()).join(quota, true())
        .where(Venue.id == bindparam("venue_id"), Organization.id == bindparam("organization_id")),
        quota=select(*_quota_columns()).where(_quota_of_month()),
        insert_bookings=insert(Booking.__table__).returning(Booking.__table__.c.id, sort_by_parameter_order=True),
        insert_history=insert(BookingStatusChange.__table__),
    )


def _quota_columns() -> tuple:
    """How many, and how many seconds (each rounded, so that floating point never tips a request over the
    quota): one row however many bookings the organisation holds that month."""
    return (func.count().label("quota_count"),
            func.coalesce(func.sum(func.round(hours_between(Booking.start, Booking.end) * 3600)), 0).label("quota_seconds"))


def _quota_of_month():
    """The bookings that count against :organization_id's quota for the month [:first, :after)."""
    return and_(Booking.organization_id == bindparam("organization_id"), one_of(Booking.status, QUOTA),
                Booking.start >= bindparam("first", type_=UTCDateTime), Booking.start < bindparam("after", type_=UTCDateTime))


def _check_size(venue: Venue, attendees: int) -> None:
    if attendees > venue.capacity:
        raise Refused(f"{venue.name_zh}最多容纳{venue.capacity}人 At most {venue.capacity} people fit in {venue.name_en}.",
                      {"attendees": [f"over the capacity of {venue.capacity}"]}, code="over_capacity")


def _check_notice(first: Occurrence, policy, calendar, now: datetime) -> None:
    """The station's rule: book at least three working days ahead (official calendar, 调休 included)."""
    today = to_station_time(now).date()
    earliest = calendar.earliest_bookable_date(today, policy.notice_working_days)
    if to_station_time(first.start).date() < earliest:
        raise Refused(f"须提前{policy.notice_working_days}个工作日预约,最早可约{earliest.isoformat()} "
                      f"Book at least {policy.notice_working_days} working days ahead: the earliest date is "
                      f"{earliest.isoformat()}.", {"start": [f"earliest bookable date is {earliest.isoformat()}"]},
                      code="notice_period")


def _check_horizon(start: datetime, field: str, policy, now: datetime) -> None:
    """How far ahead one may book (Respa's "reservable days in advance"): today + horizon days, inclusive."""
    latest = to_station_time(now).date() + timedelta(days=policy.horizon_days)
    day = to_station_time(start).date()
    if day > latest:
        raise Refused(f"最多可提前{policy.horizon_days}天预约,最晚可约{latest.isoformat()} "
                      f"Bookings open at most {policy.horizon_days} days ahead: the latest date is "
                      f"{latest.isoformat()}, and {day.isoformat()} is after it.",
                      {field: [f"{day.isoformat()} is after the latest bookable date {latest.isoformat()}"]},
                      code="horizon")


def expand_occurrences(data: dict, policy) -> list[Occurrence]:
    """The request's occurrences: one, or a weekly/monthly series (same local time each time)."""
    start, end = data["start"], data["end"]
    if end <= start:
        raise Refused("结束时间须晚于开始时间 The end must be after the start.", {"end": ["must be after start"]})
    recurrence = data.get("recurrence")
    if not recurrence:
        return [Occurrence(start, end)]
    local_start, duration = to_station_time(start), end - start
    count, until = recurrence.get("count"), recurrence.get("until")
    if until is not None and until < local_start.date():
        raise Refused(f"重复预约的截止日期{until.isoformat()}早于开始日期 The series ends ({until.isoformat()}) "
                      f"before its first occurrence ({local_start.date().isoformat()}).",
                      {"recurrence.until": ["before the start"]})
    occurrences, step = [], 0
    while len(occurrences) < (count or policy.max_occurrences + 1):
        if step > 10 * policy.max_occurrences:  # checked first: a skipped month must not loop for ever
            break
        moment = _shifted(local_start, recurrence["frequency"], step)
        step += 1
        if moment is None:  # a monthly date the month does not have (the 31st)
            continue
        if until is not None and moment.date() > until:
            break
        occurrences.append(Occurrence(moment, moment + duration))
    if len(occurrences) > policy.max_occurrences:
        raise Refused(f"一次最多预约{policy.max_occurrences}次 At most {policy.max_occurrences} occurrences.",
                      {"recurrence": [f"more than {policy.max_occurrences} occurrences"]}, code="too_many_occurrences")
    return occurrences


def _shifted(local_start: datetime, frequency: str, step: int) -> datetime | None:
    if frequency == "weekly":
        day = local_start.date() + timedelta(weeks=step)
    else:
        month_index = local_start.month - 1 + step
        try:
            day = date(local_start.year + month_index // 12, month_index % 12 + 1, local_start.day)
        except ValueError:
            return None
    return datetime.combine(day, local_start.timetz().replace(tzinfo=None), tzinfo=STATION_TZ)


def _split_conflicts(session, venue, occurrences, calendar, first: FirstOccurrence):
    free, conflicts = [], []
    for occurrence in occurrences:
        day = to_station_time(occurrence.start).date()
        held = first.held_for(occurrence)
        if held is None:
            held = bool(holding_bookings(session, venue.id, occurrence.start, occurrence.end))
        taken = held or any(s.overlaps(occurrence.start, occurrence.end) for s in station_sessions(venue, day, calendar))
        (conflicts if taken else free).append(occurrence)
    return free, conflicts


def _check_quota(session, organization, occurrences, policy, first: FirstOccurrence) -> None:
    """At most N bookings and H hours per calendar month, per organisation (station time)."""
    by_month = {}
    for o in occurrences:
        by_month.setdefault(_month_of(o.start), []).append(o)
    for month, new in by_month.items():
        held, seconds = first.quota_for(month) or session.execute(
            _statements().quota, {"organization_id": organization.id, **_month_bounds(new[0].start)}).one()
        count = held + len(new)
        hours = (float(seconds) + sum((o.end - o.start).total_seconds() for o in new)) / 3600
        if count > policy.monthly_bookings or hours > policy.monthly_hours:
            raise Refused(f"超出本月预约额度(每月{policy.monthly_bookings}次、{policy.monthly_hours}小时) "
                          f"Over the monthly quota for {month}: {policy.monthly_bookings} bookings and "
                          f"{policy.monthly_hours} hours per organisation.",
                          {"organization_id": [f"{month}: {count} bookings, {hours:g} hours"]}, code="quota")


def _store(session, venue, organization, data, occurrences, actor, owner, key) -> list[Booking]:
    """The bookings and their first history entries, as two Core INSERTs (one row per occurrence each,
    the ids back by RETURNING in the rows' order): the unit of work's bookkeeping for objects nothing
    else in the request changes was a quarter of a request's time (issue 14). The bookings returned
    are built from what was written, for the response, the review and the notices; they are not in
    the session."""
    series_id = str(uuid.uuid4()) if data.get("recurrence") else None
    contact, now = data["contact"], utcnow()
    rows = [{"venue_id": venue.id, "organization_id": organization.id, "start": occurrence.start,
             "end": occurrence.end, "title": data["title"], "attendees": data["attendees"],
             "contact_name": contact["name"], "contact_phone": contact["phone"], "contact_email": contact.get("email"),
             "status": PENDING_REVIEW, "idempotency_key": key if index == 0 else None,
             "idempotency_owner": owner if key and index == 0 else None, "series_id": series_id,
             "created_by": actor, "created_at": now}
            for index, occurrence in enumerate(occurrences)]
    first_entry = {"from_status": None, "to_status": PENDING_REVIEW, "actor": actor, "reason": "request received",
                   "at": now}
    try:
        ids = session.execute(_statements().insert_bookings, rows).scalars().all()
        session.execute(_statements().insert_history, [{"booking_id": booking_id, **first_entry} for booking_id in ids])
    except IntegrityError as exc:  # PostgreSQL's exclusion constraint caught a concurrent request
        raise Conflict(f"该时段已被预约 {venue.name_en} is already booked at that time.",
                       {"start": ["taken by a concurrent request"]}, code="conflict") from exc
    return [Booking(id=booking_id, venue=venue, organization=organization, **row,
                    history=[BookingStatusChange(booking_id=booking_id, **first_entry)])
            for booking_id, row in zip(ids, rows)]


def record_status(session, booking, from_status, to_status, actor, reason) -> None:
    session.add(BookingStatusChange(booking=booking, from_status=from_status, to_status=to_status,
                                    actor=actor, reason=reason))


def review_request_payload(session, bookings: list[Booking], now, policy, credit: dict | None = None) -> dict:
    first, organization = bookings[0], bookings[0].organization
    credit = credit or integrity.credit_summary(session, organization, now, policy)
    payload = {
        "v": contracts.CONTRACT_VERSION,
        "idempotency_key": f"booking:{first.id}:review",
        "booking_id": first.id,
        "venue": {"id": first.venue.id, "code": first.venue.code, "name": first.venue.name_zh},
        "organization": {"id": organization.id, "name": organization.name, "credit_score": credit["credit_score"],
                         "recent_violations": credit["recent_violations"]},
        "start": first.start.isoformat(),
        "end": first.end.isoformat(),
        "title": first.title,
        "attendees": first.attendees,
        "contact": {"name": first.contact_name, "phone": first.contact_phone, "email": first.contact_email},
    }
    if first.series_id:
        payload["series"] = {"id": first.series_id, "occurrences": [
            {"booking_id": b.id, "start": b.start.isoformat(), "end": b.end.isoformat()} for b in bookings]}
    return payload


def series_bookings(session, booking: Booking) -> list[Booking]:
    if booking.series_id is None:
        return [booking]
    return session.scalars(select(Booking).where(Booking.series_id == booking.series_id).order_by(Booking.start)).all()


def get_booking(session, booking_id: int) -> Booking:
    booking = session.get(Booking, booking_id)
    if booking is None:
        raise NotFound(f"没有这个预约 No booking {booking_id}.")
    return booking
