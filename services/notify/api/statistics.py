"""The station's numbers from notify for one month: SMS and e-mail sent and failed, for the admins'
numbers page and for other community systems (issue 13)."""

from flask.views import MethodView

from services.notify.domain.statistics import month_statistics
from services.notify.schemas import NotifyStatisticsSchema
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
    @blp.response(200, NotifyStatisticsSchema)
    def get(self, args):
        """SMS and e-mail accepted in the month (station time, +08:00), by what became of them:
        sent (delivered among them), failed, suppressed (opted out, capped, expired) or still waiting."""
        with current_runtime().database.reader() as session:
            return month_statistics(session, args["month"])
