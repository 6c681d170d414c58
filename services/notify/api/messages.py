"""Messages: accept one for sending, follow its status."""

from flask.views import MethodView
from flask_smorest import Blueprint
from sqlalchemy import select

from services.notify.context import notify_context
from services.notify.domain.messages import accept_message, get_message
from services.notify.models import Message
from services.notify.schemas import MessageDetailSchema, MessageListArgs, MessagePage, MessageRequestSchema
from shared.auth import requires
from shared.contracts import CONTRACT_VERSION
from shared.http_schemas import paginate
from shared.service_app import current_runtime

blp = Blueprint("messages", __name__, url_prefix="/messages", description="消息 SMS and e-mail messages")


@blp.route("")
class Messages(MethodView):
    @requires("staff", "system")
    @blp.arguments(MessageRequestSchema)
    @blp.response(202, MessageDetailSchema)
    def post(self, data):
        """Send one SMS or e-mail from a template; the same idempotency key returns the first message."""
        with current_runtime().database.transaction() as session:
            message, _created = accept_message(session, {**data, "v": CONTRACT_VERSION}, notify_context().policy)
            message.history
            return message

    @requires("staff")
    @blp.arguments(MessageListArgs, location="query")
    @blp.response(200, MessagePage)
    def get(self, args):
        query = select(Message).order_by(Message.id.desc())
        for name in ("recipient", "status"):
            if args.get(name):
                query = query.where(getattr(Message, name) == args[name])
        with current_runtime().database.reader() as session:
            return paginate(session, query, args)


@blp.route("/<int:message_id>")
class MessageById(MethodView):
    @requires("staff", "system")
    @blp.response(200, MessageDetailSchema)
    def get(self, message_id):
        with current_runtime().database.reader() as session:
            message = get_message(session, message_id)
            message.history
            return message
