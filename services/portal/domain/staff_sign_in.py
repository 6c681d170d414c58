"""Staff and admin sign-in: username, password (argon2) and a TOTP second factor (issue 12).

The password is kept as an argon2id hash (argon2-cffi's PasswordHasher, RFC 9106
defaults). A username that does not exist is checked against a dummy hash, so
the answer and the time it takes are the same either way (OWASP Authentication
Cheat Sheet, "Authentication and Error Messages"). Wrong passwords and codes are
counted per username, known or not, and per client address; so many lock the key
for a minute, then two, four... Nothing here logs a password or a code.

The second factor is RFC 6238 TOTP (pyotp): 30-second steps, the step before and
after accepted for a phone's clock, and each step good once (RFC 6238 §5.2).

Every function takes `now`: the tests move the clock instead of sleeping.
"""

import hmac
import math
import re
from datetime import datetime, timedelta

import pyotp
import segno
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import select
from sqlalchemy.dialects import postgresql, sqlite

from services.portal.domain.sign_in import SignInRefused
from services.portal.models import Account, StaffSignInThrottle

STAFF_ROLES = ("staff", "admin")
MIN_PASSWORD_LENGTH = 12
USERNAME = re.compile(r"^[a-z0-9][a-z0-9._-]{0,99}$")
TOTP_ISSUER = "驿站 yizhan"
# A quiet day forgives the failures before it.
FAILURES_FORGOTTEN_AFTER = timedelta(days=1)

hasher = PasswordHasher()
# Compared against when the username is unknown: the same argon2 work as for a real account.
DUMMY_HASH = hasher.hash("no such account: a hash to spend the same time on")


class StaffAccountError(ValueError):
    """What the command line refuses (a short password, a taken or malformed username)."""


def normalise_username(text: str) -> str:
    return (text or "").strip().lower()[:100]


def find_staff(session, username: str) -> Account | None:
    return session.scalar(select(Account).where(Account.username == normalise_username(username),
                                                Account.role.in_(STAFF_ROLES)))


def create_account(session, username: str, password: str, role: str, now: datetime,
                   totp_secret: str | None = None, enrolled: bool = False) -> Account:
    name = normalise_username(username)
    if role not in STAFF_ROLES:
        raise StaffAccountError(f"角色须为 staff 或 admin The role must be staff or admin, not {role!r}.")
    if not USERNAME.match(name):
        raise StaffAccountError("用户名只能含小写字母、数字、点、横线和下划线 "
                                "A username is lower-case letters, digits, '.', '-' and '_'.")
    if len(password) < MIN_PASSWORD_LENGTH:
        raise StaffAccountError(f"密码至少{MIN_PASSWORD_LENGTH}个字符 "
                                f"A password has at least {MIN_PASSWORD_LENGTH} characters.")
    if session.scalar(select(Account).where(Account.username == name)) is not None:
        raise StaffAccountError(f"用户名已被使用 The username {name!r} is taken.")
    account = Account(role=role, username=name, password_hash=hasher.hash(password),
                      totp_secret=totp_secret or pyotp.random_base32(), created_at=now,
                      totp_confirmed_at=now if enrolled else None)
    session.add(account)
    session.flush()
    return account


def reset_second_factor(account: Account) -> None:
    """A new secret, shown at the next sign-in; the old phone's codes stop working."""
    account.totp_secret, account.totp_confirmed_at, account.totp_last_step = pyotp.random_base32(), None, None


# --- throttles ---------------------------------------------------------------------------------

def throttle_keys(username: str, client_address: str, config) -> list[tuple[str, int]]:
    return [(f"user:{normalise_username(username)}", config.staff_failures_before_lock),
            (f"address:{client_address[:64]}", config.staff_address_failures_before_lock)]


def refuse_if_locked(session, keys, now: datetime, field: str) -> None:
    for key, _ in keys:
        row = session.get(StaffSignInThrottle, key)
        if row is not None and row.locked_until is not None and row.locked_until > now:
            minutes = math.ceil((row.locked_until - now).total_seconds() / 60)
            raise SignInRefused("staff_locked", field, minutes=minutes)


def throttle_row(session, key: str) -> StaffSignInThrottle:
    """The key's row, made if missing, locked for this transaction. INSERT ... ON CONFLICT DO
    NOTHING, so two replicas counting a first failure at once do not both insert (and one fail)."""
    insert = postgresql.insert if session.get_bind().dialect.name == "postgresql" else sqlite.insert
    session.execute(insert(StaffSignInThrottle).values(key=key, failures=0, lockouts=0)
                    .on_conflict_do_nothing(index_elements=["key"]))
    return session.get(StaffSignInThrottle, key, with_for_update=True, populate_existing=True)


def count_failure(session, keys, now: datetime, config) -> None:
    for key, allowed in keys:
        row = throttle_row(session, key)
        if row.last_failure_at is not None and now - row.last_failure_at > FAILURES_FORGOTTEN_AFTER:
            row.failures, row.lockouts = 0, 0
        row.failures += 1
        row.last_failure_at = now
        if row.failures >= allowed:
            # 1 minute, then 2, 4, 8...: guessing gets slower without locking a person out for long.
            row.locked_until = now + config.staff_first_lock * 2 ** row.lockouts
            row.lockouts, row.failures = row.lockouts + 1, 0
    session.flush()


def forgive(session, username: str) -> None:
    """A full sign-in clears the username's count (not the address's: one good account must not
    wipe the record of guessing at others from the same address)."""
    row = session.get(StaffSignInThrottle, f"user:{normalise_username(username)}")
    if row is not None:
        row.failures, row.lockouts, row.locked_until = 0, 0, None


# --- the two steps -------------------------------------------------------------------------------

def check_password(session, username: str, password: str, client_address: str, now: datetime, config) -> Account:
    """The account if the password is its own; SignInRefused otherwise, the same for an unknown name.
    The caller commits either way: a failure must stay counted."""
    keys = throttle_keys(username, client_address, config)
    refuse_if_locked(session, keys, now, "password")
    account = find_staff(session, username)
    known_hash = account.password_hash if account is not None and account.password_hash else DUMMY_HASH
    try:
        matches = hasher.verify(known_hash, password or "")
    except (VerificationError, InvalidHashError):
        matches = False
    if not matches or account is None or account.disabled:
        count_failure(session, keys, now, config)
        raise SignInRefused("staff_credentials_wrong", "password")
    if hasher.check_needs_rehash(account.password_hash):
        account.password_hash = hasher.hash(password)
    return account


def matching_step(secret: str, code: str, now: datetime) -> int | None:
    """The time step whose code this is, allowing one step either side for a phone's clock."""
    totp = pyotp.TOTP(secret)
    step = totp.timecode(now)
    for candidate in (step - 1, step, step + 1):
        if hmac.compare_digest(totp.generate_otp(candidate), code):
            return candidate
    return None


def check_code(session, account_id: int, code: str, client_address: str, now: datetime, config) -> Account:
    """The account, now signed in, if `code` is its current TOTP code and not used before;
    the first good code also confirms the enrolment. The caller commits either way."""
    account = session.get(Account, account_id, with_for_update=True)
    if account is None or account.disabled or account.role not in STAFF_ROLES or not account.totp_secret:
        raise SignInRefused("staff_start_again", "code")
    keys = throttle_keys(account.username, client_address, config)
    refuse_if_locked(session, keys, now, "code")
    step = matching_step(account.totp_secret, (code or "").strip(), now)
    if step is None or (account.totp_last_step is not None and step <= account.totp_last_step):
        count_failure(session, keys, now, config)
        raise SignInRefused("staff_code_wrong", "code")
    account.totp_last_step = step
    account.totp_confirmed_at = account.totp_confirmed_at or now
    account.last_sign_in_at = now
    forgive(session, account.username)
    return account


def enrolment_uri(account: Account) -> str:
    return pyotp.TOTP(account.totp_secret).provisioning_uri(name=account.username, issuer_name=TOTP_ISSUER)


def enrolment_qr_svg(account: Account, title: str) -> str:
    """The enrolment QR code as an inline <svg> (segno draws it here: no outside service sees the secret)."""
    qr = segno.make(enrolment_uri(account), error="m")
    return qr.svg_inline(scale=6, border=4, dark="#000", light="#fff", title=title)


def current_code(account: Account, now: datetime) -> str:
    """For `yizhan users totp` in development only."""
    return pyotp.TOTP(account.totp_secret).at(now)
