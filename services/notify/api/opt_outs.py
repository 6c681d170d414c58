"""Recipients who asked for no more messages (退订)."""

from flask.views import MethodView
from sqlalchemy import select

from services.notify.domain.messages import find_opt_out, opt_in, opt_out
from services.notify.models import OptOut
from services.notify.schemas import OptOutPage, OptOutSchema
from shared.api import Blueprint
from shared.auth import requires
from shared.http_schemas import PageArgs, paginate
from shared.service_app import current_runtime

blp = Blueprint("opt_outs", __name__, url_prefix="/opt-outs", description="退订 Opt-outs")


@blp.route("")
class OptOuts(MethodView):
    @requires("staff", "system")
    @blp.arguments(OptOutSchema)
    @blp.response(201, OptOutSchema)
    def post(self, data):
        """From now on this recipient, in any spelling, gets nothing on this channel: messages are `suppressed`."""
        with current_runtime().database.transaction() as session:
            return opt_out(session, data["recipient"], data["channel"], "api")

    @requires("staff")
    @blp.arguments(PageArgs, location="query")
    @blp.response(200, OptOutPage)
    def get(self, args):
        with current_runtime().database.reader() as session:
            return paginate(session, select(OptOut).order_by(OptOut.id.desc()), args)


@blp.route("/<any(sms, email):channel>/<recipient>")
class OptOutOfRecipient(MethodView):
    """One recipient's choice, for the portal's "SMS on or off" page (it calls as `system` for the
    signed-in resident's own phone only)."""

    @requires("staff", "system")
    @blp.response(200, OptOutSchema)
    def get(self, channel, recipient):
        """200 with the opt-out when this recipient, in any spelling, opted out of the channel; 404 when not."""
        with current_runtime().database.reader() as session:
            return find_opt_out(session, recipient, channel)

    @requires("staff", "system")
    @blp.response(204)
    def delete(self, channel, recipient):
        """The recipient takes their opt-out back (opts in again); 204 whether or not there was one."""
        with current_runtime().database.transaction() as session:
            opt_in(session, recipient, channel)
