"""An organisation contact's pages: book a venue, my bookings, cancel, credit, a calendar link.

Every action is the booking API's, called with a token minted for the signed-in contact
(role org, its organisation), so the API decides what the contact may see and do: another
organisation's booking is refused by the API, and the page says "not found" (issue 12).
"""

import functools
import math
import uuid
from datetime import date, datetime, time, timedelta, timezone

from flask import Blueprint, Response, abort, redirect, render_template, request, url_for
from icalendar import Calendar, Event
from itsdangerous import BadSignature, URLSafeSerializer

from services.portal.clients import ApiError, Caller
from services.portal.i18n import month_day
from services.portal.views.helpers import booking_client, current_account, now, runtime, sign_in_required
from shared.timefmt import STATION_TZ, to_station_time

blp = Blueprint("org", __name__)

PER_PAGE = 10
CALENDAR_SALT = "yizhan.portal.org-calendar"
# What a subscribed calendar shows: approved bookings from a month back (the API's venue feed keeps the same spirit).
CALENDAR_STATUSES = ("approved", "checked_in", "completed")
CALENDAR_PAST_DAYS = 31
# Which form field an API refusal belongs next to (the API names its fields in error.fields).
FIELD_OF = {"venue_id": "venue", "start": "start", "end": "end", "title": "title", "attendees": "attendees",
            "contact": "contact_name", "recurrence": "repeat_count"}
# These refusals are about the day, not the hour.
ABOUT_THE_DAY = ("notice_period", "horizon", "closed")


@blp.app_template_filter("day")
def day_of(stamp: str) -> date:
    """The station day of an API time ("2026-12-07T14:00:00+08:00"), for month_day()."""
    return to_station_time(datetime.fromisoformat(stamp)).date()


@blp.app_template_filter("clock")
def clock_of(stamp: str) -> str:
    return to_station_time(datetime.fromisoformat(stamp)).strftime("%H:%M")


def org_required(view):
    @functools.wraps(view)
    @sign_in_required
    def wrapper(*args, **kwargs):
        if current_account().role != "org":
            abort(403)
        return view(*args, **kwargs)

    return wrapper


def own_booking(booking_id: int) -> dict:
    """The booking, if the API lets this contact see it; another organisation's is a plain 404 here."""
    try:
        return booking_client().booking(booking_id)
    except ApiError as exc:
        if exc.status in (403, 404):
            abort(404)
        raise


def venue_names() -> dict[int, dict]:
    return {venue["id"]: venue for venue in booking_client().venues()}


# --- book a venue ---------------------------------------------------------------------------

def blank_form(organization: dict) -> dict:
    contact = organization["contact"]
    return {"venue": request.args.get("venue", ""), "date": request.args.get("date", ""), "start": "", "end": "",
            "title": "", "attendees": "", "contact_name": contact["name"], "contact_phone": contact["phone"],
            # One key per form: a second press of the button (or a resend after a timeout) books once.
            "idempotency_key": uuid.uuid4().hex, "repeat": "", "repeat_count": "", "repeat_until": "",
            "skip_conflicts": False}


FORM_FIELDS = ("venue", "date", "start", "end", "title", "attendees", "contact_name", "contact_phone")
REPEATS = ("weekly", "monthly")
# The booking API's cap on a series (BOOKING_MAX_OCCURRENCES' default); the preview shows no more.
MAX_PREVIEWED = 52


def read_form(errors: dict) -> tuple[dict, dict | None]:
    """The form's values as typed, and the POST /bookings body when they make one (else None and errors)."""
    values = {name: request.form.get(name, "").strip() for name in
              FORM_FIELDS + ("idempotency_key", "repeat", "repeat_count", "repeat_until")}
    if not 8 <= len(values["idempotency_key"]) < 200:
        values["idempotency_key"] = uuid.uuid4().hex
    values["skip_conflicts"] = request.form.get("skip_conflicts") == "1"
    for name in FORM_FIELDS:
        if not values[name]:
            errors.setdefault(name, []).append("required")
    day = parse_day(values, "date", errors)
    times = {}
    for name in ("start", "end"):
        try:
            times[name] = time.fromisoformat(values[name]) if values[name] else None
        except ValueError:
            errors.setdefault(name, []).append("time_invalid")
    if values["attendees"] and not (values["attendees"].isdigit() and 0 < int(values["attendees"]) < 100_000):
        errors.setdefault("attendees", []).append("attendees_invalid")
    if values["venue"] and not values["venue"].isdigit():
        errors.setdefault("venue", []).append("required")
    recurrence = read_recurrence(values, errors)
    if errors:
        return values, None
    account = current_account()
    body = {"venue_id": int(values["venue"]), "organization_id": account.org_id,
            "start": datetime.combine(day, times["start"], STATION_TZ).isoformat(),
            "end": datetime.combine(day, times["end"], STATION_TZ).isoformat(),
            "title": values["title"][:200], "attendees": int(values["attendees"]),
            "contact": {"name": values["contact_name"][:100], "phone": values["contact_phone"].replace(" ", "")},
            "idempotency_key": values["idempotency_key"]}
    if recurrence:
        body.update(recurrence=recurrence, skip_conflicts=values["skip_conflicts"])
    return values, body


def parse_day(values: dict, name: str, errors: dict) -> date | None:
    try:
        return date.fromisoformat(values[name]) if values[name] else None
    except ValueError:
        errors.setdefault(name, []).append("date_invalid")
        return None


def read_recurrence(values: dict, errors: dict) -> dict | None:
    """Weekly or monthly, until a day or a number of times (the API's Recurrence: one or the other)."""
    if values["repeat"] not in REPEATS:
        values["repeat"] = ""
        return None
    count, until = values["repeat_count"], parse_day(values, "repeat_until", errors)
    if count and not (count.isdigit() and 1 <= int(count) <= MAX_PREVIEWED):
        errors.setdefault("repeat_count", []).append(("repeat_count_invalid", {"most": MAX_PREVIEWED}))
    elif bool(count) == bool(values["repeat_until"]):
        errors.setdefault("repeat_count", []).append("repeat_end_required")
    if "repeat_count" in errors or "repeat_until" in errors:
        return None
    return {"frequency": values["repeat"], **({"count": int(count)} if count else {"until": until.isoformat()})}


def series_days(first: date, recurrence: dict) -> list[date]:
    """The days of a series as the booking API expands them (services/booking/domain/requests.py,
    expand_occurrences): the same weekday each week, or the same day of each month, a month without
    that day (the 31st) left out."""
    days, step = [], 0
    until = date.fromisoformat(recurrence["until"]) if "until" in recurrence else None
    while len(days) < recurrence.get("count", MAX_PREVIEWED) and step <= 10 * MAX_PREVIEWED:
        if recurrence["frequency"] == "weekly":
            try:
                day = first + timedelta(weeks=step)
            except OverflowError:  # past year 9999: the API refuses the series by its horizon anyway
                break
        else:
            month = first.month - 1 + step
            try:
                day = date(first.year + month // 12, month % 12 + 1, first.day)
            except ValueError:
                step += 1
                continue
        step += 1
        if until is not None and day > until:
            break
        days.append(day)
    return days


def preview_series(body: dict) -> list[dict]:
    """Each day of the series and whether the room is free for the whole time asked (the availability
    of that day: free intervals, which already leave out busy times, station sessions and closed days)."""
    start, end = datetime.fromisoformat(body["start"]), datetime.fromisoformat(body["end"])
    client, preview = booking_client(), []
    for day in series_days(start.date(), body["recurrence"]):
        wanted_start, wanted_end = datetime.combine(day, start.timetz()), datetime.combine(day, end.timetz())
        try:
            free = client.availability(body["venue_id"], day)["free"]
        except ApiError as exc:
            if exc.status >= 500:
                raise
            free = []
        fits = any(datetime.fromisoformat(f["start"]) <= wanted_start and wanted_end <= datetime.fromisoformat(f["end"])
                   for f in free)
        preview.append({"day": day, "free": fits})
    return preview


def place_refusal(refusal: ApiError, values: dict, errors: dict) -> None:
    """Put the API's refusal next to the field it names; a notice-period refusal names the earliest day in words."""
    if refusal.code == "notice_period" and values["venue"].isdigit():
        answer = booking_client().availability(int(values["venue"]), to_station_time(now()).date())
        earliest = date.fromisoformat(answer["earliest_bookable_date"])
        errors.setdefault("date", []).append(("notice_refused", {
            "date_zh": month_day(earliest, "zh-CN"), "date_en": month_day(earliest, "en"),
            "notice": answer["notice_working_days"]}))
        return
    placed = False
    for api_field in refusal.fields:
        name = FIELD_OF.get(api_field.split(".")[0])
        if name is None:
            continue
        if name in ("start", "end") and refusal.code in ABOUT_THE_DAY:
            name = "date"
        errors.setdefault(name, []).append(("api_said", {"message": refusal.message}))
        placed = True
        break
    if not placed:
        errors.setdefault("form", []).append(("api_said", {"message": refusal.message}))


@blp.route("/org/book", methods=["GET", "POST"])
@org_required
def book():
    client = booking_client()
    organization = client.organization(current_account().org_id)
    venues = [venue for venue in client.venues() if venue["bookable"]]
    errors: dict = {}
    preview = None
    if request.method == "GET":
        values = blank_form(organization)
    else:
        values, body = read_form(errors)
        if body is not None and "recurrence" in body and request.form.get("action") != "book_series":
            # A series is sent only from its preview: the contact first sees which days are taken.
            preview = preview_series(body)
        elif body is not None:
            try:
                booking = client.request_booking(body)
            except ApiError as refusal:
                if refusal.status >= 500:
                    raise
                place_refusal(refusal, values, errors)
            else:
                return redirect(url_for("org.requested", booking_id=booking["id"]))
    # The earliest day is the same for every venue (the notice counts working days, not the room).
    answer = client.availability(venues[0]["id"], to_station_time(now()).date()) if venues else None
    earliest = date.fromisoformat(answer["earliest_bookable_date"]) if answer else None
    return render_template("org/book.html", values=values, errors=errors, venues=venues, organization=organization,
                           preview=preview, earliest=earliest,
                           notice=answer["notice_working_days"] if answer else 0), 422 if errors else 200


@blp.get("/org/bookings/<int:booking_id>/requested")
@org_required
def requested(booking_id: int):
    booking = own_booking(booking_id)
    return render_template("org/requested.html", booking=booking, venue=venue_names().get(booking["venue_id"]))


# --- my bookings ----------------------------------------------------------------------------

@blp.get("/org/bookings")
@org_required
def bookings():
    page = request.args.get("page", "1")
    page = int(page) if page.isdigit() and 0 < int(page) <= 100_000 else 1
    answer = booking_client().bookings(current_account().org_id, page=page, per_page=PER_PAGE)
    pages = max(1, math.ceil(answer["total"] / PER_PAGE))
    return render_template("org/bookings.html", answer=answer, page=page, pages=pages, venues=venue_names(),
                           calendar_url=calendar_url(current_account().org_id))


@blp.get("/org/bookings/<int:booking_id>")
@org_required
def booking(booking_id: int):
    booking_ = own_booking(booking_id)
    return render_template("org/booking.html", booking=booking_, venue=venue_names().get(booking_["venue_id"]))


@blp.route("/org/bookings/<int:booking_id>/cancel", methods=["GET", "POST"])
@org_required
def cancel(booking_id: int):
    booking_ = own_booking(booking_id)
    errors: dict = {}
    if request.method == "POST":
        try:
            booking_client().cancel(booking_id, request.form.get("reason", "").strip()[:500] or None)
        except ApiError as refusal:
            if refusal.status >= 500:
                raise
            errors["form"] = [("api_said", {"message": refusal.message})]
        else:
            return redirect(url_for("org.booking", booking_id=booking_id, cancelled=1))
    score = booking_client().organization(current_account().org_id)["credit_score"]
    return render_template("org/cancel.html", booking=booking_, venue=venue_names().get(booking_["venue_id"]),
                           errors=errors, score=score), 422 if errors else 200


# --- credit ---------------------------------------------------------------------------------

@blp.get("/org/credit")
@org_required
def credit():
    client = booking_client()
    organization = client.organization(current_account().org_id)
    events = client.credit_events(current_account().org_id)["items"]
    return render_template("org/credit.html", organization=organization, events=events)


# --- calendar subscription ------------------------------------------------------------------

def calendar_signer() -> URLSafeSerializer:
    return URLSafeSerializer(runtime().settings.secret_key, salt=CALENDAR_SALT)


def calendar_url(organization_id: int) -> str:
    """A link a phone's calendar app can poll without a bearer header: the organisation, signed.
    Not revocable short of changing the portal's secret (said in the README)."""
    return url_for("org.calendar", token=calendar_signer().dumps({"org": organization_id}), _external=True)


@blp.get("/calendar/<token>.ics")
def calendar(token: str):
    try:
        organization_id = calendar_signer().loads(token)["org"]
    except (BadSignature, KeyError, TypeError):
        abort(404)
    if not isinstance(organization_id, int):
        abort(404)
    # The portal asks as that organisation's contact, so the API hands over that organisation's bookings only.
    client = booking_client(Caller("org", f"portal:calendar:{organization_id}", organization_id))
    venues = {venue["id"]: venue for venue in client.venues()}
    since = (now() - timedelta(days=CALENDAR_PAST_DAYS)).astimezone(STATION_TZ).isoformat()
    bookings_ = []
    for status in CALENDAR_STATUSES:
        page = 1
        while True:
            answer = client.bookings(organization_id, page=page, per_page=100, status=status, **{"from": since})
            bookings_ += answer["items"]
            if page * 100 >= answer["total"]:
                break
            page += 1
    return Response(organization_calendar(bookings_, venues).to_ical(), mimetype="text/calendar",
                    headers={"Cache-Control": "private, max-age=300"})


def organization_calendar(bookings_: list[dict], venues: dict) -> Calendar:
    calendar_ = Calendar()
    calendar_.add("prodid", "-//yizhan//organisation bookings//ZH")
    calendar_.add("version", "2.0")
    calendar_.add("x-wr-calname", "驿站场地预约 Station bookings")
    calendar_.add("x-wr-timezone", "Asia/Shanghai")
    stamp = now()
    for item in sorted(bookings_, key=lambda b: b["start"]):
        venue = venues.get(item["venue_id"], {})
        event = Event()
        event.add("uid", f"booking-{item['id']}@yizhan")
        event.add("dtstamp", stamp)
        # In UTC ("…Z"): icalendar writes a fixed-offset time without a TZID, which a phone would read
        # as floating local time (RFC 5545 §3.3.5); UTC is exact everywhere.
        event.add("dtstart", datetime.fromisoformat(item["start"]).astimezone(timezone.utc))
        event.add("dtend", datetime.fromisoformat(item["end"]).astimezone(timezone.utc))
        event.add("summary", item["title"])
        event.add("location", f"{venue.get('name_zh', '')} {venue.get('name_en', '')}".strip())
        calendar_.add_component(event)
    return calendar_
