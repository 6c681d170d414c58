"""The resident's pages (issue 12, Pages 3): start an errand, follow "my errands", answer the
follow-up question from the SMS, and turn SMS off or on.

Every page asks the desk with the resident's own token, so the desk decides what they may see:
another resident's ticket comes back 403 and is shown as "not found", never its contents.
"""

import functools
import logging
import secrets

from flask import Blueprint, abort, redirect, render_template, request, url_for

from services.portal.clients import ApiError
from services.portal.domain.sign_in import Phone
from services.portal.i18n import locale
from services.portal.views.helpers import (current_account, desk_client, notify_client_as_portal,
                                           sign_in_required)

log = logging.getLogger(__name__)
blp = Blueprint("resident", __name__)

# The desk's statuses in words (never by colour alone): message ids in catalogue/resident.py.
STATUS_WORDS = {status: f"ticket_status_{status}" for status in
                ("submitted", "accepted", "in_progress", "waiting_on_resident", "done", "rejected")}
SCORES = (5, 4, 3, 2, 1)
# What the form sends, and where the desk's refusal names it.
ERRAND_FIELDS = {"name": "resident.name", "phone": "resident.phone", "summary": "summary", "details": "details"}


def residents_only(view):
    """An organisation's contact books venues; errands are a resident's own (the desk agrees)."""

    @functools.wraps(view)
    @sign_in_required
    def wrapper(*args, **kwargs):
        if current_account().role != "resident":
            abort(403)
        return view(*args, **kwargs)

    return wrapper


def own_phone() -> str:
    return Phone(current_account().phone.removeprefix("+86")).national


def own_ticket(ticket_id: int) -> dict:
    """The resident's own ticket; another's (403) or none (404) is the same "not found" page."""
    try:
        return desk_client().ticket(ticket_id)
    except ApiError as error:
        if error.status in (403, 404):
            abort(404)
        raise


def errand_names() -> dict:
    """Each errand type's name in the page's language (a ticket carries both in one `type_name`)."""
    english = locale() == "en"
    return {item["code"]: item["name_en"] if english else item["name_zh"] for item in desk_client().ticket_types()}


@blp.get("/errands")
@residents_only
def my_errands():
    return render_template("resident/errands.html", tickets=desk_client().tickets(), status_words=STATUS_WORDS,
                           names=errand_names())


@blp.get("/errands/new")
@residents_only
def errand_types():
    return render_template("resident/types.html", types=desk_client().ticket_types())


def find_type(code: str) -> dict:
    for ticket_type in desk_client().ticket_types():
        if ticket_type["code"] == code:
            return ticket_type
    abort(404)


@blp.route("/errands/new/<code>", methods=["GET", "POST"])
@residents_only
def start_errand(code):
    """The documents to bring, in plain words, then the form. One idempotency key per form drawn:
    a double tap or a resend of the same form opens one ticket."""
    ticket_type = find_type(code)
    values = {"name": "", "phone": own_phone(), "summary": "", "details": "",
              "key": f"portal-{secrets.token_hex(16)}"}
    errors = {}
    if request.method == "POST":
        fresh_key = values["key"]
        values.update({name: request.form.get(name, "").strip() for name in values})
        values["key"] = values["key"] or fresh_key  # a form sent without its key gets one, never a 500
        errors = missing_fields(values)
        if not errors:
            try:
                ticket = desk_client().open_ticket({
                    "type": code, "idempotency_key": values["key"][:200], "summary": values["summary"],
                    "details": values["details"], "resident": {"name": values["name"], "phone": values["phone"]}})
            except ApiError as error:
                if error.status >= 500 or error.status in (401, 403):
                    raise
                errors = refusal_by_field(error)
            else:
                log.info("resident %s opened ticket %s", current_account().id, ticket["id"])
                return redirect(url_for("resident.errand", ticket_id=ticket["id"], opened=1))
    return render_template("resident/start.html", type=ticket_type, values=values, errors=errors), \
        422 if errors else 200


def missing_fields(values: dict) -> dict:
    return {name: ["required"] for name in ("name", "phone", "summary") if not values[name]}


def refusal_by_field(error: ApiError) -> dict:
    """The desk's refusal beside the field it names; anything else at the top of the form."""
    flat = dict(flat_fields(error.fields))
    by_field = {name: [("api_refused", {"detail": "; ".join(flat[api_field])})]
                for name, api_field in ERRAND_FIELDS.items() if api_field in flat}
    return by_field or {"form": [("api_refused", {"detail": error.message})]}


def flat_fields(fields: dict, prefix: str = ""):
    """{"resident": {"phone": [...]}} and {"resident.phone": [...]} both as ("resident.phone", [...])."""
    for name, value in (fields or {}).items():
        if name == "json" and isinstance(value, dict):
            yield from flat_fields(value, prefix)
        elif isinstance(value, dict):
            yield from flat_fields(value, f"{prefix}{name}.")
        else:
            yield f"{prefix}{name}", [str(v) for v in (value if isinstance(value, list) else [value])]


@blp.get("/errands/<int:ticket_id>")
@residents_only
def errand(ticket_id):
    return render_template("resident/errand.html", ticket=own_ticket(ticket_id), status_words=STATUS_WORDS,
                           names=errand_names(), just_opened=request.args.get("opened") == "1")


@blp.route("/errands/<int:ticket_id>/follow-up", methods=["GET", "POST"])
@residents_only
def follow_up(ticket_id):
    """The question the SMS links to: how satisfied were you, 1 to 5. Five big labelled radio buttons;
    works without JavaScript. The desk records it once, for the resident's own done ticket."""
    ticket = own_ticket(ticket_id)
    error = None
    if request.method == "POST":
        score = request.form.get("satisfaction", "")
        if score not in {str(s) for s in SCORES}:
            error = "choose_score"
        else:
            try:
                desk_client().answer_follow_up(ticket_id, int(score))
            except ApiError as refusal:
                if refusal.status != 409:
                    raise
                error = "already_answered" if refusal.code == "already_answered" else "not_done_yet"
            else:
                return redirect(url_for("resident.follow_up", ticket_id=ticket_id))
    ticket = own_ticket(ticket_id) if request.method == "POST" else ticket
    return render_template("resident/follow_up.html", ticket=ticket, scores=SCORES, error=error,
                           names=errand_names()), 422 if error else 200


@blp.route("/account/sms", methods=["GET", "POST"])
@residents_only
def sms_choice():
    """SMS off or on for the resident's own phone (never a phone from the form). Sign-in codes still
    come when SMS is off: notify sends them as essential (docs/tasks.md, kind sign_in)."""
    notify, phone = notify_client_as_portal(), own_phone()
    if request.method == "POST":
        if request.form.get("sms") == "off":
            notify.opt_out_of_sms(phone)
        elif request.form.get("sms") == "on":
            notify.opt_in_to_sms(phone)
        else:
            abort(400)
        return redirect(url_for("resident.sms_choice", saved=1))
    return render_template("resident/sms.html", opted_out=notify.sms_opted_out(phone), phone=Phone(phone),
                           saved=request.args.get("saved") == "1")
