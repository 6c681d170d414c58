"""Messages: accept one for sending, follow its status."""

from flask import g
from flask.views import MethodView
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from services.notify.context import notify_context
from services.notify.domain.messages import accept_message, get_message
from services.notify.models import Message
from services.notify.schemas import MessageDetailSchema, MessageListArgs, MessagePage, MessageRequestSchema
from shared.api import Blueprint
from shared.auth import requires
from shared.contracts import CONTRACT_VERSION, message_recipient
from shared.http_schemas import paginate
from shared.service_app import current_runtime

blp = Blueprint("messages", __name__, url_prefix="/messages", description="消息 SMS and e-mail messages")


def _scope_shown() -> str | None:
    """Staff see every message; a system (another community system) only the ones it posted."""
    return None if g.principal.has_role("staff") else g.principal.key_owner


@blp.route("")
class Messages(MethodView):
    @requires("staff", "system")
    @blp.arguments(MessageRequestSchema)
    @blp.response(202, MessageDetailSchema)
    def post(self, data):
        """Send one SMS or e-mail from a template; the same idempotency key from the same caller
        returns the first message (another caller's key is a key of its own)."""
        database, scope = current_runtime().database, g.principal.key_owner
        try:
            with database.transaction() as session:
                message, _created = accept_message(session, {**data, "v": CONTRACT_VERSION}, notify_context().policy,
                                                   scope=scope)
                message.history
                return message
        except IntegrityError:
            # The same caller's same key, accepted a moment ago by another request: that message is the answer.
            with database.reader() as session:
                message = session.scalar(select(Message).where(Message.idempotency_scope == scope,
                                                               Message.idempotency_key == data["idempotency_key"]))
                if message is None:
                    raise
                message.history
                return message

    @requires("staff")
    @blp.arguments(MessageListArgs, location="query")
    @blp.response(200, MessagePage)
    def get(self, args):
        """Messages, newest first; `recipient` in any spelling of the number or address."""
        query = select(Message).order_by(Message.id.desc())
        if args.get("recipient"):
            query = query.where(Message.recipient.in_(_spellings(args["recipient"])))
        if args.get("status"):
            query = query.where(Message.status == args["status"])
        with current_runtime().database.reader() as session:
            return paginate(session, query, args)


def _spellings(recipient: str) -> set[str]:
    """The stored forms a searched recipient may have: as typed, or its normal form for either channel."""
    forms = {recipient}
    for channel in ("sms", "email"):
        try:
            forms.add(message_recipient(channel, recipient))
        except ValueError:
            pass
    return forms


@blp.route("/<int:message_id>")
class MessageById(MethodView):
    @requires("staff", "system")
    @blp.response(200, MessageDetailSchema)
    def get(self, message_id):
        with current_runtime().database.reader() as session:
            message = get_message(session, message_id, only_scope=_scope_shown())
            message.history
            return message
