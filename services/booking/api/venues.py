"""The venue catalogue."""

from flask.views import MethodView
from flask_smorest import Blueprint
from sqlalchemy import select

from services.booking.models import Venue
from services.booking.schemas import VenuePage, VenueSchema
from shared.auth import requires
from shared.errors import NotFound
from shared.http_schemas import PageArgs, paginate
from shared.service_app import current_runtime

blp = Blueprint("venues", __name__, url_prefix="/venues", description="场地 The station's venues")


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
            venue = session.get(Venue, venue_id)
            if venue is None:
                raise NotFound(f"没有这个场地 No venue {venue_id}.")
            return venue
