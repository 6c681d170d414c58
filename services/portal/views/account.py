"""Sign-in by phone and SMS code, the account page, sign-out (here and everywhere)."""

import logging

from flask import Blueprint, redirect, render_template, request, session, url_for

from services.portal.clients import ApiError, Caller
from services.portal.domain import sign_in as codes
from services.portal.domain.sessions import end_every_session
from services.portal.forms import CodeForm, PhoneForm
from services.portal.i18n import locale
from services.portal.views.helpers import (booking_client, client_address, current_account, now, portal, runtime,
                                           safe_next, sign_in_required)

log = logging.getLogger(__name__)
blp = Blueprint("account", __name__)

PENDING_PHONE = "sign_in_phone"
NEXT = "sign_in_next"


def send_code(phone: codes.Phone) -> None:
    """SignInRefused when the rules say no; the SMS leaves with the commit (the outbox)."""
    with runtime().database.transaction() as db:
        codes.request_code(db, phone, client_address(), now(), portal().config, runtime().settings.secret_key, locale())
    # The phone masked, the code never (issue 12: nothing about a code reaches a log).
    log.info("sign-in code sent to %s", phone.masked)


@blp.route("/sign-in", methods=["GET", "POST"])
def sign_in():
    if current_account() is not None:
        return redirect(safe_next(request.args.get("next") or url_for("account.overview")))
    if request.method == "GET" and request.args.get("next"):
        session[NEXT] = safe_next(request.args.get("next"))
    form = PhoneForm()
    if form.validate_on_submit():
        try:
            phone = codes.parse_phone(form.phone.data)
            send_code(phone)
        except codes.SignInRefused as refusal:
            form.phone.errors.append((refusal.message_id, refusal.params))
        else:
            session[PENDING_PHONE] = phone.national
            return redirect(url_for("account.enter_code"))
    return render_template("account/sign_in.html", form=form), 200 if not form.errors else 422


@blp.route("/sign-in/code", methods=["GET", "POST"])
def enter_code():
    pending = session.get(PENDING_PHONE)
    if not pending:
        return redirect(url_for("account.sign_in"))
    phone = codes.Phone(pending)
    form = CodeForm()
    # The "text me a new code" button; CSRFProtect has checked its token before this view runs.
    if request.method == "POST" and request.form.get("resend"):
        try:
            send_code(phone)
        except codes.SignInRefused as refusal:
            form.code.errors = [(refusal.message_id, refusal.params)]
            return render_template("account/code.html", form=form, phone=phone), 422
        return redirect(url_for("account.enter_code"))
    if form.validate_on_submit():
        try:
            account = complete_sign_in(phone, form.code.data.strip())
        except codes.SignInRefused as refusal:
            form.code.errors.append((refusal.message_id, refusal.params))
        else:
            target = session.pop(NEXT, None) or url_for("account.overview")
            session.pop(PENDING_PHONE, None)
            session.sign_in(account.id)
            return redirect(safe_next(target))
    return render_template("account/code.html", form=form, phone=phone), 200 if not form.errors else 422


def complete_sign_in(phone: codes.Phone, code: str):
    """Check the code, then make or refresh the account. Whether the phone is an organisation's
    contact is the booking service's to say, asked as the portal itself (role system)."""
    try:
        organization_id = booking_client(Caller.portal()).organization_of_contact(phone.national)
    except ApiError:
        raise codes.SignInRefused("booking_unavailable", "code") from None
    config, secret = portal().config, runtime().settings.secret_key
    refusal = None
    with runtime().database.transaction() as db:
        try:
            codes.check_code(db, phone, code, now(), config, secret)
        except codes.SignInRefused as exc:
            refusal = exc  # committed below: a wrong try stays counted
        else:
            account = codes.account_for_phone(db, phone, organization_id, now())
            if account.disabled:
                refusal = codes.SignInRefused("account_disabled", "code")
    if refusal is not None:
        raise refusal
    log.info("account %s signed in by SMS code as %s", account.id, account.role)
    return account


@blp.get("/account")
@sign_in_required
def overview():
    account = current_account()
    phone = codes.Phone(account.phone.removeprefix("+86")) if account.phone else None
    # Asked with the account's own token: booking lets an org see only itself.
    organization = booking_client().organization(account.org_id) if account.role == "org" else None
    return render_template("account/overview.html", account=account, phone=phone, organization=organization)


@blp.post("/sign-out")
def sign_out():
    session.end()
    return redirect(url_for("account.signed_out"))


@blp.get("/signed-out")
def signed_out():
    return render_template("account/signed_out.html")


@blp.post("/sign-out/everywhere")
@sign_in_required
def sign_out_everywhere():
    end_every_session(runtime().database, current_account().id)
    session.end()
    return redirect(url_for("account.signed_out"))
