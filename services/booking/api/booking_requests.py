"""What became of a booking.request_booking task, by its idempotency key."""

from flask.views import MethodView

from services.booking.models import RequestOutcome
from services.booking.schemas import RequestOutcomeArgs, RequestOutcomeSchema
from shared.api import Blueprint
from shared.auth import requires
from shared.errors import NotFound
from shared.service_app import current_runtime

blp = Blueprint("booking_requests", __name__, url_prefix="/booking-requests",
                description="外部预约请求 Outcomes of booking.request_booking tasks")


@blp.route("/<path:idempotency_key>")
class RequestOutcomeByKey(MethodView):
    @requires("system", "staff")
    @blp.arguments(RequestOutcomeArgs, location="query")
    @blp.response(200, RequestOutcomeSchema)
    def get(self, args, idempotency_key):
        """Accepted (with the booking id) or refused (with the reason); 404 until the task has run.

        A key is the task poster's own only together with the organisation the task named, so both are asked.
        """
        with current_runtime().database.reader() as session:
            outcome = session.get(RequestOutcome, (args["organization_id"], idempotency_key))
            if outcome is None:
                raise NotFound(f"尚无此请求的结果 No outcome yet for {idempotency_key}.")
            return outcome
