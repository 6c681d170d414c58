"""Recipients who asked for no more messages (退订)."""

from flask.views import MethodView
from flask_smorest import Blueprint
from sqlalchemy import select

from services.notify.domain.messages import opt_out
from services.notify.models import OptOut
from services.notify.schemas import OptOutPage, OptOutSchema
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
