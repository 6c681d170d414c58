"""The counter workbench: walk-in errands, the ticket lists and a ticket's steps, at /staff/counter (issue 13).

Every action is one desk call with the signed-in staff member's token (domain/counter_api.py); the
desk decides what is allowed and the page shows its refusal, in words, beside the form that caused it.
A ticket taken in here is opened in the name of the resident's own portal account (domain/walk_ins.py),
so the resident sees it when they sign in with that mobile.
"""

import logging
import secrets

from flask import Blueprint, abort, redirect, render_template, request, url_for

from services.portal.clients import ApiError
from services.portal.domain.counter_api import LISTS, counter_client
from services.portal.domain.sign_in import SignInRefused, parse_phone
from services.portal.i18n import MESSAGES, locale
from services.portal.domain.walk_ins import colleagues, resident_subject_for, staff_names
from services.portal.views.helpers import current_account, now, runtime
from services.portal.views.resident import flat_fields
from services.portal.views.staff_auth import staff_required
from shared.auth import Principal

log = logging.getLogger(__name__)
blp = Blueprint("staff_counter", __name__)

# The steps a ticket can take next, as the desk allows them (services_desk/domain/tickets.py,
# TRANSITIONS), in the order the buttons show. The desk refuses anything else whatever the page shows.
NEXT_STEPS = {
    "submitted": ("accepted", "rejected"),
    "accepted": ("in_progress", "rejected"),
    "in_progress": ("waiting_on_resident", "done", "rejected"),
    "waiting_on_resident": ("in_progress", "rejected"),
}
# The desk's statuses in staff words (never by colour alone): message ids in catalogue/counter.py.
STATUS_WORDS = {status: f"ctr_status_{status}" for status in
                ("submitted", "accepted", "in_progress", "waiting_on_resident", "done", "rejected")}
# A type whose checklist asks for an ID card needs the resident's ID number on the ticket.
ID_CARD = "身份证"
INTAKE_FIELDS = {"name": "resident.name", "phone": "resident.phone", "id_number": "resident.id_number",
                 "summary": "summary"}


@blp.after_request
def never_stored(response):
    """Residents' names and (once revealed) numbers: kept by no browser cache or proxy."""
    response.headers["Cache-Control"] = "no-store"
    return response


def username() -> str:
    return current_account().username


@blp.get("/staff/counter")
@staff_required
def workbench():
    chosen = request.args.get("list", "mine")
    if chosen not in LISTS:
        chosen = "mine"
    client = counter_client()
    counts = {name: client.listed(name, username(), per_page=1)["total"] for name in LISTS}
    tickets = client.listed(chosen, username(), per_page=100)["items"]
    english = locale() == "en"
    names = {item["code"]: item["name_en"] if english else item["name_zh"] for item in client.ticket_types()}
    return render_template("counter/workbench.html", lists=LISTS, chosen=chosen, counts=counts, tickets=tickets,
                           status_words=STATUS_WORDS, names=names)


@blp.get("/staff/counter/find")
@staff_required
def find():
    """Go straight to a ticket by its number (the resident reads it from their SMS)."""
    number = request.args.get("number", "").strip().removeprefix("#")
    if not number.isdigit() or not 0 < int(number) < 2 ** 31:
        return redirect(url_for("staff_counter.workbench"))
    return redirect(url_for("staff_counter.ticket", ticket_id=int(number)))


@blp.get("/staff/counter/new")
@staff_required
def choose_type():
    return render_template("counter/types.html", types=counter_client().ticket_types())


def find_type(code: str) -> dict:
    for ticket_type in counter_client().ticket_types():
        if ticket_type["code"] == code:
            return ticket_type
    abort(404)


def needs_id_number(ticket_type: dict) -> bool:
    return any(ID_CARD in document for document in ticket_type["documents_zh"])


@blp.route("/staff/counter/new/<code>", methods=["GET", "POST"])
@staff_required
def take_in(code):
    """The walk-in's errand: who they are, the documents ticked off as they hand them over. Opened,
    accepted and assigned to whoever took it in; one idempotency key per form drawn."""
    ticket_type = find_type(code)
    values = {"name": "", "phone": "", "id_number": "", "summary": "", "details": "",
              "key": f"counter-{secrets.token_hex(16)}"}
    received, errors = [], {}
    if request.method == "POST":
        fresh_key = values["key"]
        values.update({name: request.form.get(name, "").strip() for name in values})
        values["key"] = values["key"][:200] or fresh_key
        received = [d for d in request.form.getlist("received") if d in ticket_type["documents_zh"]]
        errors = intake_problems(values, ticket_type)
        if not errors:
            try:
                ticket = open_walk_in(ticket_type, values, received)
            except ApiError as error:
                if error.status >= 500 or error.status in (401, 403):
                    raise
                errors = refusal_by_field(error, INTAKE_FIELDS)
            else:
                return redirect(url_for("staff_counter.ticket", ticket_id=ticket["id"], opened=1))
    return render_template("counter/intake.html", type=ticket_type, values=values, received=received, errors=errors,
                           needs_id=needs_id_number(ticket_type)), 422 if errors else 200


def intake_problems(values: dict, ticket_type: dict) -> dict:
    required = ["name", "phone"] + (["id_number"] if needs_id_number(ticket_type) else [])
    problems = {name: ["required"] for name in required if not values[name]}
    if values["phone"] and "phone" not in problems:
        try:
            values["phone"] = parse_phone(values["phone"]).national
        except SignInRefused:
            problems["phone"] = ["ctr_phone_invalid"]
    return problems


def open_walk_in(ticket_type: dict, values: dict, received: list[str]) -> dict:
    client = counter_client()
    account = current_account()
    subject = resident_subject_for(runtime().database, parse_phone(values["phone"]), now(),
                                   Principal(sub=account.subject, role=account.role))
    resident = {"name": values["name"], "phone": values["phone"]}
    if values["id_number"]:
        resident["id_number"] = values["id_number"]
    # The documents by their Chinese names, as the counter's paper forms name them.
    details = "\n".join(filter(None, ["已收材料 Received: " + ("、".join(received) or "—"), values["details"]]))
    ticket = client.open_ticket({
        "type": ticket_type["code"], "idempotency_key": values["key"], "resident": resident,
        "resident_subject": subject, "details": details,
        "summary": values["summary"] or f"{ticket_type['name_zh']} {ticket_type['name_en']}"[:200]})
    log.info("staff %s took in ticket %s at the counter", current_account().id, ticket["id"])
    if ticket["status"] == "submitted":  # not a repeat of a form already sent
        client.assign(ticket["id"], username())
        client.move(ticket["id"], "accepted")
    return ticket


def refusal_by_field(error: ApiError, names: dict) -> dict:
    """The desk's refusal beside the field it names; anything else at the top of the form."""
    flat = dict(flat_fields(error.fields))
    by_field = {name: [("ctr_refused", {"detail": "; ".join(flat[api_field])})]
                for name, api_field in names.items() if api_field in flat}
    return by_field or {"form": [("ctr_refused", {"detail": error.message})]}


# --- one ticket ----------------------------------------------------------------------------

def fetch_ticket(ticket_id: int) -> dict:
    try:
        return counter_client().ticket(ticket_id)
    except ApiError as error:
        if error.status == 404:
            abort(404)
        raise


def ticket_type_of(ticket: dict) -> dict:
    return next((t for t in counter_client().ticket_types() if t["code"] == ticket["type"]),
                {"documents_zh": [], "documents_en": []})


def show_ticket(ticket: dict, errors: dict | None = None, revealed: bool = False, status: int = 200):
    database = runtime().database
    return render_template(
        "counter/ticket.html", ticket=ticket, type=ticket_type_of(ticket), errors=errors or {}, revealed=revealed,
        next_steps=NEXT_STEPS.get(ticket["status"], ()), status_words=STATUS_WORDS, names=staff_names(database),
        colleagues=colleagues(database, username()), me=username(),
        just_opened=request.args.get("opened") == "1"), status


@blp.get("/staff/counter/tickets/<int:ticket_id>")
@staff_required
def ticket(ticket_id):
    return show_ticket(fetch_ticket(ticket_id))


def act(ticket_id: int, form: str, call):
    """Do one desk call for this ticket: back to its page when it worked, or the page again with
    the desk's refusal beside the form that asked."""
    try:
        call(counter_client())
    except ApiError as error:
        if error.status >= 500 or error.status == 401:
            raise
        if error.status == 404:
            abort(404)
        current = fetch_ticket(ticket_id)
        if error.code == "invalid_transition":
            zh, en = MESSAGES[STATUS_WORDS[current["status"]]]
            words = [("ctr_not_now", {"status_zh": zh, "status_en": en})]
        else:
            words = [("ctr_refused", {"detail": error.message})]
        return show_ticket(current, {form: words}, status=error.status if error.status in (409, 422) else 400)
    return redirect(url_for("staff_counter.ticket", ticket_id=ticket_id) + f"#{form}")


@blp.post("/staff/counter/tickets/<int:ticket_id>/move")
@staff_required
def move(ticket_id):
    status = request.form.get("status", "")
    missing = [d.strip() for d in request.form.getlist("missing") if d.strip()]
    other = request.form.get("other_missing", "").strip()
    if other:
        missing.append(other)
    reason = request.form.get("reason", "").strip() or None
    if status == "waiting_on_resident" and not missing:
        return show_ticket(fetch_ticket(ticket_id), {"waiting": ["ctr_pick_missing"]}, status=422)
    if status == "rejected" and not reason:
        return show_ticket(fetch_ticket(ticket_id), {"reject": ["ctr_reason_needed"]}, status=422)
    form = {"waiting_on_resident": "waiting", "rejected": "reject"}.get(status, "next-step")
    return act(ticket_id, form, lambda client: client.move(ticket_id, status, reason, missing))


@blp.post("/staff/counter/tickets/<int:ticket_id>/assign")
@staff_required
def assign(ticket_id):
    assignee = request.form.get("assignee", "").strip()
    if assignee != username() and assignee not in colleagues(runtime().database, username()):
        return show_ticket(fetch_ticket(ticket_id), {"assign": ["ctr_pick_colleague"]}, status=422)
    return act(ticket_id, "assign", lambda client: client.assign(ticket_id, assignee))


@blp.post("/staff/counter/tickets/<int:ticket_id>/notes")
@staff_required
def add_note(ticket_id):
    text = request.form.get("text", "").strip()
    if not text:
        return show_ticket(fetch_ticket(ticket_id), {"note": ["ctr_note_empty"]}, status=422)
    return act(ticket_id, "note", lambda client: client.add_note(ticket_id, text[:2000]))


@blp.post("/staff/counter/tickets/<int:ticket_id>/reveal")
@staff_required
def reveal(ticket_id):
    """The numbers whole on this one answer only (a reload shows them masked again); the desk records it."""
    try:
        ticket = counter_client().reveal(ticket_id)
    except ApiError as error:
        if error.status == 404:
            abort(404)
        raise
    log.info("staff %s revealed the resident's numbers on ticket %s", current_account().id, ticket_id)
    return show_ticket(ticket, revealed=True)
