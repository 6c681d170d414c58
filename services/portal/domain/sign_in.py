"""Sign-in by phone and a 6-digit code sent by SMS (issue 12).

The code is random (`secrets`), kept only as an HMAC keyed with the deployment's
secret (a 6-digit space is too small for a plain hash), valid for five minutes,
good once, and ended by five wrong tries or by a newer code. A new code comes no
sooner than a minute after the last, and only so many a day per phone and per
client address. Every mainland mobile may sign in (as a resident at least), so
the answer to "send me a code" never says whether a number is known.

Every function takes `now`: the tests move the clock instead of sleeping.
"""

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import datetime, time, timedelta

from sqlalchemy import delete, func, select, text, update

from services.portal.models import Account, SignInCode
from shared import contracts
from shared.outbox import enqueue
from shared.personal_data import mainland_mobile
from shared.timefmt import STATION_TZ, to_station_time

SMS_TEMPLATE = "sign_in_code"


class SignInRefused(Exception):
    """A request the sign-in rules refuse; `field` is where the message belongs on the form."""

    def __init__(self, message_id: str, field: str, **params):
        super().__init__(message_id)
        self.message_id, self.field, self.params = message_id, field, params


@dataclass(frozen=True)
class Phone:
    national: str  # 13800000001: how the other services write a recipient

    @property
    def e164(self) -> str:
        return f"+86{self.national}"

    @property
    def masked(self) -> str:
        return f"{self.national[:3]}****{self.national[-4:]}"


def parse_phone(text: str) -> Phone:
    try:
        return Phone(mainland_mobile(text or ""))
    except ValueError:
        raise SignInRefused("phone_invalid", "phone") from None


def code_hash(secret: str, phone: Phone, code: str) -> str:
    return hmac.new(secret.encode(), f"{phone.e164}:{code}".encode(), hashlib.sha256).hexdigest()


def station_day_start(now: datetime) -> datetime:
    return datetime.combine(to_station_time(now).date(), time(0), tzinfo=STATION_TZ)


def request_code(session, phone: Phone, client_address: str, now: datetime, config, secret: str,
                 locale: str = "zh-CN") -> tuple[SignInCode, str]:
    """Make a code, end the phone's older ones, and put the SMS in the outbox (same transaction).
    Returns the row and the SMS's idempotency key."""
    lock_phone(session, phone)
    last = session.scalar(select(SignInCode).where(SignInCode.phone == phone.e164)
                          .order_by(SignInCode.created_at.desc()).limit(1))
    if last is not None and now < last.created_at + config.code_resend_after:
        wait = int((last.created_at + config.code_resend_after - now).total_seconds()) + 1
        raise SignInRefused("code_too_soon", "phone", seconds=wait)
    since = station_day_start(now)
    sent_to_phone = session.scalar(select(func.count()).where(SignInCode.phone == phone.e164,
                                                              SignInCode.created_at >= since))
    sent_from_address = session.scalar(select(func.count()).where(SignInCode.client_address == client_address,
                                                                  SignInCode.created_at >= since))
    if sent_to_phone >= config.codes_per_phone_per_day or sent_from_address >= config.codes_per_address_per_day:
        raise SignInRefused("code_daily_cap", "phone")
    session.execute(update(SignInCode).where(SignInCode.phone == phone.e164, SignInCode.used_at.is_(None),
                                             SignInCode.ended_at.is_(None)).values(ended_at=now))
    code = f"{secrets.randbelow(10 ** config.code_length):0{config.code_length}d}"
    row = SignInCode(phone=phone.e164, code_hash=code_hash(secret, phone, code), client_address=client_address[:64],
                     created_at=now, expires_at=now + config.code_valid)
    session.add(row)
    session.flush()
    message_key = f"portal-sign-in-{secrets.token_hex(16)}"
    enqueue(session, contracts.SEND_MESSAGE, {
        # Random, not the row's id: purged rows' ids come round again on SQLite, and notify
        # would take a new code for a message it has already sent.
        "v": contracts.CONTRACT_VERSION, "idempotency_key": message_key, "channel": "sms",
        "recipient": phone.national, "template": SMS_TEMPLATE, "locale": locale,
        "params": {"code": code, "minutes": int(config.code_valid.total_seconds() // 60)},
        # A code is wanted now or never: not held for quiet hours, and dropped once it has expired.
        "urgent": True, "expires_at": row.expires_at.isoformat(),
        # Essential: sent even to a phone that turned SMS off, and not counted against its notices' cap.
        "kind": "sign_in",
    })
    return row, message_key


def lock_phone(session, phone: Phone) -> None:
    """Two requests for one phone at once (two portal replicas) must not both pass the resend
    rule: on PostgreSQL a transaction-scoped advisory lock keyed by the number serialises them
    (PostgreSQL docs, "Advisory Locks"); SQLite's BEGIN IMMEDIATE already does (shared/db.py)."""
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": int(phone.national)})


def check_code(session, phone: Phone, code: str, now: datetime, config, secret: str) -> SignInCode:
    """The phone's live code if `code` is it, now used; SignInRefused otherwise (a wrong try is counted).

    The caller commits either way: a wrong try must stay counted.
    """
    live = session.scalar(select(SignInCode).where(
        SignInCode.phone == phone.e164, SignInCode.used_at.is_(None), SignInCode.ended_at.is_(None),
        SignInCode.expires_at > now).order_by(SignInCode.created_at.desc()).limit(1).with_for_update())
    if live is None:
        raise SignInRefused("code_expired", "code")
    if not hmac.compare_digest(live.code_hash, code_hash(secret, phone, (code or "").strip())):
        live.failed_attempts += 1
        left = config.code_max_attempts - live.failed_attempts
        if left <= 0:
            live.ended_at = now
            raise SignInRefused("code_locked", "code")
        raise SignInRefused("code_wrong", "code", left=left)
    live.used_at = now
    return live


def account_for_phone(session, phone: Phone, organization_id: int | None, now: datetime) -> Account:
    """The phone's account, made on its first sign-in; its role follows the booking service's
    organisations at every sign-in (a contact who hands over becomes a resident again)."""
    account = session.scalar(select(Account).where(Account.phone == phone.e164))
    if account is None:
        account = Account(phone=phone.e164, role="resident", created_at=now)
        session.add(account)
    if account.role in ("resident", "org"):
        account.role, account.org_id = ("org", organization_id) if organization_id else ("resident", None)
    account.last_sign_in_at = now
    session.flush()
    return account


# The daily caps count a station day's codes; older rows serve nothing.
CODES_KEPT = timedelta(days=2)


def purge_old_codes(session, now: datetime) -> int:
    return session.execute(delete(SignInCode).where(SignInCode.created_at < now - CODES_KEPT)).rowcount
