"""Booking reviews: the staff's queue and their decisions."""

from flask import g
from flask.views import MethodView
from sqlalchemy import select

from services.services_desk.context import desk_context
from services.services_desk.domain.reviews import OPEN, decide_review, get_review, is_overdue, review_due_date
from services.services_desk.models import ReviewCase
from services.services_desk.schemas import DecisionSchema, ReviewListArgs, ReviewPage, ReviewSchema
from shared.api import Blueprint
from shared.audit import record_change
from shared.auth import requires
from shared.db import utcnow
from shared.http_schemas import paginate
from shared.service_app import current_runtime
from shared.timefmt import to_station_time

blp = Blueprint("reviews", __name__, url_prefix="/reviews", description="审核 Booking reviews")


@blp.route("")
class Reviews(MethodView):
    @requires("staff")
    @blp.arguments(ReviewListArgs, location="query")
    @blp.response(200, ReviewPage)
    def get(self, args):
        query = select(ReviewCase).order_by(ReviewCase.opened_at, ReviewCase.id)
        if args.get("status"):
            query = query.where(ReviewCase.status == args["status"])
        with current_runtime().database.reader() as session:
            page = paginate(session, query, args)
            page["items"] = [with_deadline(case) for case in page["items"]]
            return page


@blp.route("/<int:review_id>")
class ReviewById(MethodView):
    @requires("staff")
    @blp.response(200, ReviewSchema)
    def get(self, review_id):
        with current_runtime().database.reader() as session:
            return with_deadline(get_review(session, review_id))


@blp.route("/<int:review_id>/decision")
class ReviewDecision(MethodView):
    @requires("staff")
    @blp.arguments(DecisionSchema)
    @blp.response(200, ReviewSchema)
    def post(self, data, review_id):
        with current_runtime().database.transaction() as session:
            case = decide_review(session, review_id, data["decision"], data.get("reason"), actor=g.principal.sub)
            # Who decided is on the case too; the audit log keeps it beside the station's other changes.
            record_change(session, g.principal, f"review.{data['decision']}", f"review:{case.id}",
                          before={"status": OPEN}, after={"status": case.status}, reason=data.get("reason"))
            return with_deadline(case)


def with_deadline(case):
    calendar = desk_context().calendar
    case.due_date = review_due_date(case, calendar)
    case.overdue = is_overdue(case, calendar, to_station_time(utcnow()).date())
    return case
