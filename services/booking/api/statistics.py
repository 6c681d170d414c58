"""The station's numbers from the booking service for one month: for the admins' numbers page and
for other community systems (the street office's reports), issue 13."""

from flask.views import MethodView

from services.booking.domain.statistics import month_statistics
from services.booking.schemas import BookingStatisticsSchema
from shared.api import Blueprint
from shared.auth import requires
from shared.station_month import StatisticsArgs
from shared.service_app import current_runtime

blp = Blueprint("statistics", __name__, url_prefix="/statistics",
                description="统计 The station's numbers for a month")


@blp.route("")
class Statistics(MethodView):
    @requires("admin", "system")
    @blp.arguments(StatisticsArgs, location="query")
    @blp.response(200, BookingStatisticsSchema)
    def get(self, args):
        """Per venue: bookings starting in the month (station time, +08:00), the held ones and their
        hours, rejections, cancellations, late cancellations (from the integrity ledger) and no-shows."""
        with current_runtime().database.reader() as session:
            return month_statistics(session, args["month"])
