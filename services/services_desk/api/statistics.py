"""The station's numbers from the desk for one month: errands by type and the follow-up scores,
for the admins' numbers page and for other community systems (issue 13)."""

from flask.views import MethodView

from services.services_desk.domain.statistics import month_statistics
from services.services_desk.schemas import DeskStatisticsSchema
from shared.api import Blueprint
from shared.auth import requires
from shared.station_month import StatisticsArgs
from shared.db import utcnow
from shared.service_app import current_runtime
from shared.timefmt import to_station_time

blp = Blueprint("statistics", __name__, url_prefix="/statistics",
                description="统计 The station's numbers for a month")


@blp.route("")
class Statistics(MethodView):
    @requires("admin", "system")
    @blp.arguments(StatisticsArgs, location="query")
    @blp.response(200, DeskStatisticsSchema)
    def get(self, args):
        """Errands by type: opened, done, overdue and the average days to done; the follow-up scores
        (count, average, how many gave each score). The month is station time (+08:00)."""
        with current_runtime().database.reader() as session:
            return month_statistics(session, args["month"], to_station_time(utcnow()).date())
