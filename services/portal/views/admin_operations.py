"""Administration, continued (the `admin` blueprint of views/admin.py): staff accounts, kept in the
portal's own database; dead letters of each API, listed and replayed; the audit log."""

from flask import abort, redirect, render_template, request, url_for

from services.portal.clients import ApiError
from services.portal.domain import staff_accounts
from services.portal.domain.admin_api import SERVICES
from services.portal.domain.sessions import end_every_session
from services.portal.domain.staff_sign_in import STAFF_ROLES
from services.portal.views.admin import admin_api, blp
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
            account = staff_accounts.create_staff_account(db, values["username"], values["password"], values["role"], now())
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
    username = changed_account(lambda db: staff_accounts.reset_account_second_factor(db, account_id))
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
