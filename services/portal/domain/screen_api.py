"""The booking API calls of the wall screen and the door (issue 13), beside the portal's
BookingClient: the day's schedule (asked as the portal itself, `system`), a contact's bookings
at one venue, and check-in (asked as the signed-in contact)."""

from datetime import date, datetime

from flask import g

from services.portal.clients import BookingClient, Caller
from services.portal.views.helpers import current_account, portal, runtime


class ScreenBookingClient(BookingClient):
    def schedule(self, day: date) -> list[dict]:
        return self.get("/schedule", date=day.isoformat())["items"]

    def venue_by_code(self, code: str) -> dict | None:
        return next((venue for venue in self.venues() if venue["code"] == code), None)

    def bookings_at(self, venue_id: int, organization_id: int, since: datetime, until: datetime) -> list[dict]:
        """The organisation's bookings at the venue that end after `since` and start before `until`."""
        return self.get("/bookings", venue_id=venue_id, organization_id=organization_id, per_page=100,
                        **{"from": since.isoformat(), "to": until.isoformat()})["items"]

    def check_in(self, booking_id: int) -> dict:
        return self.request("POST", f"/bookings/{booking_id}/check-in")


def screen_client(caller: Caller | None = None) -> ScreenBookingClient:
    """As views/helpers.booking_client(): the signed-in account, or the caller given."""
    config = portal().config
    caller = caller or Caller.of(current_account())
    return ScreenBookingClient(config.api_urls["booking"], runtime().settings.secret_key, caller,
                               config.api_token_ttl_seconds, g.get("request_id", ""))
