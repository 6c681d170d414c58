"""Administration, continued (the `admin` blueprint of views/admin.py): staff accounts, kept in the
portal's own database; dead letters of each API, listed and replayed; the audit log."""

import json
import re
from datetime import datetime

from flask import abort, redirect, render_template, request, url_for
from sqlalchemy import select

from services.portal.clients import ApiError
from services.portal.domain import staff_accounts
from services.portal.domain.admin_api import SERVICES
from services.portal.domain.sessions import end_every_session
from services.portal.domain.staff_sign_in import STAFF_ROLES
from services.portal.i18n import MESSAGES, t
from services.portal.views.admin import admin_api, blp, template_name
from services.portal.views.helpers import current_account, now, runtime
from services.portal.views.staff_auth import admin_required

ACCOUNT_LABELS = {"username": "adm_username", "role": "adm_role", "password": "adm_first_password"}


# --- staff accounts ---------------------------------------------------------------------------

def accounts_page(values: dict | None = None, errors: dict | None = None, status: int = 200):
    with runtime().database.reader() as db:
        listed = staff_accounts.staff_accounts(db)
    return render_template("admin/accounts.html", accounts=listed, me=current_account(), roles=STAFF_ROLES,
                           values=values or {"username": "", "role": "staff", "password": ""}, errors=errors or {},
                           labels=ACCOUNT_LABELS, done=request.args.get("done"),
                           username=request.args.get("username")), status


@blp.route("/accounts", methods=["GET", "POST"])
@admin_required
def accounts():
    """The staff and admin accounts, and the form that makes a new one."""
    if request.method == "GET":
        return accounts_page()
    values = {name: request.form.get(name, "").strip() for name in ("username", "role")}
    values["password"] = request.form.get("password", "")
    errors: dict = {}
    try:
        with runtime().database.transaction() as db:
            account = staff_accounts.create_staff_account(db, values["username"], values["password"], values["role"], now(),
                                                         current_account())
            username = account.username
    except staff_accounts.AccountRefused as refusal:
        errors[refusal.field] = [(refusal.message_id, refusal.params)]
        values["password"] = ""  # never written back into the page
        return accounts_page(values, errors, 422)
    return redirect(url_for("admin.accounts", done="created", username=username))


def changed_account(change) -> str:
    """Apply a change to one account, commit, then end its sessions; the account's username."""
    try:
        with runtime().database.transaction() as db:
            account = change(db)
            account_id, username = account.id, account.username
    except LookupError:
        abort(404)
    end_every_session(runtime().database, account_id)
    return username


@blp.post("/accounts/<int:account_id>/disable")
@admin_required
def disable_account(account_id: int):
    try:
        username = changed_account(lambda db: staff_accounts.disable_account(db, account_id, current_account()))
    except staff_accounts.AccountRefused as refusal:
        return accounts_page(errors={"form": [(refusal.message_id, refusal.params)]}, status=422)
    return redirect(url_for("admin.accounts", done="disabled", username=username))


@blp.post("/accounts/<int:account_id>/reset-second-factor")
@admin_required
def reset_second_factor(account_id: int):
    username = changed_account(lambda db: staff_accounts.reset_account_second_factor(db, account_id, current_account()))
    return redirect(url_for("admin.accounts", done="reset", username=username))


# --- dead letters -----------------------------------------------------------------------------

def dead_letters_page(errors: dict | None = None, status: int = 200):
    """Each API's dead letters; an API that does not answer is said so, the others still listed."""
    api, found = admin_api(), {}
    for service in SERVICES:
        try:
            found[service] = api.dead_letters(service)
        except ApiError as refusal:
            found[service] = {"error": refusal.message or refusal.code, "items": [], "total": 0}
    return render_template("admin/dead_letters.html", found=found, errors=errors or {},
                           replayed=request.args.get("replayed")), status


@blp.get("/dead-letters")
@admin_required
def dead_letters():
    return dead_letters_page()


@blp.post("/dead-letters/<service>/<int:dead_letter_id>/replay")
@admin_required
def replay_dead_letter(service: str, dead_letter_id: int):
    if service not in SERVICES:
        abort(404)
    try:
        admin_api().replay_dead_letter(service, dead_letter_id)
    except ApiError as refusal:
        if refusal.status >= 500:
            raise
        return dead_letters_page({"form": [("api_said", {"message": refusal.message})]}, 422 if refusal.status != 404 else 404)
    return redirect(url_for("admin.dead_letters", replayed=f"{service}:{dead_letter_id}"))


# --- audit log ----------------------------------------------------------------------------------

AUDIT_SHOWN = 100
PORTAL_SUBJECT = re.compile(r"^(?:[a-z]+:)?portal:(\d+)$")
ACCOUNT_SUBJECT = re.compile(r"^account:(\d+)$")
TEMPLATE_SUBJECT = re.compile(r"^template:([^:]+):(zh-CN|en)$")
ERRAND_TYPE_SUBJECT = re.compile(r"^errand_type:(.+)$")


def portal_entries() -> list[dict]:
    """The portal's own audit entries (staff accounts), shaped as the APIs' GET /audit-log items."""
    with runtime().database.reader() as db:
        model = runtime().database.infrastructure.audit_entry
        rows = db.scalars(select(model).order_by(model.at.desc(), model.id.desc()).limit(AUDIT_SHOWN)).all()
    return [{"at": row.at, "actor": row.actor, "action": row.action, "subject": row.subject, "changes": row.changes,
             "reason": row.reason} for row in rows]


def usernames() -> dict[int, str]:
    with runtime().database.reader() as db:
        return {account.id: account.username for account in staff_accounts.staff_accounts(db)}


def who(actor: str, names: dict[int, str]) -> str:
    """"admin:portal:7" → "li.admin" (the portal mints `portal:<account id>` subjects); others as they are."""
    match = PORTAL_SUBJECT.match(actor or "")
    return names.get(int(match.group(1)), actor) if match else actor


def about(subject: str, names: dict[int, str]) -> str:
    """The subject in words where the admin pages know it ("模板：预约已通过（中文）"), else as it is."""
    subject = subject or ""
    if (match := ACCOUNT_SUBJECT.match(subject)) and int(match.group(1)) in names:
        return t("adm_subject_account", username=names[int(match.group(1))])
    if match := TEMPLATE_SUBJECT.match(subject):
        return t("adm_subject_template", name=template_name(match.group(1)), language=t(f"adm_locale_{match.group(2)}"))
    if match := ERRAND_TYPE_SUBJECT.match(subject):
        return t("adm_subject_errand_type", code=match.group(1))
    return subject


def words_for(prefix: str, name: str) -> str:
    return t(prefix + name) if prefix + name in MESSAGES else name


def shown(value) -> str:
    """A changed value as a reader takes it in: a list one item a line, yes/no, — for nothing."""
    if value is None:
        return "—"
    if isinstance(value, bool):
        return t("adm_yes") if value else t("adm_no")
    if isinstance(value, list):
        return "\n".join(shown(item) for item in value) or "—"
    if isinstance(value, dict):
        return json.dumps(value, ensure_ascii=False, indent=1)
    return str(value)


def moment(entry: dict) -> datetime:
    at = entry["at"]
    return datetime.fromisoformat(at) if isinstance(at, str) else at


@blp.get("/audit-log")
@admin_required
def audit_log():
    """All four logs, newest first: each API's GET /audit-log and the portal's own (staff accounts)."""
    api, entries, unavailable = admin_api(), [], []
    for service in SERVICES:
        try:
            entries += [{**entry, "service": service} for entry in api.audit_log(service)]
        except ApiError as refusal:
            if refusal.status < 500:
                raise
            unavailable.append(service)
    entries += [{**entry, "service": "portal"} for entry in portal_entries()]
    entries.sort(key=moment, reverse=True)
    names = usernames()
    for entry in entries:
        entry.update(who=who(entry["actor"], names), about=about(entry["subject"], names),
                     what=words_for("adm_action_", entry["action"]),
                     shown_changes=[(words_for("adm_field_", field), shown(pair[0]), shown(pair[1])) for field, pair in (entry["changes"] or {}).items()
                                    if isinstance(pair, list) and len(pair) == 2])
    return render_template("admin/audit_log.html", entries=entries[:AUDIT_SHOWN * 2], unavailable=unavailable)
