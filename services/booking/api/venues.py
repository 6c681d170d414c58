"""The venue catalogue, each venue's free and busy time, and its calendar feed."""

from datetime import datetime, timedelta

from flask import Response
from flask.views import MethodView
from icalendar import Calendar, Event
from marshmallow import fields
from sqlalchemy import select

from services.booking.context import booking_context
from services.booking.domain import statuses
from services.booking.domain.venue_times import availability, venue_day
from services.booking.models import Booking, Venue
from services.booking.schemas import AvailabilityArgs, AvailabilitySchema, VenuePage, VenueSchema
from shared.api import Blueprint
from shared.auth import requires
from shared.db import utcnow
from shared.errors import NotFound
from shared.http_schemas import PageArgs, paginate
from shared.service_app import current_runtime
from shared.timefmt import to_station_time

blp = Blueprint("venues", __name__, url_prefix="/venues", description="场地 The station's venues")

CALENDAR_PAST_DAYS, CALENDAR_FUTURE_DAYS = 30, 400


class AvailabilityWithNotice(AvailabilitySchema):
    """The day's free and busy times, and the notice rule a booking of it meets (SPEC §5)."""

    earliest_bookable_date = fields.Date(metadata={"description": "today plus the notice in working days"})
    notice_working_days = fields.Integer()


def _venue(session, venue_id: int) -> Venue:
    venue = session.get(Venue, venue_id)
    if venue is None:
        raise NotFound(f"没有这个场地 No venue {venue_id}.")
    return venue


@blp.route("")
class Venues(MethodView):
    @requires()
    @blp.arguments(PageArgs, location="query")
    @blp.response(200, VenuePage)
    def get(self, args):
        with current_runtime().database.reader() as session:
            return paginate(session, select(Venue).order_by(Venue.id), args)


@blp.route("/<int:venue_id>")
class VenueById(MethodView):
    @requires()
    @blp.response(200, VenueSchema)
    def get(self, venue_id):
        with current_runtime().database.reader() as session:
            return _venue(session, venue_id)


@blp.route("/<int:venue_id>/availability")
class VenueAvailability(MethodView):
    @requires()
    @blp.arguments(AvailabilityArgs, location="query")
    @blp.response(200, AvailabilityWithNotice)
    def get(self, args, venue_id):
        """Free and busy intervals on one day (station time), the station's own sessions included,
        and the earliest date a booking may start on today (the same rule POST /bookings applies)."""
        context = booking_context()
        with current_runtime().database.read_statements() as connection:
            venue, bookings = venue_day(connection, venue_id, args["date"])
            if venue is None:
                raise NotFound(f"没有这个场地 No venue {venue_id}.")
            answer = availability(venue, args["date"], context.calendar, bookings)
        today = to_station_time(utcnow()).date()
        answer["notice_working_days"] = context.policy.notice_working_days
        answer["earliest_bookable_date"] = context.calendar.earliest_bookable_date(today, context.policy.notice_working_days)
        return answer


@blp.route("/<int:venue_id>/calendar.ics")
class VenueCalendar(MethodView):
    @requires()
    @blp.response(200, description="iCalendar (RFC 5545) of the venue's approved bookings", content_type="text/calendar")
    def get(self, venue_id):
        now = utcnow()
        with current_runtime().database.reader() as session:
            venue = _venue(session, venue_id)
            bookings = session.scalars(select(Booking).where(
                Booking.venue_id == venue_id, Booking.status.in_(statuses.ON_CALENDAR),
                Booking.end > now - timedelta(days=CALENDAR_PAST_DAYS),
                Booking.start < now + timedelta(days=CALENDAR_FUTURE_DAYS)).order_by(Booking.start)).all()
        return Response(venue_calendar(venue, bookings, now).to_ical(), mimetype="text/calendar")


def venue_calendar(venue: Venue, bookings, now: datetime) -> Calendar:
    calendar = Calendar()
    calendar.add("prodid", "-//yizhan//station bookings//ZH")
    calendar.add("version", "2.0")
    calendar.add("x-wr-calname", f"{venue.name_zh} {venue.name_en}")
    calendar.add("x-wr-timezone", "Asia/Shanghai")
    for booking in bookings:
        event = Event()
        event.add("uid", f"booking-{booking.id}@yizhan")
        event.add("dtstamp", now)
        event.add("dtstart", booking.start)
        event.add("dtend", booking.end)
        event.add("summary", booking.title)
        event.add("location", f"{venue.name_zh} {venue.name_en}")
        calendar.add_component(event)
    return calendar
