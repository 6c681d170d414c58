"""The portal's tables: accounts, sign-in codes and server-side sessions. Nothing else:
bookings, errands and messages stay in the services that own them (SPEC §4, portal)."""

from datetime import datetime

from sqlalchemy import JSON, ForeignKey, String
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from shared.db import UTCDateTime, infrastructure_for, utcnow


class Base(DeclarativeBase):
    pass


# The outbox carries the sign-in SMS to notify; inbox and dead letters exist for the shape's sake.
INFRASTRUCTURE = infrastructure_for(Base)

ACCOUNT_ROLES = ("resident", "org", "staff", "admin")


class Account(Base):
    """A person who signs in: by phone (resident, org) or, next, by username (staff, admin)."""

    __tablename__ = "accounts"
    id: Mapped[int] = mapped_column(primary_key=True)
    role: Mapped[str] = mapped_column(String(20))
    # E.164, e.g. +8613800000001; None for a staff account without one.
    phone: Mapped[str | None] = mapped_column(String(20), unique=True)
    # The organisation an `org` account acts for (booking's organisations.id); refreshed at each sign-in.
    org_id: Mapped[int | None]
    # Staff and admins (the next issue): username, argon2 hash, TOTP secret.
    username: Mapped[str | None] = mapped_column(String(100), unique=True)
    password_hash: Mapped[str | None] = mapped_column(String(200))
    totp_secret: Mapped[str | None] = mapped_column(String(64))
    disabled: Mapped[bool] = mapped_column(default=False)
    # Set when the first TOTP code confirmed the enrolment; until then sign-in shows the QR code.
    totp_confirmed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # The last TOTP time step that signed in: a code is good once (RFC 6238 §5.2).
    totp_last_step: Mapped[int | None]
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_sign_in_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    @property
    def subject(self) -> str:
        """The `sub` of the tokens the portal mints for this account: stable, and no phone number in it."""
        return f"portal:{self.id}"


class SignInCode(Base):
    """One 6-digit code sent by SMS; only its keyed hash is kept."""

    __tablename__ = "sign_in_codes"
    id: Mapped[int] = mapped_column(primary_key=True)
    phone: Mapped[str] = mapped_column(String(20), index=True)
    code_hash: Mapped[str] = mapped_column(String(64))
    client_address: Mapped[str] = mapped_column(String(64), index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    failed_attempts: Mapped[int] = mapped_column(default=0)
    # Set when the code signed someone in, or ended (too many tries, or a newer code was sent).
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class WebSession(Base):
    """A browser's session; the cookie holds a random id, the table only its SHA-256."""

    __tablename__ = "web_sessions"
    id_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    account_id: Mapped[int | None] = mapped_column(ForeignKey("accounts.id"), index=True)
    data: Mapped[dict] = mapped_column(JSON, default=dict)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_seen_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class StaffSignInThrottle(Base):
    """Wrong passwords and codes counted per username ("user:<name>", known or not, so a lock
    says nothing about whether the name exists) and per client address ("address:<ip>")."""

    __tablename__ = "staff_sign_in_throttles"
    key: Mapped[str] = mapped_column(String(160), primary_key=True)
    failures: Mapped[int] = mapped_column(default=0)
    # How many locks so far: each lasts twice as long as the one before.
    lockouts: Mapped[int] = mapped_column(default=0)
    locked_until: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_failure_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class ScreenLink(Base):
    """A link that opens the station's wall screen without signing in (issue 13). The link carries
    this row's id signed with the portal's secret (domain/screen.py), so neither the table nor the
    id alone opens it; an admin's new link voids the ones before it."""

    __tablename__ = "screen_links"
    id: Mapped[int] = mapped_column(primary_key=True)
    created_by: Mapped[str] = mapped_column(String(100))  # the admin's username
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    voided_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
