"""The delivery guarantees' numbers, from the environment (defaults in README.md)."""

from dataclasses import dataclass
from datetime import time

from shared.policy import policy_from_environ


def _clock(text: str) -> time:
    hour, minute = map(int, text.split(":"))
    return time(hour, minute)


@dataclass(frozen=True)
class NotifyPolicy:
    sms_daily_cap: int = 10
    # Sign-in codes to one phone a day, counted apart from sms_daily_cap (the portal caps them too).
    sign_in_daily_cap: int = 10
    # Messages one organisation may have the station send to one recipient a day, when that
    # recipient is not its registered contact (a booking's contact is whatever the booker typed).
    on_behalf_daily_cap: int = 5
    # An SMS placeholder's value is cut to this many characters (with "…").
    sms_param_max_chars: int = 30
    # A template's SMS, each placeholder at sms_param_max_chars, may be this long (5 Chinese SMS).
    template_sms_max_chars: int = 300
    # A `link` parameter must start with this address (the station's portal) and is then not cut.
    portal_url: str = "http://127.0.0.1:8080"
    quiet_start: time = time(22, 0)
    quiet_end: time = time(8, 0)
    sms_max_age_hours: float = 6
    retry_base_seconds: float = 5
    max_retries: int = 8
    circuit_threshold: int = 5
    circuit_cooldown_seconds: float = 60
    retention_days: int = 30
    send_lock_seconds: float = 120
    stuck_after_seconds: float = 300

    ENV = {
        "sms_daily_cap": ("NOTIFY_SMS_DAILY_CAP", int),
        "sign_in_daily_cap": ("NOTIFY_SIGN_IN_DAILY_CAP", int),
        "on_behalf_daily_cap": ("NOTIFY_ON_BEHALF_DAILY_CAP", int),
        "sms_param_max_chars": ("NOTIFY_SMS_PARAM_MAX_CHARS", int),
        "template_sms_max_chars": ("NOTIFY_TEMPLATE_SMS_MAX_CHARS", int),
        "portal_url": ("YIZHAN_PORTAL_URL", str),
        "quiet_start": ("NOTIFY_QUIET_START", _clock),
        "quiet_end": ("NOTIFY_QUIET_END", _clock),
        "sms_max_age_hours": ("NOTIFY_SMS_MAX_AGE_HOURS", float),
        "retry_base_seconds": ("NOTIFY_RETRY_BASE_SECONDS", float),
        "max_retries": ("NOTIFY_MAX_RETRIES", int),
        "circuit_threshold": ("NOTIFY_CIRCUIT_THRESHOLD", int),
        "circuit_cooldown_seconds": ("NOTIFY_CIRCUIT_COOLDOWN_SECONDS", float),
        "retention_days": ("NOTIFY_RETENTION_DAYS", int),
        "send_lock_seconds": ("NOTIFY_SEND_LOCK_SECONDS", float),
        "stuck_after_seconds": ("NOTIFY_STUCK_AFTER_SECONDS", float),
    }

    @classmethod
    def from_env(cls, environ: dict) -> "NotifyPolicy":
        return policy_from_environ(cls, environ, cls.ENV)
