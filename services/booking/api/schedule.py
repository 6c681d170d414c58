"""The station's day: every venue's bookings and sessions, with no contact in them (the wall screen)."""

from flask.views import MethodView

from services.booking.context import booking_context
from services.booking.domain.schedule import day_schedule
from services.booking.schemas import ScheduleArgs, ScheduleSchema
from shared.api import Blueprint
from shared.auth import requires
from shared.service_app import current_runtime

blp = Blueprint("schedule", __name__, url_prefix="/schedule", description="当日安排 The station's day")


@blp.route("")
class Schedule(MethodView):
    @requires("staff", "system")
    @blp.arguments(ScheduleArgs, location="query")
    @blp.response(200, ScheduleSchema)
    def get(self, args):
        """One station day (Asia/Shanghai) at every venue: approved, checked-in and completed bookings,
        with the organisation's name, and the station's own sessions. No contact name, phone or e-mail:
        the portal shows this on the station's wall screen. Staff, and other systems (`system`)."""
        with current_runtime().database.reader() as session:
            items = day_schedule(session, args["date"], booking_context().calendar)
        return {"date": args["date"], "items": items}
