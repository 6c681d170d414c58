"""Administration, admins only: errand types, message templates, staff accounts, dead letters and the audit log, under /admin (issue 13).

Errand types and templates live in the desk and notify APIs, which decide and record each change
as the signed-in admin; the pages show the API's refusal beside the field it names. Staff
accounts, dead letters and the audit log are in views/admin_operations.py, on this blueprint.
"""

import re
from datetime import datetime

from flask import Blueprint, abort, g, redirect, render_template, request, url_for

from services.portal.clients import ApiError
from services.portal.domain.admin_api import AdminApi
from services.portal.i18n import MESSAGES, t
from services.portal.views.helpers import current_account, portal, runtime
from services.portal.views.staff_auth import admin_required
from shared.timefmt import to_station_time

blp = Blueprint("admin", __name__, url_prefix="/admin")

LOCALES = ("zh-CN", "en")
# What a template key or an errand code in an address may be: the APIs' own keys are like this.
CODE = re.compile(r"^[A-Za-z0-9_-]{1,100}$")
TYPE_FIELDS = ("name_zh", "name_en", "documents_zh", "documents_en", "limit_working_days")
TYPE_LABELS = {"code": "adm_type_code", "name_zh": "adm_type_name_zh", "name_en": "adm_type_name_en",
               "documents_zh": "adm_type_documents_zh", "documents_en": "adm_type_documents_en",
               "limit_working_days": "adm_type_limit", "active": "adm_type_active"}
# The texts an admin edits; the HTML version of an e-mail stays as it is (it is escaped from the plain text when absent).
TEMPLATE_FIELDS = ("sms_body", "email_subject", "email_body")
TEMPLATE_LABELS = {"sms_body": "adm_sms_body", "email_subject": "adm_email_subject", "email_body": "adm_email_body"}


@blp.app_template_filter("adm_when")
def station_minute(moment) -> str:
    """A time from the database (aware) or an API (ISO 8601) as the station reads it: 2026-12-07 14:05."""
    if isinstance(moment, str):
        moment = datetime.fromisoformat(moment)
    return to_station_time(moment).strftime("%Y-%m-%d %H:%M")


@blp.app_template_global("adm_template_name")
def template_name(key: str) -> str:
    """What a template is for, in words; a key the station did not seed shows as itself."""
    message_id = f"adm_tpl_{key}"
    return t(message_id) if message_id in MESSAGES else key


def admin_api() -> AdminApi:
    config = portal().config
    return AdminApi(config.api_urls, runtime().settings.secret_key, current_account(), config.api_token_ttl_seconds,
                    g.get("request_id", ""))


def place_refusal(refusal: ApiError, labels: dict, errors: dict) -> None:
    """The API's refusal beside the first field it names that the form has, else above the form."""
    if refusal.status >= 500:
        raise refusal
    name = next((field.split(".")[0] for field in refusal.fields if field.split(".")[0] in labels), "form")
    errors.setdefault(name, []).append(("api_said", {"message": refusal.message}))


# --- errand types ---------------------------------------------------------------------------

@blp.get("/errand-types")
@admin_required
def errand_types():
    types = admin_api().ticket_types()
    saved = next((item for item in types if item["code"] == request.args.get("saved")), None)
    return render_template("admin/errand_types.html", types=types, saved=saved)


def type_values(ticket_type: dict | None) -> dict:
    if ticket_type is None:
        return {"code": "", "name_zh": "", "name_en": "", "documents_zh": "", "documents_en": "",
                "limit_working_days": "", "active": True}
    return {**ticket_type, "documents_zh": "\n".join(ticket_type["documents_zh"]),
            "documents_en": "\n".join(ticket_type["documents_en"]),
            "limit_working_days": str(ticket_type["limit_working_days"])}


def read_type_form(errors: dict) -> tuple[dict, dict]:
    """The form as typed, and the API body it makes: one document a line, blank lines dropped."""
    values = {name: request.form.get(name, "").strip() for name in ("code",) + TYPE_FIELDS}
    values["active"] = request.form.get("active") == "1"
    for name in ("name_zh", "name_en", "limit_working_days"):
        if not values[name]:
            errors.setdefault(name, []).append("required")
    limit = values["limit_working_days"]
    if limit and not (limit.isdigit() and len(limit) <= 3):
        errors.setdefault("limit_working_days", []).append("adm_type_limit_invalid")
    body = {"name_zh": values["name_zh"], "name_en": values["name_en"], "active": values["active"],
            "documents_zh": [line.strip() for line in values["documents_zh"].splitlines() if line.strip()],
            "documents_en": [line.strip() for line in values["documents_en"].splitlines() if line.strip()],
            "limit_working_days": int(limit) if limit.isdigit() and len(limit) <= 3 else None}
    return values, body


def errand_type_page(ticket_type: dict | None):
    """The new-type form (ticket_type None) or the edit form of one type; saves through the desk API."""
    errors: dict = {}
    values = type_values(ticket_type)
    if request.method == "POST":
        values, body = read_type_form(errors)
        if ticket_type is not None:
            values["code"] = ticket_type["code"]
        elif not values["code"]:
            errors.setdefault("code", []).append("required")
        if not errors:
            try:
                if ticket_type is None:
                    saved = admin_api().create_ticket_type({"code": values["code"], **body})
                else:
                    saved = admin_api().change_ticket_type(ticket_type["code"], body)
            except ApiError as refusal:
                place_refusal(refusal, TYPE_LABELS, errors)
            else:
                return redirect(url_for("admin.errand_types", saved=saved["code"]))
    return render_template("admin/errand_type.html", values=values, errors=errors, labels=TYPE_LABELS,
                           new=ticket_type is None), 422 if errors else 200


@blp.route("/errand-types/new", methods=["GET", "POST"])
@admin_required
def new_errand_type():
    return errand_type_page(None)


@blp.route("/errand-types/<code>", methods=["GET", "POST"])
@admin_required
def errand_type(code: str):
    ticket_type = admin_api().ticket_type(code) if CODE.match(code) else None
    if ticket_type is None:
        abort(404)
    return errand_type_page(ticket_type)


# --- message templates ------------------------------------------------------------------------

@blp.get("/templates")
@admin_required
def templates():
    by_key: dict = {}
    for item in admin_api().templates():
        by_key.setdefault(item["key"], {})[item["locale"]] = item
    return render_template("admin/templates.html", by_key=by_key, locales=LOCALES, saved=request.args.get("saved"))


def saved_template(key: str, locale: str) -> dict:
    if locale not in LOCALES or not CODE.match(key):
        abort(404)
    template = admin_api().template(key, locale)
    if template is None:
        abort(404)
    return template


def typed_texts() -> dict:
    """The texts as typed (browsers send line breaks as CRLF); an empty field is no text (null), as
    in a template that has no SMS or no e-mail, rather than a blank one."""
    return {name: request.form.get(name, "").replace("\r\n", "\n") or None for name in TEMPLATE_FIELDS}


def previewed(key: str, locale: str, texts: dict, errors: dict) -> dict | None:
    """Notify's preview of the typed texts (its own rendering and SMS rules), or None and the refusal."""
    try:
        return admin_api().preview_template(key, locale, texts)
    except ApiError as refusal:
        place_refusal(refusal, TEMPLATE_LABELS, errors)
        return None


@blp.route("/templates/<key>/<locale>", methods=["GET", "POST"])
@admin_required
def template(key: str, locale: str):
    """Edit one template in one language. With JavaScript the preview follows the typing (htmx,
    the `preview` route below); without it the "预览" button posts here and the page comes back with it."""
    saved = saved_template(key, locale)
    errors: dict = {}
    values = {name: saved.get(name) or "" for name in TEMPLATE_FIELDS} if request.method == "GET" else typed_texts()
    preview = previewed(key, locale, values, errors)
    if request.method == "POST" and request.form.get("action") == "save" and preview is not None:
        try:
            admin_api().save_template(key, locale, values)
        except ApiError as refusal:
            place_refusal(refusal, TEMPLATE_LABELS, errors)
        else:
            return redirect(url_for("admin.templates", saved=f"{key} ({locale})"))
    return render_template("admin/template.html", template=saved, values=values, preview=preview, errors=errors,
                           labels=TEMPLATE_LABELS), 422 if errors else 200


@blp.post("/templates/<key>/<locale>/preview")
@admin_required
def preview(key: str, locale: str):
    """The preview alone, for htmx as the admin types."""
    if locale not in LOCALES or not CODE.match(key):
        abort(404)
    errors: dict = {}
    answer = previewed(key, locale, typed_texts(), errors)
    return render_template("admin/_preview.html", preview=answer, errors=errors, labels=TEMPLATE_LABELS)


# Staff accounts, dead letters and the audit log: routes on this blueprint.
from services.portal.views import admin_operations  # noqa: E402,F401
