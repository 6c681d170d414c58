"""Metrics read at scrape time from the service's own state: its queue's depth in
Redis, its outbox backlog, and any counts the service adds (notify: messages).

A custom collector (prometheus_client docs, "Custom Collectors"): nothing to keep
in step across processes, because every scrape asks the source."""

import redis
from prometheus_client.core import GaugeMetricFamily
from sqlalchemy import func, select

from shared.celery_app import QUEUES
from shared.db import utcnow


class StateCollector:
    def __init__(self, runtime, extra=None):
        self.runtime = runtime
        self.extra = extra  # callable(session) -> iterable of metric families

    def collect(self):
        yield from self._queues()
        yield from self._outbox()

    def _queues(self):
        depth = GaugeMetricFamily("yizhan_queue_depth", "Tasks waiting in each queue (Redis list length)",
                                  labels=["queue"])
        client = redis.Redis.from_url(self.runtime.settings.redis_url, socket_connect_timeout=1, socket_timeout=1)
        try:
            for queue in QUEUES:
                depth.add_metric([queue], client.llen(queue))
        except redis.RedisError:
            return  # no figure rather than a wrong one; /healthz says Redis is down
        finally:
            client.close()
        yield depth

    def _outbox(self):
        outbox = self.runtime.database.infrastructure.outbox
        try:
            with self.runtime.database.reader() as session:
                count, oldest = session.execute(select(func.count(), func.min(outbox.created_at))
                                                .where(outbox.published_at.is_(None))).one()
                extra = list(self.extra(session)) if self.extra else []
        except Exception:  # the database is away: /healthz says so
            return
        service = self.runtime.name
        backlog = GaugeMetricFamily("yizhan_outbox_backlog", "Outbox tasks not yet published", labels=["service"])
        backlog.add_metric([service], count)
        age = GaugeMetricFamily("yizhan_outbox_oldest_age_seconds", "Age of the oldest unpublished outbox task",
                                labels=["service"])
        age.add_metric([service], (utcnow() - oldest).total_seconds() if oldest else 0.0)
        yield backlog
        yield age
        yield from extra
