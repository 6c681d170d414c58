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
