"""Pages for everyone, no sign-in: the station, its venues and when each is free."""

from datetime import date, timedelta

from flask import Blueprint, abort, jsonify, make_response, redirect, render_template, request, url_for
from sqlalchemy import text

from services.portal.clients import ApiError
from services.portal.i18n import LOCALE_COOKIE, LOCALES
from services.portal.views.helpers import booking_client, now, portal, runtime, safe_next
from shared.timefmt import to_station_time

blp = Blueprint("public", __name__)

DAYS_SHOWN = 7
# static/vendor/htmx.min.js is htmx.org at this version (static/vendor/README.md). It is in the
# script's address, so the file can be cached for a year and an upgrade still reaches every browser.
HTMX_VERSION = "2.0.11"
VENDORED_MAX_AGE = 365 * 24 * 3600
# How far ahead the week pager goes: the booking horizon (SPEC §5, 180 days) and a little more.
LAST_WEEK_OFFSET = timedelta(days=190)


@blp.get("/")
def home():
    return render_template("public/home.html")


@blp.get("/venues")
def venues():
    return render_template("public/venues.html", venues=booking_client().venues())


def week_start(text_value: str | None, today: date, earliest: date) -> date:
    """The Monday of the week asked for (`?week=2026-12-07`), within reach; else that of the
    earliest bookable date: the first week someone who wants to book can use."""
    this_monday = today - timedelta(days=today.weekday())
    try:
        asked = date.fromisoformat(text_value) if text_value else earliest
    except ValueError:
        asked = earliest
    monday = asked - timedelta(days=asked.weekday())
    return min(max(monday, this_monday), this_monday + LAST_WEEK_OFFSET)


@blp.get("/venues/<int:venue_id>")
def venue(venue_id: int):
    client = booking_client()
    try:
        venue_ = client.venue(venue_id)
    except ApiError as exc:
        if exc.status == 404:
            abort(404)
        raise
    today = to_station_time(now()).date()
    earliest = date.fromisoformat(client.availability(venue_id, today)["earliest_bookable_date"])
    monday = week_start(request.args.get("week"), today, earliest)
    days = [client.availability(venue_id, monday + timedelta(days=n)) for n in range(DAYS_SHOWN)]
    for day in days:
        day["date"] = date.fromisoformat(day["date"])
        # Free time before the earliest bookable date cannot be booked: it is not shown as free.
        day["state"] = "past" if day["date"] < today else "too_soon" if day["date"] < earliest else "open"
        free = [{**f, "kind": "free"} for f in day["free"]] if day["state"] == "open" else []
        day["slots"] = sorted(free + day["busy"], key=lambda s: s["start"])
    # htmx asks for the grid alone (its HX-Request header); a history restore and every plain
    # request get the whole page. Vary keeps a cache from handing one to the other.
    partial = request.headers.get("HX-Request") == "true" and not request.headers.get("HX-History-Restore-Request")
    this_monday = today - timedelta(days=today.weekday())
    page = render_template("public/_venue_week.html" if partial else "public/venue.html", venue=venue_, days=days,
                           today=today, earliest=earliest, notice=days[0]["notice_working_days"], monday=monday,
                           previous_week=monday - timedelta(days=7) if monday > this_monday else None,
                           next_week=monday + timedelta(days=7), partial=partial)
    response = make_response(page)
    response.vary.add("HX-Request")
    return response


@blp.app_context_processor
def vendored_scripts():
    return {"htmx_src": url_for("static", filename="vendor/htmx.min.js", v=HTMX_VERSION)}


@blp.after_app_request
def cache_vendored_files(response):
    """A vendored file's address carries its version (?v=), so it never changes under that address."""
    if request.endpoint == "static" and (request.view_args or {}).get("filename", "").startswith("vendor/") \
            and request.args.get("v") == HTMX_VERSION and response.status_code == 200:
        response.cache_control.max_age = VENDORED_MAX_AGE
        response.cache_control.public = True
        response.cache_control.immutable = True
        response.cache_control.no_cache = None
    return response


@blp.get("/language/<code>")
def language(code: str):
    """Switch language with a plain link (works without JavaScript); remembered for a year."""
    if code not in LOCALES:
        abort(404)
    response = make_response(redirect(safe_next(request.args.get("next"))))
    response.set_cookie(LOCALE_COOKIE, code, max_age=365 * 24 * 3600, httponly=True, samesite="Lax",
                        secure=portal().config.cookie_secure)
    return response


@blp.get("/healthz")
def healthz():
    try:
        with runtime().database.reader() as session:
            session.execute(text("SELECT 1"))
    except Exception:
        return jsonify({"status": "unhealthy", "database": "down"}), 503
    return jsonify({"status": "ok", "database": "ok"})
