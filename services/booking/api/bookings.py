"""Booking requests: create, list, read."""

from flask import g
from flask.views import MethodView
from flask_smorest import Blueprint
from sqlalchemy import select

from services.booking.domain.bookings import get_booking, request_booking
from services.booking.models import Booking
from services.booking.schemas import BookingDetailSchema, BookingListArgs, BookingPage, BookingRequestSchema
from shared.auth import requires
from shared.errors import Forbidden
from shared.http_schemas import paginate
from shared.service_app import current_runtime

blp = Blueprint("bookings", __name__, url_prefix="/bookings", description="预约 Booking requests")

BOOKERS = ("org", "staff", "system")
READERS = ("org", "staff", "system")


def _refuse_other_organisations(organization_id: int) -> None:
    if not g.principal.acts_for(organization_id):
        raise Forbidden("只能为本组织预约 An organisation acts only for itself.")


@blp.route("")
class Bookings(MethodView):
    @requires(*BOOKERS)
    @blp.arguments(BookingRequestSchema)
    @blp.response(201, BookingDetailSchema)
    def post(self, data):
        _refuse_other_organisations(data["organization_id"])
        with current_runtime().database.transaction() as session:
            booking = request_booking(session, data, actor=g.principal.sub)
            booking.history  # load before the session closes: a repeated key returns a stored booking
            return booking

    @requires(*READERS)
    @blp.arguments(BookingListArgs, location="query")
    @blp.response(200, BookingPage)
    def get(self, args):
        query = select(Booking).order_by(Booking.start, Booking.id)
        if g.principal.role == "org":
            args["organization_id"] = g.principal.org_id
        for name in ("venue_id", "organization_id", "status"):
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
    @requires(*READERS)
    @blp.response(200, BookingDetailSchema)
    def get(self, booking_id):
        with current_runtime().database.reader() as session:
            booking = get_booking(session, booking_id)
            _refuse_other_organisations(booking.organization_id)
            booking.history  # load before the session closes
            return booking
