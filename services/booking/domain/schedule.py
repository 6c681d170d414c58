"""One day at the station: every venue's bookings that are on (approved, under way or done) and
the station's own sessions, for the wall screen (issue 13). Nothing personal: no contact."""

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from sqlalchemy import select

from services.booking.domain import statuses
from services.booking.domain.venue_times import station_sessions
from services.booking.models import Booking, Venue
from shared.timefmt import STATION_TZ


@dataclass(frozen=True)
class ScheduleItem:
    kind: str  # booking | station
    venue_id: int
    start: datetime
    end: datetime
    title: str
    booking_id: int | None = None
    status: str | None = None
    organization_name: str | None = None
    organization_name_en: str | None = None


def day_schedule(session, day: date, calendar) -> list[ScheduleItem]:
    """What happens at each venue on this station day, by start time: the bookings a venue's
    calendar feed shows (statuses.ON_CALENDAR) that overlap the day, and the station's sessions."""
    day_start = datetime.combine(day, time(0), tzinfo=STATION_TZ)
    bookings = session.scalars(select(Booking).where(
        Booking.status.in_(statuses.ON_CALENDAR), Booking.start < day_start + timedelta(days=1),
        Booking.end > day_start)).all()
    items = [ScheduleItem("booking", b.venue_id, b.start, b.end, b.title, b.id, b.status, b.organization.name,
                          b.organization.name_en) for b in bookings]
    for venue in session.scalars(select(Venue).order_by(Venue.id)):
        items += [ScheduleItem("station", venue.id, s.start, s.end, s.title)
                  for s in station_sessions(venue, day, calendar)]
    return sorted(items, key=lambda i: (i.start, i.venue_id, i.booking_id or 0))
