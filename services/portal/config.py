"""The portal's own settings, read from the environment like every other (README, configuration)."""

from dataclasses import dataclass
from datetime import timedelta


def _flag(value: str) -> bool:
    return value.strip().lower() in {"1", "true", "yes", "on"}


@dataclass(frozen=True)
class PortalConfig:
    api_urls: dict
    # A token the portal mints for one API call: short, so a leaked one is soon worthless.
    api_token_ttl_seconds: int = 120
    code_length: int = 6
    code_valid: timedelta = timedelta(minutes=5)
    code_max_attempts: int = 5
    code_resend_after: timedelta = timedelta(seconds=60)
    codes_per_phone_per_day: int = 10
    codes_per_address_per_day: int = 50
    # Idle timeouts: residents and organisation contacts stay signed in on their own phone a week.
    idle_timeout: dict = None
    cookie_secure: bool = True
    # Staff sign-in: so many wrong passwords or codes lock the username for staff_first_lock,
    # each later lock twice the one before; a client address gets a larger allowance.
    staff_failures_before_lock: int = 5
    staff_address_failures_before_lock: int = 20
    staff_first_lock: timedelta = timedelta(minutes=1)
    # Between the right password and the code (or the enrolment): a few minutes, not a session.
    staff_password_valid: timedelta = timedelta(minutes=5)

    @classmethod
    def from_settings(cls, settings) -> "PortalConfig":
        e = settings.environ
        urls = {name: e.get(f"PORTAL_{name.upper()}_URL") or f"http://127.0.0.1:{settings.service_ports[name]}"
                for name in ("booking", "desk", "notify")}
        return cls(
            api_urls={name: url.rstrip("/") for name, url in urls.items()},
            api_token_ttl_seconds=int(e.get("PORTAL_API_TOKEN_TTL", "120")),
            codes_per_phone_per_day=int(e.get("PORTAL_CODES_PER_PHONE_PER_DAY", "10")),
            codes_per_address_per_day=int(e.get("PORTAL_CODES_PER_ADDRESS_PER_DAY", "50")),
            idle_timeout={"resident": timedelta(days=7), "org": timedelta(days=7),
                          "staff": timedelta(minutes=30), "admin": timedelta(minutes=30)},
            # Secure cookies everywhere but on a developer's http://127.0.0.1 (`make run`).
            staff_failures_before_lock=int(e.get("PORTAL_STAFF_FAILURES_BEFORE_LOCK", "5")),
            staff_address_failures_before_lock=int(e.get("PORTAL_STAFF_ADDRESS_FAILURES_BEFORE_LOCK", "20")),
            staff_first_lock=timedelta(seconds=int(e.get("PORTAL_STAFF_FIRST_LOCK_SECONDS", "60"))),
            cookie_secure=_flag(e.get("PORTAL_COOKIE_SECURE", "0" if settings.env == "development" else "1")),
        )
