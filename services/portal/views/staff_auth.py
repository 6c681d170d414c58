"""Staff and admin sign-in: username and password, then a TOTP code (or, the first time, the
enrolment QR code and a first code); the staff home page. The rules are in domain/staff_sign_in.py."""

import functools
import logging
from datetime import datetime

from flask import Blueprint, abort, current_app, redirect, render_template, request, session, url_for

from services.portal.domain import staff_sign_in as staff
from services.portal.domain.sign_in import SignInRefused
from services.portal.forms import StaffCodeForm, StaffPasswordForm
from services.portal.i18n import t
from services.portal.models import Account
from services.portal.views.helpers import client_address, current_account, now, portal, runtime

log = logging.getLogger(__name__)
blp = Blueprint("staff_auth", __name__)

# Between the two steps the session holds the account whose password was right, and when.
PENDING = "staff_pending"


def role_required(roles):
    """A page for these roles: no one signed in goes to the staff sign-in; any other role gets 403."""

    def decorate(view):
        @functools.wraps(view)
        def wrapper(*args, **kwargs):
            account = current_account()
            if account is None:
                return redirect(url_for("staff_auth.sign_in"))
            if account.role not in roles:
                abort(403)
            return view(*args, **kwargs)

        return wrapper

    return decorate


# Staff pages (admins may do all staff may); admin pages (catalogues, templates, accounts, numbers).
staff_required = role_required(staff.STAFF_ROLES)
admin_required = role_required(("admin",))


def pending_account() -> Account | None:
    """The account whose password was given in this browser a few minutes ago, if any."""
    pending = session.get(PENDING)
    if not isinstance(pending, dict):
        return None
    try:
        given_at = datetime.fromisoformat(pending["at"])
    except (KeyError, TypeError, ValueError):
        return None
    if now() - given_at > portal().config.staff_password_valid:
        session.pop(PENDING, None)
        return None
    with runtime().database.reader() as db:
        account = db.get(Account, pending.get("account"))
    return account if account is not None and not account.disabled else None


@blp.route("/staff/sign-in", methods=["GET", "POST"])
def sign_in():
    account = current_account()
    if account is not None and account.role in staff.STAFF_ROLES:
        return redirect(url_for("staff_auth.home"))
    form = StaffPasswordForm()
    if form.validate_on_submit():
        refusal = None
        with runtime().database.transaction() as db:
            try:
                account = staff.check_password(db, form.username.data, form.password.data, client_address(), now(),
                                               portal().config)
            except SignInRefused as exc:
                refusal = exc  # committed: the failure stays counted
            else:
                enrolled = account.totp_confirmed_at is not None
        if refusal is None:
            session[PENDING] = {"account": account.id, "at": now().isoformat()}
            log.info("staff account %s gave its password", account.id)
            return redirect(url_for("staff_auth.enter_code" if enrolled else "staff_auth.enrol"))
        # Neither the username (it may be a mistyped password) nor the password is logged.
        log.info("staff sign-in refused at the password step: %s", refusal.message_id)
        form.password.errors.append((refusal.message_id, refusal.params))
    return render_template("staff/sign_in.html", form=form), 200 if not form.errors else 422


@blp.route("/staff/sign-in/enrol", methods=["GET", "POST"])
def enrol():
    account = pending_account()
    if account is None:
        return redirect(url_for("staff_auth.sign_in"))
    if account.totp_confirmed_at is not None:
        return redirect(url_for("staff_auth.enter_code"))
    return second_step(account, "staff/enrol.html", qr_svg=staff.enrolment_qr_svg(account, t("staff_enrol_qr_title")),
                       secret=grouped(account.totp_secret))


def grouped(secret: str) -> str:
    """The key in groups of four, easier to copy by eye; authenticator apps ignore the spaces."""
    return " ".join(secret[i:i + 4] for i in range(0, len(secret), 4))


@blp.route("/staff/sign-in/code", methods=["GET", "POST"])
def enter_code():
    account = pending_account()
    if account is None:
        return redirect(url_for("staff_auth.sign_in"))
    if account.totp_confirmed_at is None:
        return redirect(url_for("staff_auth.enrol"))
    return second_step(account, "staff/code.html")


def second_step(account: Account, template: str, **page):
    form = StaffCodeForm()
    if form.validate_on_submit():
        refusal = None
        with runtime().database.transaction() as db:
            try:
                signed_in = staff.check_code(db, account.id, form.code.data, client_address(), now(), portal().config)
            except SignInRefused as exc:
                refusal = exc
            else:
                role = signed_in.role
        if refusal is None:
            session.pop(PENDING, None)
            session.sign_in(account.id)
            log.info("staff account %s signed in as %s", account.id, role)
            return redirect(url_for("staff_auth.home"))
        log.info("staff account %s refused at the code step: %s", account.id, refusal.message_id)
        if refusal.message_id == "staff_start_again":
            session.pop(PENDING, None)
        form.code.errors.append((refusal.message_id, refusal.params))
    return render_template(template, form=form, **page), 200 if not form.errors else 422


# The staff home's links, in the order of a day's work: (endpoint, message id, roles). A link
# shows once its page exists and only to the roles that may open it.
AREAS = (
    ("staff_reviews.queue", "area_reviews", staff.STAFF_ROLES),
    ("staff_counter.workbench", "area_counter", staff.STAFF_ROLES),
    ("staff_orgs.organisations", "area_organisations", staff.STAFF_ROLES),
    ("numbers.month", "area_numbers", ("admin",)),
    ("admin.errand_types", "area_errand_types", ("admin",)),
    ("admin.templates", "area_templates", ("admin",)),
    ("admin.accounts", "area_accounts", ("admin",)),
    ("admin.dead_letters", "area_dead_letters", ("admin",)),
    ("admin.audit_log", "area_audit_log", ("admin",)),
    ("screen.manage", "area_screen", ("admin",)),
)


@blp.get("/staff")
@staff_required
def home():
    account = current_account()
    areas = [(endpoint, label) for endpoint, label, roles in AREAS
             if endpoint in current_app.view_functions and account.role in roles]
    return render_template("staff/home.html", account=account, areas=areas)
