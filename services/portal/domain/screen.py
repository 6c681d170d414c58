"""The wall screen's signed link, what the screen shows, and which booking the door's QR code
is about (issue 13). Plain functions over the portal's session and the booking API's answers."""

from dataclasses import dataclass, field
from datetime import datetime

from itsdangerous import BadSignature, URLSafeSerializer
from sqlalchemy import select

from services.portal.models import ScreenLink
from shared.audit import record_change
from shared.auth import Principal

SCREEN_SALT = "yizhan.portal.screen"
# A booking at the door: one that holds the venue and may still be checked in, or already was.
AT_THE_DOOR = ("approved", "checked_in")


# --- the signed link ------------------------------------------------------------------------

def signer(secret: str) -> URLSafeSerializer:
    return URLSafeSerializer(secret, salt=SCREEN_SALT)


def current_link(db) -> ScreenLink | None:
    return db.scalar(select(ScreenLink).where(ScreenLink.voided_at.is_(None)).order_by(ScreenLink.id.desc()))


def make_new_link(db, account, now: datetime) -> ScreenLink:
    """A new link; every earlier one stops opening the screen (a link that leaked is voided this way).
    Recorded in the audit log: which admin gave the screen a new address, and which it replaced."""
    voided = []
    for old in db.scalars(select(ScreenLink).where(ScreenLink.voided_at.is_(None))):
        old.voided_at = now
        voided.append(old.id)
    link = ScreenLink(created_by=account.username or account.subject, created_at=now)
    db.add(link)
    db.flush()
    record_change(db, Principal(sub=account.subject, role=account.role), "screen_link.create",
                  f"screen_link:{link.id}", before={"voided_links": []}, after={"voided_links": voided},
                  reason="a new screen link voids the earlier ones")
    return link


def link_token(secret: str, link: ScreenLink) -> str:
    return signer(secret).dumps({"screen": link.id})


def link_of_token(db, secret: str, token: str) -> ScreenLink | None:
    """The link this token is, if the portal signed it and no newer link voided it; else None."""
    try:
        link_id = signer(secret).loads(token).get("screen")
    except (BadSignature, AttributeError, TypeError, ValueError):
        return None
    if not isinstance(link_id, int) or isinstance(link_id, bool):
        return None
    link = db.get(ScreenLink, link_id)
    return link if link is not None and link.voided_at is None else None


# --- what the screen shows ------------------------------------------------------------------

@dataclass
class VenueDay:
    venue: dict
    items: list = field(default_factory=list)


def when(item: dict) -> tuple[datetime, datetime]:
    return datetime.fromisoformat(item["start"]), datetime.fromisoformat(item["end"])


def board(venues: list[dict], schedule: list[dict], now: datetime) -> tuple[list[VenueDay], list[dict], int]:
    """The venues with something still to come today (in the catalogue's order), each with its items
    marked under way or later; the venues free for the rest of the day; how many items are over."""
    days = {venue["id"]: VenueDay(venue) for venue in venues}
    finished = 0
    for item in schedule:
        start, end = when(item)
        if end <= now or item["venue_id"] not in days:
            finished += end <= now
            continue
        days[item["venue_id"]].items.append({**item, "state": "under_way" if start <= now else "later"})
    busy = [day for day in days.values() if day.items]
    free = [day.venue for day in days.values() if not day.items and day.venue.get("bookable")]
    return busy, free, finished


class LastBoard:
    """The last schedule the booking API gave, kept in this process: when the API is briefly away
    the screen shows it, saying from when, rather than going blank."""

    def __init__(self):
        self.day, self.venues, self.schedule, self.fetched_at = None, [], [], None

    def keep(self, day, venues: list[dict], schedule: list[dict], fetched_at: datetime) -> None:
        self.day, self.venues, self.schedule, self.fetched_at = day, venues, schedule, fetched_at

    def of(self, day):
        return self if self.day == day else None


# --- the door -------------------------------------------------------------------------------

# A contact has rarely more than a booking or two at one venue in a day and a half.
MOST_AT_THE_DOOR = 5


def door_candidates(bookings: list[dict], now: datetime) -> list[dict]:
    """The contact's bookings the door may be about, by start: holding the venue or checked in, not ended."""
    ongoing = [b for b in bookings if b["status"] in AT_THE_DOOR and when(b)[1] > now]
    return sorted(ongoing, key=lambda b: b["start"])[:MOST_AT_THE_DOOR]


def door_booking(detailed: list[dict], now: datetime) -> dict | None:
    """Of the candidates (with their check-in windows, by start): one that may be checked in now,
    else the first (checked in and under way, or the next to come)."""
    return next((b for b in detailed if door_state(b, now) == "open"), detailed[0] if detailed else None)


def door_state(booking: dict, now: datetime) -> str:
    """checked_in, open (the button), too_early or closed: by the window the booking API names."""
    if booking["status"] == "checked_in":
        return "checked_in"
    opens, closes = (datetime.fromisoformat(booking[name]) for name in ("check_in_opens", "check_in_closes"))
    return "too_early" if now < opens else "closed" if now > closes else "open"
