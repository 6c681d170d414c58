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
    app.extensions["state_metrics"] = message_metrics


def message_metrics(session):
    """Messages by channel, provider and status, counted in the database at scrape time."""
    from prometheus_client.core import GaugeMetricFamily
    from sqlalchemy import func, select

    from services.notify.models import Message

    family = GaugeMetricFamily("yizhan_messages", "Messages by channel, provider and status",
                               labels=["channel", "provider", "status"])
    rows = session.execute(select(Message.channel, Message.provider, Message.status, func.count())
                           .group_by(Message.channel, Message.provider, Message.status))
    for channel, provider, status, count in rows:
        family.add_metric([channel, provider or "none", status], count)
    yield family


def notify_context() -> NotifyContext:
    return current_app.extensions["notify"]
