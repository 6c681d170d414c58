"""The big screen (opened by a signed link, no personal data), its link and the venue door QR posters, and check-in from the door (issue 13).

The screen asks the booking API for the day as the portal itself (`system`: GET /schedule, which
holds no contact); the door asks as the signed-in contact, so the API decides whose booking it is.
"""

import re
from datetime import datetime, time, timedelta

import segno
from flask import Blueprint, abort, current_app, make_response, redirect, render_template, request, url_for

from services.portal.clients import ApiError, ApiUnavailable, Caller
from services.portal.domain import screen
from services.portal.domain.screen_api import screen_client
from services.portal.i18n import MESSAGES
from services.portal.views.helpers import current_account, now, runtime, sign_in_required
from services.portal.views.staff_auth import admin_required
from shared.timefmt import STATION_TZ, to_station_time

blp = Blueprint("screen", __name__)

# How often the screen redraws itself, in seconds; `?refresh=` chooses another within these bounds.
REFRESH_SECONDS, FASTEST_REFRESH, SLOWEST_REFRESH = 60, 5, 3600
# Past this many items a busy day is set in three columns and smaller (still large) type, so it fits 1080 px.
DENSE_ITEMS = 8


@blp.app_context_processor
def screen_words():
    """The screen and the poster hang on a wall for everyone: both languages at once."""
    return {"scr_zh": lambda message_id, **p: MESSAGES[message_id][0].format(**p),
            "scr_en": lambda message_id, **p: MESSAGES[message_id][1].format(**p)}


@blp.app_template_filter("scr_clock")
def station_clock(moment: datetime) -> str:
    return to_station_time(moment).strftime("%H:%M")


@blp.app_template_filter("scr_day")
def station_day(moment: datetime):
    return to_station_time(moment).date()


def last_board() -> screen.LastBoard:
    return current_app.extensions.setdefault("screen_last_board", screen.LastBoard())


# --- the admin's page: the link and the posters ---------------------------------------------

def screen_url(link) -> str:
    return url_for("screen.board", token=screen.link_token(runtime().settings.secret_key, link), _external=True)


@blp.get("/admin/screen")
@admin_required
def manage():
    with runtime().database.reader() as db:
        link = screen.current_link(db)
        url = screen_url(link) if link else None
        made = (link.created_by, link.created_at) if link else None
    venues = [venue for venue in screen_client().venues() if venue["bookable"]]
    return render_template("screen/manage.html", url=url, made=made, venues=venues,
                           renewed=request.args.get("renewed") == "1")


@blp.post("/admin/screen/link")
@admin_required
def new_link():
    with runtime().database.transaction() as db:
        screen.make_new_link(db, current_account(), now())
    return redirect(url_for("screen.manage", renewed=1))


@blp.get("/admin/screen/venues/<code>/poster")
@admin_required
def poster(code: str):
    venue = screen_client().venue_by_code(code)
    if venue is None:
        abort(404)
    target = url_for("screen.check_in", code=code, _external=True)
    # Drawn by segno here; omitsize leaves the size to the stylesheet, so it prints large.
    qr = segno.make(target, error="m").svg_inline(scale=1, border=4, dark="#000", light="#fff", omitsize=True,
                                                  title=f"{venue['name_zh']} {venue['name_en']}")
    return render_template("screen/poster.html", venue=venue, qr_svg=qr, target=target)


# --- the big screen -------------------------------------------------------------------------

def whole_number(text: str, digits: int) -> int | None:
    """ASCII digits only: str.isdigit() also passes "²", which int() refuses."""
    return int(text) if re.fullmatch(rf"[0-9]{{1,{digits}}}", text) else None


def refresh_seconds() -> int:
    asked = whole_number(request.args.get("refresh", ""), 5)
    return REFRESH_SECONDS if asked is None else min(max(asked, FASTEST_REFRESH), SLOWEST_REFRESH)


@blp.get("/screen/<token>")
def board(token: str):
    with runtime().database.reader() as db:
        if screen.link_of_token(db, runtime().settings.secret_key, token) is None:
            abort(404)
    moment = now()
    today = to_station_time(moment).date()
    shown, stale_since = fetch_day(today, moment)
    busy, free, finished = screen.board(shown.venues, shown.schedule, moment) if shown else ([], [], 0)
    # htmx asks for the board alone (its HX-Request header); the first load and every plain request get the page.
    partial = request.headers.get("HX-Request") == "true"
    page = render_template("screen/_board.html" if partial else "screen/board.html", today=today, busy=busy,
                           free=free, finished=finished, shown=shown, stale_since=stale_since, moment=moment,
                           refresh=refresh_seconds(), token=token,
                           dense=sum(len(day.items) for day in busy) > DENSE_ITEMS)
    response = make_response(page)
    response.vary.add("HX-Request")
    response.cache_control.no_store = True
    return response


def fetch_day(today, moment: datetime):
    """Today's venues and schedule from the booking API, kept for when it is away: (what to show, or
    None when there is nothing at all; when it was fetched, if that was before this request)."""
    kept = last_board()
    try:
        client = screen_client(Caller.portal())
        venues, schedule = client.venues(), client.schedule(today)
    except ApiError as exc:
        current_app.logger.warning("the screen shows what it had: %s", exc)
        earlier = kept.of(today)
        return earlier, earlier.fetched_at if earlier else None
    kept.keep(today, venues, schedule, moment)
    return kept, None


# --- the door -------------------------------------------------------------------------------

def door_venue(code: str) -> dict:
    venue = screen_client().venue_by_code(code)
    if venue is None:
        abort(404)
    return venue


@blp.route("/check-in/<code>", methods=["GET", "POST"])
@sign_in_required
def check_in(code: str):
    account = current_account()
    if account.role != "org":
        return render_template("screen/check_in.html", venue=None, refused=True), 403
    venue = door_venue(code)
    moment = now()
    error = None
    if request.method == "POST":
        error = check_in_posted(venue)
        if error is None:
            return redirect(url_for("screen.check_in", code=code, done=1))
    booking, state = booking_at_the_door(venue, account.org_id, moment)
    return render_template("screen/check_in.html", venue=venue, booking=booking, state=state, error=error,
                           done=request.args.get("done") == "1", refused=False), 422 if error else 200


def booking_at_the_door(venue: dict, organization_id: int, moment: datetime):
    """The contact's booking here from now to the end of tomorrow, with its check-in window, and its state."""
    until = datetime.combine(to_station_time(moment).date() + timedelta(days=2), time(0), tzinfo=STATION_TZ)
    client = screen_client()
    candidates = screen.door_candidates(client.bookings_at(venue["id"], organization_id, moment, until), moment)
    booking = screen.door_booking([client.booking(found["id"]) for found in candidates], moment)
    return (booking, screen.door_state(booking, moment)) if booking else (None, None)


def check_in_posted(venue: dict):
    """Check in the booking the form names; the API's refusal as (zh, en) words, else None."""
    booking_id = whole_number(request.form.get("booking_id", ""), 12)
    if booking_id is None:
        abort(400)
    client = screen_client()
    try:
        booking = client.booking(booking_id)
        if booking["venue_id"] != venue["id"]:
            abort(404)
        client.check_in(booking["id"])
    except ApiUnavailable:
        raise
    except ApiError as refusal:
        if refusal.status in (403, 404):
            abort(404)
        return refusal.message
    return None
