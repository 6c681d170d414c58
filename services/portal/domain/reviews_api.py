"""What the review queue asks the desk and booking APIs, and how it joins their answers.

The desk keeps the review cases (GET /reviews, POST /reviews/{id}/decision); booking keeps the
organisation's live credit standing, its ledger and every booking of a venue. The desk's copy of
the organisation is as it was when the request came in; staff decide on today's score, so the
queue asks booking again. Plain functions over the portal's API clients: no Flask request here.
"""

from collections import defaultdict
from datetime import date, datetime, time, timedelta

from services.portal.clients import ApiError, BookingClient, DeskClient
from shared.timefmt import STATION_TZ, to_station_time

# The booking statuses that hold a venue (booking's lifecycle); rejected and cancelled ones do not.
HOLDING = ("pending_review", "approved", "checked_in", "completed")
# The booking API's own names for a broken booking rule (services/booking/domain/integrity.py VIOLATIONS).
VIOLATIONS = ("late_cancellation", "no_show")
RECENT_VIOLATIONS_SHOWN = 5
PER_PAGE_MAX = 100  # the APIs' PageArgs cap
MAX_PAGES = 10


# --- the desk -------------------------------------------------------------------------------

def open_reviews(desk: DeskClient, page: int, per_page: int) -> dict:
    """Open cases, oldest first (the desk orders by when the request reached it)."""
    return desk.get("/reviews", status="open", page=page, per_page=per_page)


def review(desk: DeskClient, review_id: int) -> dict:
    return desk.get(f"/reviews/{review_id}")


def decide(desk: DeskClient, review_id: int, decision: str, reason: str | None) -> dict:
    """The desk decides a whole case at once: a series' case approves or rejects every occurrence
    still waiting (booking.apply_review_decision); a second decision is its 409."""
    body = {"decision": decision, **({"reason": reason} if reason else {})}
    return desk.request("POST", f"/reviews/{review_id}/decision", json=body)


# --- booking --------------------------------------------------------------------------------

def organisation_standing(booking: BookingClient, case: dict, cache: dict) -> dict:
    """The organisation as booking sees it now (score, suspension, violations in 90 days); the
    desk's snapshot if booking no longer knows it."""
    organization_id = case["organization"]["id"]
    if organization_id not in cache:
        try:
            cache[organization_id] = {**booking.organization(organization_id), "live": True}
        except ApiError as exc:
            if exc.status >= 500:
                raise
            cache[organization_id] = {**case["organization"], "name_en": "", "live": False}
    return cache[organization_id]


def recent_violations(booking: BookingClient, organization_id: int) -> list[dict]:
    """The organisation's newest broken rules (late cancellations, no-shows) from its ledger."""
    events = booking.credit_events(organization_id, per_page=PER_PAGE_MAX)["items"]
    return [event for event in events if event["kind"] in VIOLATIONS][:RECENT_VIOLATIONS_SHOWN]


def venue_bookings(booking: BookingClient, venue_id: int, first: date, last: date) -> list[dict]:
    """Every booking of the venue from the start of `first` to the end of `last` (station days),
    through GET /bookings?venue_id=&from=&to= (staff see every organisation's)."""
    since = datetime.combine(first, time.min, STATION_TZ).isoformat()
    until = datetime.combine(last + timedelta(days=1), time.min, STATION_TZ).isoformat()
    found, page = [], 1
    while page <= MAX_PAGES:
        answer = booking.get("/bookings", venue_id=venue_id, page=page, per_page=PER_PAGE_MAX,
                             **{"from": since, "to": until})
        found += answer["items"]
        if page * PER_PAGE_MAX >= answer["total"]:
            break
        page += 1
    return found


def station_day(stamp: str) -> date:
    return to_station_time(datetime.fromisoformat(stamp)).date()


def occurrences(case: dict) -> list[dict]:
    """The case's bookings: every occurrence of a series, or the one booking."""
    if case.get("series"):
        return case["series"]["occurrences"]
    return [{"booking_id": case["booking_id"], "start": case["start"], "end": case["end"]}]


def others_by_day(case: dict, bookings: list[dict]) -> dict[date, list[dict]]:
    """The venue's other bookings that still hold it, by day, for the days this case asks for."""
    ours = {o["booking_id"] for o in occurrences(case)}
    days = {station_day(o["start"]) for o in occurrences(case)}
    by_day = defaultdict(list)
    for item in sorted(bookings, key=lambda b: b["start"]):
        day = station_day(item["start"])
        if item["id"] not in ours and item["status"] in HOLDING and day in days:
            by_day[day].append(item)
    return by_day


def same_day_bookings(booking: BookingClient, case: dict) -> dict[date, list[dict]]:
    days = sorted(station_day(o["start"]) for o in occurrences(case))
    return others_by_day(case, venue_bookings(booking, case["venue"]["id"], days[0], days[-1]))


def booking_now(booking: BookingClient, case: dict) -> dict | None:
    """The case's (first) booking as booking sees it now, with its contact and, for a series, every
    occurrence's status (a decision reaches booking through its worker); None if booking has no such booking."""
    try:
        return booking.booking(case["booking_id"])
    except ApiError as exc:
        if exc.status >= 500:
            raise
        return None


def occurrence_statuses(detail: dict | None) -> dict[int, str]:
    if detail is None:
        return {}
    if detail.get("series"):
        return {item["id"]: item["status"] for item in detail["series"]["bookings"]}
    return {detail["id"]: detail["status"]}
