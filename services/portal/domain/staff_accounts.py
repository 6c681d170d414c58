"""An admin's work on staff and admin accounts, the same as `yizhan users` does at the command line:
create one with a first password, disable one, reset one's second factor (issue 13).

Each function takes the session and the acting admin, and records the change in the portal's
audit log in the same transaction; the caller ends the account's sessions
(sessions.end_every_session) once the change is committed.
"""

from datetime import datetime

from sqlalchemy import select

from services.portal.domain import staff_sign_in as staff
from services.portal.models import Account
from shared.audit import record_change
from shared.auth import Principal


class AccountRefused(ValueError):
    """A refusal the page shows beside a field: a message id (catalogue/admin.py) and the field."""

    def __init__(self, message_id: str, field: str = "form", **params):
        super().__init__(message_id)
        self.message_id, self.field, self.params = message_id, field, params


def staff_accounts(session) -> list[Account]:
    return list(session.scalars(select(Account).where(Account.role.in_(staff.STAFF_ROLES)).order_by(Account.username)))


def principal(admin: Account) -> Principal:
    """The admin as the APIs know them (the `sub` of their tokens), so all four logs name them alike."""
    return Principal(sub=admin.subject, role=admin.role)


def audited(session, admin: Account, action: str, account: Account, before: dict | None, after: dict) -> None:
    record_change(session, principal(admin), action, f"account:{account.id}", before=before, after=after)


def create_staff_account(session, username: str, password: str, role: str, now: datetime, admin: Account) -> Account:
    """A new account whose first sign-in enrols a phone (the QR code), with the password the admin gave."""
    name = staff.normalise_username(username)
    if role not in staff.STAFF_ROLES:
        raise AccountRefused("adm_role_invalid", "role")
    if not staff.USERNAME.match(name):
        raise AccountRefused("adm_username_invalid", "username")
    if len(password) < staff.MIN_PASSWORD_LENGTH:
        raise AccountRefused("adm_password_short", "password", length=staff.MIN_PASSWORD_LENGTH)
    if session.scalar(select(Account).where(Account.username == name)) is not None:
        raise AccountRefused("adm_username_taken", "username", username=name)
    account = staff.create_account(session, name, password, role, now)
    audited(session, admin, "account.create", account, None, {"username": account.username, "role": account.role})
    return account


def staff_account(session, account_id: int) -> Account:
    account = session.get(Account, account_id)
    if account is None or account.role not in staff.STAFF_ROLES:
        raise LookupError(account_id)
    return account


def disable_account(session, account_id: int, admin: Account) -> Account:
    """An admin cannot disable themselves: the station would risk having no admin left to undo it."""
    account = staff_account(session, account_id)
    if account.id == admin.id:
        raise AccountRefused("adm_cannot_disable_self")
    before = {"disabled": account.disabled}
    account.disabled = True
    audited(session, admin, "account.disable", account, before, {"disabled": True})
    return account


def reset_account_second_factor(session, account_id: int, admin: Account) -> Account:
    account = staff_account(session, account_id)
    before = {"second_factor": "enrolled" if account.totp_confirmed_at is not None else "not enrolled"}
    staff.reset_second_factor(account)
    audited(session, admin, "account.reset_second_factor", account, before, {"second_factor": "reset"})
    return account
