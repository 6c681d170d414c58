"""Whose a ticket taken in at the counter is: the resident who signs in with that mobile.

The desk shows a resident the tickets whose owner is their token's subject (`portal:<account id>`,
models.Account.subject), and the portal's accounts are one per mobile. So the counter finds the
mobile's account, or makes it as the first sign-in would (domain/sign_in.py, account_for_phone),
and opens the ticket in that account's name. The account holds no secret: only a code sent to the
mobile signs anyone into it, so making it early gives no one access they would not have had.
"""

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from services.portal.domain.sign_in import Phone
from services.portal.models import Account
from shared.audit import record_change
from shared.auth import Principal

TAKEN_IN = "柜台代办时为居民建立 Made for a resident taken in at the counter"


def resident_subject_for(database, phone: Phone, now: datetime, staff: Principal) -> str:
    """The token subject of the account that signs in with this mobile; the account is made (as a
    resident) when it does not exist yet, and the audit log says which member of staff made it."""
    try:
        with database.transaction() as session:
            account = _by_phone(session, phone)
            if account is None:
                account = Account(phone=phone.e164, role="resident", created_at=now)
                session.add(account)
                session.flush()
                record_change(session, staff, "account.create", f"account:{account.id}",
                              after={"role": "resident", "phone": phone.masked}, reason=TAKEN_IN)
            return account.subject
    except IntegrityError:  # the resident signed in, or another counter took them in, at that moment
        with database.reader() as session:
            return _by_phone(session, phone).subject


def _by_phone(session, phone: Phone) -> Account | None:
    return session.scalar(select(Account).where(Account.phone == phone.e164))


def staff_names(database) -> dict[str, str]:
    """Staff usernames by their tokens' subject, so a ticket's history says "wang.fang", not "portal:3"."""
    with database.reader() as session:
        return {account.subject: account.username for account in session.scalars(
            select(Account).where(Account.role.in_(("staff", "admin")), Account.username.is_not(None)))}


def colleagues(database, except_username: str) -> list[str]:
    """Who else a ticket can be handed to: the other staff accounts that are not disabled."""
    with database.reader() as session:
        return list(session.scalars(select(Account.username).where(
            Account.role.in_(("staff", "admin")), Account.disabled.is_(False), Account.username.is_not(None),
            Account.username != except_username).order_by(Account.username)))
