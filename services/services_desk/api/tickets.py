"""Errand tickets at the counter: open, list, read, assign, move, note, follow up."""

from flask import g
from flask.views import MethodView
from sqlalchemy import select

from services.services_desk.context import desk_context
from services.services_desk.domain import tickets
from services.services_desk.models import Ticket
from services.services_desk.schemas import (AssignSchema, FollowUpSchema, NoteSchema, TicketCreateSchema,
                                            TicketDetailSchema, TicketListArgs, TicketPage, TransitionSchema)
from shared.api import Blueprint
from shared.audit import record_change
from shared.auth import Principal, requires
from shared.db import utcnow
from shared.errors import Forbidden
from shared.http_schemas import paginate
from shared.personal_data import mask_id_number, mask_mobile
from shared.service_app import current_runtime
from shared.timefmt import to_station_time

blp = Blueprint("tickets", __name__, url_prefix="/tickets", description="代办工单 Errand tickets")


def today():
    return to_station_time(utcnow()).date()


def shown(ticket: Ticket, unmasked: bool = False) -> Ticket:
    """Attach what the response shows: the deadline flag, and the resident masked unless asked whole."""
    ticket.flag = tickets.deadline_flag(ticket, desk_context().calendar, today())
    ticket.resident_view = {
        "name": ticket.resident_name, "email": ticket.resident_email,
        "phone": ticket.resident_phone if unmasked else mask_mobile(ticket.resident_phone),
        "id_number": ticket.resident_id_number if unmasked else mask_id_number(ticket.resident_id_number),
    }
    ticket.history  # noqa: B018  (load before the session closes)
    return ticket


def owner_of_new_ticket(data: dict) -> str:
    """Who will see the ticket as theirs: the resident it was taken in for, or whoever opened it.
    Only staff name another owner; a resident naming anyone (even themself) is refused."""
    subject = data.pop("resident_subject", None)
    if subject is None:
        return g.principal.identity
    if not g.principal.has_role("staff"):
        raise Forbidden("只有工作人员可以为居民代开工单 Only staff open a ticket in a resident's name.")
    return Principal(sub=subject, role="resident").identity


@blp.route("")
class Tickets(MethodView):
    @requires("staff", "resident")
    @blp.arguments(TicketCreateSchema)
    @blp.response(201, TicketDetailSchema)
    def post(self, data):
        """Open a ticket: staff at the counter, or a resident for themself. Staff taking one in for a
        resident name the resident's subject (`resident_subject`), and the ticket is the resident's."""
        with current_runtime().database.transaction() as session:
            return shown(tickets.create_ticket(session, data, g.principal.sub, owner_of_new_ticket(data),
                                               desk_context().calendar, today()))

    @requires("staff", "resident")
    @blp.arguments(TicketListArgs, location="query")
    @blp.response(200, TicketPage)
    def get(self, args):
        """Staff see every ticket; a resident only those they opened (their "my errands" page)."""
        query = select(Ticket).order_by(Ticket.due_date, Ticket.id)
        if not g.principal.has_role("staff"):
            query = query.where(Ticket.owner == g.principal.identity)
        if args.get("status"):
            query = query.where(Ticket.status == args["status"])
        if args.get("type"):
            query = query.where(Ticket.type_code == args["type"])
        if args.get("assignee"):
            query = query.where(Ticket.assignee == args["assignee"])
        if args.get("unassigned"):
            query = query.where(Ticket.assignee.is_(None))
        if "open" in args:
            open_status = Ticket.status.not_in(tickets.FINAL)
            query = query.where(open_status if args["open"] else ~open_status)
        if args.get("flag"):
            query = query.where(Ticket.status.not_in(tickets.FINAL),
                                *tickets.deadline_flag_condition(args["flag"], desk_context().calendar, today()))
        if args.get("overdue"):
            due_by = desk_context().calendar.add_working_days(today(), 1)
            query = query.where(Ticket.status.not_in(tickets.FINAL), Ticket.due_date <= due_by)
        with current_runtime().database.reader() as session:
            page = paginate(session, query, args)
            page["items"] = [shown(t) for t in page["items"]]
            return page


@blp.route("/<int:ticket_id>")
class TicketById(MethodView):
    @requires("staff", "resident")
    @blp.response(200, TicketDetailSchema)
    def get(self, ticket_id):
        """Staff see every ticket, a resident their own; the mobile and ID numbers masked for both
        (POST /tickets/{id}/reveal shows them whole, on purpose, and is recorded)."""
        with current_runtime().database.reader() as session:
            ticket = tickets.get_ticket(session, ticket_id)
            if not g.principal.has_role("staff") and ticket.owner != g.principal.identity:
                raise Forbidden("只能查看本人的工单 A resident sees only their own tickets.")
            return shown(ticket)


@blp.route("/<int:ticket_id>/reveal")
class TicketReveal(MethodView):
    @requires("staff")
    @blp.response(200, TicketDetailSchema)
    def post(self, ticket_id):
        """The resident's mobile and ID number whole, for a staff member who asked on purpose (a
        button at the counter); the ticket's history records who did and when."""
        with current_runtime().database.transaction() as session:
            ticket = tickets.get_ticket(session, ticket_id)
            tickets.record_personal_data_view(session, ticket, g.principal.sub)
            # Also where an admin looks for who did what (issue 13): a look at a resident's numbers.
            record_change(session, g.principal, "ticket.reveal_personal_data", f"ticket:{ticket.id}")
            return shown(ticket, unmasked=True)


@blp.route("/<int:ticket_id>/transition")
class TicketTransition(MethodView):
    @requires("staff")
    @blp.arguments(TransitionSchema)
    @blp.response(200, TicketDetailSchema)
    def post(self, data, ticket_id):
        """submitted → accepted → in_progress ⇄ waiting_on_resident → done; rejected from any open status."""
        with current_runtime().database.transaction() as session:
            return shown(tickets.transition(session, ticket_id, data["status"], g.principal.sub, data.get("reason"),
                                            data.get("missing_documents"), current_runtime().settings.portal_url))


@blp.route("/<int:ticket_id>/assign")
class TicketAssign(MethodView):
    @requires("staff")
    @blp.arguments(AssignSchema)
    @blp.response(200, TicketDetailSchema)
    def post(self, data, ticket_id):
        with current_runtime().database.transaction() as session:
            return shown(tickets.assign(session, ticket_id, data["assignee"], g.principal.sub))


@blp.route("/<int:ticket_id>/notes")
class TicketNotes(MethodView):
    @requires("staff")
    @blp.arguments(NoteSchema)
    @blp.response(201, TicketDetailSchema)
    def post(self, data, ticket_id):
        with current_runtime().database.transaction() as session:
            return shown(tickets.add_note(session, ticket_id, data["text"], g.principal.sub))


@blp.route("/<int:ticket_id>/follow-up")
class TicketFollowUp(MethodView):
    @requires("staff", "resident")
    @blp.arguments(FollowUpSchema)
    @blp.response(200, TicketDetailSchema)
    def post(self, data, ticket_id):
        """After done: the resident's satisfaction (1–5) and a remark. Staff record what the resident said on
        the phone; a resident answers the SMS's question themself, for their own ticket, once."""
        with current_runtime().database.transaction() as session:
            if g.principal.has_role("staff"):
                return shown(tickets.record_follow_up(session, ticket_id, data["satisfaction"], data.get("remark"),
                                                      g.principal.sub))
            return shown(tickets.record_residents_follow_up(session, ticket_id, data["satisfaction"],
                                                            data.get("remark"), g.principal.sub,
                                                            g.principal.identity))
