"""Booking requests: create (once or recurring), list, read, cancel, check in."""

from flask import g
from flask.views import MethodView
from sqlalchemy import select

from services.booking.context import booking_context
from services.booking.domain.lifecycle import cancel_booking, cancellation_cost, check_in, check_in_window
from services.booking.domain.requests import get_booking, request_booking, series_bookings
from services.booking.models import Booking
from services.booking.schemas import (BookingDetailSchema, BookingListArgs, BookingPage, BookingRequestSchema,
                                      CancelSchema)
from shared.api import Blueprint
from shared.auth import requires
from shared.db import utcnow
from shared.errors import Forbidden
from shared.http_schemas import paginate
from shared.service_app import current_runtime

blp = Blueprint("bookings", __name__, url_prefix="/bookings", description="预约 Booking requests")

ACTORS = ("org", "staff", "system")


def refuse_other_organisations(organization_id: int) -> None:
    if not g.principal.acts_for(organization_id):
        raise Forbidden("只能处理本组织的预约 An organisation acts only for itself.")


def detailed(booking: Booking, series=None, skipped=()) -> Booking:
    """Load what the response shows before the session closes."""
    booking.history  # noqa: B018
    if booking.series_id:
        booking.series_view = {"id": booking.series_id, "bookings": series or [], "skipped": list(skipped)}
    return booking


@blp.route("")
class Bookings(MethodView):
    @requires(*ACTORS)
    @blp.arguments(BookingRequestSchema)
    @blp.response(201, BookingDetailSchema)
    def post(self, data):
        """Ask for a venue, once or weekly/monthly; the request waits for review at the desk."""
        refuse_other_organisations(data["organization_id"])
        context = booking_context()
        with current_runtime().database.transaction() as session:
            result = request_booking(session, data, g.principal.sub, g.principal.key_owner, context.policy,
                                     context.calendar, utcnow())
            return detailed(result.first, result.bookings, result.skipped)

    @requires(*ACTORS)
    @blp.arguments(BookingListArgs, location="query")
    @blp.response(200, BookingPage)
    def get(self, args):
        query = select(Booking).order_by(Booking.start, Booking.id)
        if g.principal.role == "org":
            args["organization_id"] = g.principal.org_id
        for name in ("venue_id", "organization_id", "status", "series_id"):
            if args.get(name) is not None:
                query = query.where(getattr(Booking, name) == args[name])
        if args.get("from_"):
            query = query.where(Booking.end > args["from_"])
        if args.get("to"):
            query = query.where(Booking.start < args["to"])
        with current_runtime().database.reader() as session:
            return paginate(session, query, args)


@blp.route("/<int:booking_id>")
class BookingById(MethodView):
    @requires(*ACTORS)
    @blp.response(200, BookingDetailSchema)
    def get(self, booking_id):
        with current_runtime().database.reader() as session:
            booking = get_booking(session, booking_id)
            refuse_other_organisations(booking.organization_id)
            policy = booking_context().policy
            for name, value in {**cancellation_cost(booking, utcnow(), policy), **check_in_window(booking, policy)}.items():
                setattr(booking, name, value)
            return detailed(booking, series_bookings(session, booking))


@blp.route("/<int:booking_id>/cancel")
class CancelBooking(MethodView):
    @requires("org", "staff")
    @blp.arguments(CancelSchema)
    @blp.response(200, BookingDetailSchema)
    def post(self, data, booking_id):
        """Cancel a pending or approved booking; late cancellation by the organisation costs credit."""
        context = booking_context()
        with current_runtime().database.transaction() as session:
            refuse_other_organisations(get_booking(session, booking_id).organization_id)
            booking = cancel_booking(session, booking_id, g.principal.sub, g.principal.has_role("staff"),
                                     data.get("reason"), utcnow(), context.policy)
            return detailed(booking, series_bookings(session, booking))


@blp.route("/<int:booking_id>/check-in")
class CheckIn(MethodView):
    @requires("org", "staff")
    @blp.response(200, BookingDetailSchema)
    def post(self, booking_id):
        """Check in from 15 minutes before to 30 minutes after the start."""
        with current_runtime().database.transaction() as session:
            refuse_other_organisations(get_booking(session, booking_id).organization_id)
            booking = check_in(session, booking_id, g.principal.sub, utcnow(), booking_context().policy)
            return detailed(booking, series_bookings(session, booking))
