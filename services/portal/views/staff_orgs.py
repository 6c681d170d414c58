"""Organisations for staff: create and edit, contact phones, the credit ledger and its adjustments, at /staff/organisations (issue 13).

Every change is the booking API's, called as the signed-in staff account: the API checks the
role, the fields and the rules (a phone speaks for one organisation; the score stays 0…100;
only a suspension in force can be lifted) and its refusal is shown beside the field it names.
"""

import math

from flask import Blueprint, redirect, render_template, request, url_for

from services.portal.clients import ApiError
from services.portal.domain.organisations_api import organisations_client
from services.portal.models import Account
from services.portal.views.helpers import runtime
from services.portal.views.staff_auth import staff_required
from shared.personal_data import mainland_mobile

blp = Blueprint("staff_orgs", __name__)

PER_PAGE = 20
KINDS = ("party_org", "social_group", "unit")
RECORD_FIELDS = ("name", "name_en", "kind", "contact_name", "contact_phone", "contact_email")
# Which form field an API refusal belongs next to (the API names its fields in error.fields).
FIELD_OF = {"name": "name", "name_en": "name_en", "kind": "kind", "contact.name": "contact_name",
            "contact.phone": "contact_phone", "contact.email": "contact_email", "phone": "phone",
            "points": "points", "reason": "reason"}
# What a page says after a change went through (?done=…); anything else is ignored.
DONE = ("created", "saved", "phone_added", "phone_removed", "adjusted", "lifted")
MAX_REASON = 500


@blp.app_template_filter("orgs_phone")
def plain_phone(phone: str) -> str:
    """A mainland mobile as people read it aloud, 139 0000 1301; anything else as stored."""
    try:
        national = mainland_mobile(phone)
    except (ValueError, TypeError):
        return phone
    return f"{national[:3]} {national[3:7]} {national[7:]}"


def place_refusal(refusal: ApiError, errors: dict) -> None:
    """Put the API's refusal next to the field it names, else above the form; a 5xx is not a refusal."""
    if refusal.status >= 500:
        raise refusal
    for name, problem in refusal.fields.items():
        paths = [f"{name}.{inner}" for inner in problem] if isinstance(problem, dict) else [name]
        for path in paths:
            if path in FIELD_OF:
                errors.setdefault(FIELD_OF[path], []).append(("api_said", {"message": refusal.message}))
                return
    errors.setdefault("form", []).append(("api_said", {"message": refusal.message}))


def done_notice() -> str | None:
    done = request.args.get("done")
    return done if done in DONE else None


# --- the list -----------------------------------------------------------------------------------

@blp.get("/staff/organisations")
@staff_required
def organisations():
    name = request.args.get("name", "").strip()[:200]
    page = request.args.get("page", "1")
    page = int(page) if page.isdigit() and 0 < int(page) <= 100_000 else 1
    answer = organisations_client().organizations(name, page, PER_PAGE)
    pages = max(1, math.ceil(answer["total"] / PER_PAGE))
    return render_template("organisations/list.html", answer=answer, name=name, page=page, pages=pages)


# --- create and edit ----------------------------------------------------------------------------

def read_record(errors: dict) -> tuple[dict, dict | None]:
    """The record form as typed, and the API body when it makes one (else None, with errors)."""
    values = {name: request.form.get(name, "").strip() for name in RECORD_FIELDS}
    for name in ("name", "kind", "contact_name", "contact_phone"):
        if not values[name]:
            errors.setdefault(name, []).append("required")
    if values["kind"] and values["kind"] not in KINDS:
        errors.setdefault("kind", []).append("required")
    phone = None
    if values["contact_phone"]:
        try:
            phone = mainland_mobile(values["contact_phone"])
        except ValueError:
            errors.setdefault("contact_phone", []).append("phone_invalid")
    for name, most in (("name", 200), ("name_en", 200), ("contact_name", 100), ("contact_email", 254)):
        if len(values[name]) > most:
            errors.setdefault(name, []).append(("orgs_too_long", {"most": most}))
    if errors:
        return values, None
    return values, {"name": values["name"], "name_en": values["name_en"], "kind": values["kind"],
                    "contact": {"name": values["contact_name"], "phone": phone,
                                "email": values["contact_email"] or None}}


def record_values(organization: dict) -> dict:
    contact = organization["contact"]
    return {"name": organization["name"], "name_en": organization["name_en"], "kind": organization["kind"],
            "contact_name": contact["name"], "contact_phone": plain_phone(contact["phone"]),
            "contact_email": contact["email"] or ""}


@blp.route("/staff/organisations/new", methods=["GET", "POST"])
@staff_required
def create():
    errors: dict = {}
    values = dict.fromkeys(RECORD_FIELDS, "")
    if request.method == "POST":
        values, body = read_record(errors)
        if body is not None:
            try:
                created = organisations_client().create(body)
            except ApiError as refusal:
                place_refusal(refusal, errors)
            else:
                return redirect(url_for("staff_orgs.organisation", organization_id=created["id"], done="created"))
    return render_template("organisations/record.html", values=values, errors=errors, organization=None,
                           kinds=KINDS), 422 if errors else 200


@blp.route("/staff/organisations/<int:organization_id>/edit", methods=["GET", "POST"])
@staff_required
def edit(organization_id: int):
    client = organisations_client()
    organization = client.organization(organization_id)
    errors: dict = {}
    values = record_values(organization)
    if request.method == "POST":
        values, body = read_record(errors)
        if body is not None:
            try:
                client.update(organization_id, body)
            except ApiError as refusal:
                place_refusal(refusal, errors)
            else:
                return redirect(url_for("staff_orgs.organisation", organization_id=organization_id, done="saved"))
    return render_template("organisations/record.html", values=values, errors=errors, organization=organization,
                           kinds=KINDS), 422 if errors else 200


# --- one organisation and its contact phones ----------------------------------------------------

def organisation_page(organization_id: int, errors: dict | None = None, phone: str = ""):
    client = organisations_client()
    organization = client.organization(organization_id)
    return render_template("organisations/organisation.html", organization=organization, errors=errors or {},
                           phones=client.contact_phones(organization_id), phone=phone,
                           done=done_notice()), 422 if errors else 200


@blp.get("/staff/organisations/<int:organization_id>")
@staff_required
def organisation(organization_id: int):
    return organisation_page(organization_id)


@blp.post("/staff/organisations/<int:organization_id>/phones")
@staff_required
def add_phone(organization_id: int):
    phone = request.form.get("phone", "").strip()[:30]
    errors: dict = {}
    if not phone:
        errors["phone"] = ["required"]
    else:
        try:
            phone = mainland_mobile(phone)
        except ValueError:
            errors["phone"] = ["phone_invalid"]
    if not errors:
        try:
            organisations_client().add_contact_phone(organization_id, phone)
        except ApiError as refusal:
            place_refusal(refusal, errors)
        else:
            return redirect(url_for("staff_orgs.organisation", organization_id=organization_id, done="phone_added"))
    return organisation_page(organization_id, errors, phone)


@blp.post("/staff/organisations/<int:organization_id>/phones/remove")
@staff_required
def remove_phone(organization_id: int):
    errors: dict = {}
    try:
        organisations_client().remove_contact_phone(organization_id, request.form.get("phone", "").strip()[:30] or "-")
    except ApiError as refusal:
        if refusal.status >= 500:
            raise
        errors["form"] = [("api_said", {"message": refusal.message})]
        return organisation_page(organization_id, errors)
    return redirect(url_for("staff_orgs.organisation", organization_id=organization_id, done="phone_removed"))


# --- credit: the ledger, a manual adjustment, lifting a suspension ------------------------------

def usernames(events: list[dict]) -> dict:
    """Who made each staff change, by name: the API keeps the token's subject, `portal:<account id>`."""
    ids = {int(e["recorded_by"].split(":", 1)[1]) for e in events
           if (e.get("recorded_by") or "").startswith("portal:") and e["recorded_by"].split(":", 1)[1].isdigit()}
    if not ids:
        return {}
    with runtime().database.reader() as db:
        accounts = [db.get(Account, account_id) for account_id in ids]
        return {f"portal:{a.id}": a.username or "" for a in accounts if a is not None}


def credit_page(organization_id: int, errors: dict | None = None, values: dict | None = None):
    client = organisations_client()
    organization = client.organization(organization_id)
    events = client.credit_events(organization_id)["items"]
    values = values or {"direction": "take", "points": "", "reason": "", "lift_reason": ""}
    return render_template("organisations/credit.html", organization=organization, events=events,
                           names=usernames(events), errors=errors or {}, values=values,
                           done=done_notice()), 422 if errors else 200


@blp.get("/staff/organisations/<int:organization_id>/credit")
@staff_required
def credit(organization_id: int):
    return credit_page(organization_id)


def read_reason(name: str, errors: dict, field: str = "reason") -> str:
    reason = request.form.get(name, "").strip()
    if not reason:
        errors.setdefault(field, []).append("orgs_reason_required")
    elif len(reason) > MAX_REASON:
        errors.setdefault(field, []).append(("orgs_too_long", {"most": MAX_REASON}))
    return reason


@blp.post("/staff/organisations/<int:organization_id>/credit/adjust")
@staff_required
def adjust(organization_id: int):
    errors: dict = {}
    values = {"direction": request.form.get("direction", ""), "points": request.form.get("points", "").strip(),
              "lift_reason": ""}
    if values["direction"] not in ("take", "give"):
        errors["direction"] = ["orgs_direction_required"]
    if not (values["points"].isdigit() and 1 <= int(values["points"]) <= 100):
        errors["points"] = ["orgs_points_invalid"]
    values["reason"] = read_reason("reason", errors)
    if not errors:
        points = int(values["points"]) * (-1 if values["direction"] == "take" else 1)
        try:
            organisations_client().adjust_credit(organization_id, points, values["reason"])
        except ApiError as refusal:
            place_refusal(refusal, errors)
        else:
            return redirect(url_for("staff_orgs.credit", organization_id=organization_id, done="adjusted"))
    return credit_page(organization_id, errors, values)


@blp.post("/staff/organisations/<int:organization_id>/credit/lift")
@staff_required
def lift(organization_id: int):
    errors: dict = {}
    values = {"direction": "take", "points": "", "reason": "", "lift_reason": ""}
    values["lift_reason"] = read_reason("lift_reason", errors, "lift_reason")
    if not errors:
        try:
            organisations_client().lift_suspension(organization_id, values["lift_reason"])
        except ApiError as refusal:
            if refusal.status >= 500:
                raise
            errors["lift_reason"] = [("api_said", {"message": refusal.message})]
        else:
            return redirect(url_for("staff_orgs.credit", organization_id=organization_id, done="lifted"))
    return credit_page(organization_id, errors, values)
