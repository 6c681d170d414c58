"""The booking side of the station's numbers for one month (issue 13): per venue, the bookings
held and the hours they took, cancellations, no-shows and late cancellations.

A booking belongs to the month its start falls in, station time. One aggregate over the bookings
and one over the integrity ledger, each grouped by venue, whatever the number of venues.
"""

from sqlalchemy import case, func, select

from services.booking.domain.statuses import CANCELLED, NO_SHOW, ON_CALENDAR, REJECTED
from services.booking.models import Booking, CreditEvent, Venue
from shared.sql_time import count_where, hours_between
from shared.station_month import StationMonth

COUNTS = ("requested", "held", "hours", "rejected", "cancelled", "late_cancellations", "no_shows")


def month_statistics(session, month: StationMonth) -> dict:
    in_month = (Booking.start >= month.start) & (Booking.start < month.end)
    held = Booking.status.in_(ON_CALENDAR)
    bookings = session.execute(
        select(Booking.venue_id,
               func.count(Booking.id),
               count_where(held),
               func.coalesce(func.sum(case((held, hours_between(Booking.start, Booking.end)), else_=0.0)), 0.0),
               count_where(Booking.status == REJECTED),
               count_where(Booking.status == CANCELLED),
               count_where(Booking.status == NO_SHOW))
        .where(in_month).group_by(Booking.venue_id)).all()
    late = dict(session.execute(
        select(Booking.venue_id, func.count(CreditEvent.id))
        .join(Booking, CreditEvent.booking_id == Booking.id)
        .where(in_month, CreditEvent.kind == "late_cancellation").group_by(Booking.venue_id)).all())
    by_venue = {venue_id: {"requested": requested, "held": int(held_count), "hours": round(float(hours), 2),
                           "rejected": int(rejected), "cancelled": int(cancelled), "no_shows": int(no_shows),
                           "late_cancellations": late.get(venue_id, 0)}
                for venue_id, requested, held_count, hours, rejected, cancelled, no_shows in bookings}
    venues = []
    for venue in session.scalars(select(Venue).order_by(Venue.id)):
        counts = by_venue.get(venue.id, dict.fromkeys(COUNTS, 0))
        if venue.bookable or any(counts.values()):
            venues.append({"venue_id": venue.id, "code": venue.code, "name_zh": venue.name_zh,
                           "name_en": venue.name_en, **counts})
    totals = {name: sum(v[name] for v in venues) for name in COUNTS}
    totals["hours"] = round(totals["hours"], 2)
    return {"month": month, "start": month.start, "end": month.end, "venues": venues, "totals": totals}
