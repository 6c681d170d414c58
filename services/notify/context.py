"""The notify service's own extensions: its policy and the providers' shared circuit breaker."""

from dataclasses import dataclass

from flask import current_app

from services.notify.domain.circuit import CircuitBreaker
from services.notify.domain.delivery import SendLocks
from services.notify.policy import NotifyPolicy


@dataclass(frozen=True)
class NotifyContext:
    policy: NotifyPolicy
    circuit: CircuitBreaker
    send_locks: SendLocks


def extend(app, settings) -> None:
    policy = NotifyPolicy.from_env(settings.environ)
    app.extensions["notify"] = NotifyContext(policy, CircuitBreaker(settings.redis_url, policy),
                                             SendLocks(settings.redis_url, policy.send_lock_seconds))


def notify_context() -> NotifyContext:
    return current_app.extensions["notify"]
