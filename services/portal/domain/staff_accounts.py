"""An admin's work on staff and admin accounts, the same as `yizhan users` does at the command line:
create one with a first password, disable one, reset one's second factor (issue 13).

Each function takes the session and the acting admin; the caller ends the account's sessions
(sessions.end_every_session) once the change is committed.
"""

from datetime import datetime

from sqlalchemy import select

from services.portal.domain import staff_sign_in as staff
from services.portal.models import Account


class AccountRefused(ValueError):
    """A refusal the page shows beside a field: a message id (catalogue/admin.py) and the field."""

    def __init__(self, message_id: str, field: str = "form", **params):
        super().__init__(message_id)
        self.message_id, self.field, self.params = message_id, field, params


def staff_accounts(session) -> list[Account]:
    return list(session.scalars(select(Account).where(Account.role.in_(staff.STAFF_ROLES)).order_by(Account.username)))


def create_staff_account(session, username: str, password: str, role: str, now: datetime) -> Account:
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
    return staff.create_account(session, name, password, role, now)


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
    account.disabled = True
    return account


def reset_account_second_factor(session, account_id: int) -> Account:
    account = staff_account(session, account_id)
    staff.reset_second_factor(account)
    return account
