"""The APIs' calls behind the admins' numbers pages (issue 13): each service's month of statistics,
and a week of bookings for the wall calendar. The calls go out as the signed-in admin, so each API
decides again that an admin may see them."""

from datetime import date, datetime, time, timedelta

from services.portal.clients import ApiClient, BookingClient
from shared.station_month import StationMonth
from shared.timefmt import STATION_TZ

# What the wall shows: the bookings that hold their venue for certain (booking's statuses.ON_CALENDAR).
ON_THE_WALL = ("approved", "checked_in", "completed")
PAGE_SIZE = 100  # the APIs' largest page
MOST_PAGES = 50  # 5,000 bookings in a week is far past what eleven venues hold: stop rather than loop on


def month_statistics(booking: ApiClient, desk: ApiClient, notify: ApiClient, month: StationMonth) -> dict:
    """{"booking": ..., "desk": ..., "notify": ...}: GET /statistics?month= of each service."""
    return {name: client.get("/statistics", month=str(month))
            for name, client in (("booking", booking), ("desk", desk), ("notify", notify))}


def all_pages(client: ApiClient, path: str, **params) -> list[dict]:
    items, page = [], 1
    while page <= MOST_PAGES:
        answer = client.get(path, page=page, per_page=PAGE_SIZE, **params)
        items.extend(answer["items"])
        if page * PAGE_SIZE >= answer["total"]:
            break
        page += 1
    return items


def week_bookings(booking: BookingClient, first_day: date) -> list[dict]:
    """The week's bookings on the wall (from 00:00 on the first day, seven days, station time), by start."""
    start = datetime.combine(first_day, time(0), STATION_TZ)
    end = start + timedelta(days=7)
    found = all_pages(booking, "/bookings", **{"from": start.isoformat(), "to": end.isoformat()})
    return sorted((b for b in found if b["status"] in ON_THE_WALL), key=lambda b: (b["start"], b["venue_id"]))


def organisation_names(booking: BookingClient) -> dict[int, str]:
    return {o["id"]: o["name"] for o in all_pages(booking, "/organizations")}
