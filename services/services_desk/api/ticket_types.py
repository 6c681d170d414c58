"""Errand types and what a resident must bring: data an admin changes."""

from flask import g
from flask.views import MethodView
from sqlalchemy import select

from services.services_desk.models import TicketType
from services.services_desk.schemas import (TicketTypeCreateSchema, TicketTypePage, TicketTypePatchSchema, TicketTypeSchema,
                                            TicketTypeUpdateSchema)
from shared.api import Blueprint
from shared.audit import record_change
from shared.auth import requires
from shared.errors import Conflict, NotFound, Refused
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

    @requires("admin")
    @blp.arguments(TicketTypeCreateSchema)
    @blp.response(201, TicketTypeSchema)
    def post(self, data):
        """A new errand type; a code already in use is a 409 (change that one with PATCH)."""
        check_checklists(data)
        with current_runtime().database.transaction() as session:
            if session.get(TicketType, data["code"]) is not None:
                raise Conflict(f"代码已被使用 The code {data['code']!r} is taken.", {"code": ["taken"]})
            ticket_type = TicketType(**data)
            session.add(ticket_type)
            record_change(session, g.principal, "errand_type.create", f"errand_type:{ticket_type.code}",
                          after=type_fields(ticket_type))
            return ticket_type


# What an errand type is, for its audit entries.
AUDITED = ("name_zh", "name_en", "documents_zh", "documents_en", "limit_working_days", "active")


def type_fields(ticket_type: TicketType) -> dict:
    return {name: getattr(ticket_type, name) for name in AUDITED}


def check_checklists(ticket_type: dict) -> None:
    """The Chinese and English checklists are one list in two languages: the same number of documents."""
    if len(ticket_type["documents_zh"]) != len(ticket_type["documents_en"]):
        problem = "the Chinese and English lists must name the same number of documents"
        raise Refused(f"中英文材料清单项数不同 {problem}.", {"documents_en": [problem]})


@blp.route("/<code>")
class TicketTypeByCode(MethodView):
    @requires("admin")
    @blp.arguments(TicketTypeUpdateSchema)
    @blp.response(200, TicketTypeSchema)
    def put(self, data, code):
        """Create or change an errand type; open tickets keep the due date they were given."""
        with current_runtime().database.transaction() as session:
            existing = session.get(TicketType, code)
            before = type_fields(existing) if existing is not None else None
            ticket_type = existing or TicketType(code=code)
            for name, value in data.items():
                setattr(ticket_type, name, value)
            session.add(ticket_type)
            record_change(session, g.principal, "errand_type.update" if existing else "errand_type.create",
                          f"errand_type:{code}", before=before, after=type_fields(ticket_type))
            return ticket_type

    @requires("admin")
    @blp.arguments(TicketTypePatchSchema)
    @blp.response(200, TicketTypeSchema)
    def patch(self, data, code):
        """Change some fields of an errand type (`active: false` takes it off the counter's list);
        open tickets keep the due date they were given."""
        with current_runtime().database.transaction() as session:
            ticket_type = session.get(TicketType, code)
            if ticket_type is None:
                raise NotFound(f"没有这个代办事项 No errand type {code!r}.")
            before = type_fields(ticket_type)
            for name, value in data.items():
                setattr(ticket_type, name, value)
            check_checklists({"documents_zh": ticket_type.documents_zh, "documents_en": ticket_type.documents_en})
            record_change(session, g.principal, "errand_type.update", f"errand_type:{code}", before=before,
                          after=type_fields(ticket_type))
            return ticket_type
