"""Errand types and what a resident must bring: data an admin changes."""

from flask.views import MethodView
from flask_smorest import Blueprint
from sqlalchemy import select

from services.services_desk.models import TicketType
from services.services_desk.schemas import TicketTypePage, TicketTypeSchema, TicketTypeUpdateSchema
from shared.auth import requires
from shared.http_schemas import PageArgs, paginate
from shared.service_app import current_runtime

blp = Blueprint("ticket_types", __name__, url_prefix="/ticket-types",
                description="代办事项 Errand types with their documents and time limits")


@blp.route("")
class TicketTypes(MethodView):
    @requires()
    @blp.arguments(PageArgs, location="query")
    @blp.response(200, TicketTypePage)
    def get(self, args):
        with current_runtime().database.reader() as session:
            return paginate(session, select(TicketType).order_by(TicketType.code), args)


@blp.route("/<code>")
class TicketTypeByCode(MethodView):
    @requires("admin")
    @blp.arguments(TicketTypeUpdateSchema)
    @blp.response(200, TicketTypeSchema)
    def put(self, data, code):
        """Create or change an errand type; open tickets keep the due date they were given."""
        with current_runtime().database.transaction() as session:
            ticket_type = session.get(TicketType, code) or TicketType(code=code)
            for name, value in data.items():
                setattr(ticket_type, name, value)
            session.add(ticket_type)
            return ticket_type
