"""The baseline for bench/pipeline_bench.py: a Celery app with one task that does (almost) nothing.

    celery -A bench.noop_app worker -Q notify ...

It is made by the same factory as every service's app (shared.celery_app.make_celery),
so it runs with the same JSON serialisation, late acks, prefetch limit and routing:
`notify.noop` goes to the `notify` queue by its prefix. To let the benchmark see
that a task ran, the body INCRs one Redis counter, with one client per worker process.
"""

import redis

from shared.celery_app import make_celery
from shared.settings import Settings

DONE_KEY = "bench:noop:done"

settings = Settings.from_env()
celery = make_celery("noop", settings)
_client = None  # made in each pool process on its first task, never shared across fork


def _redis() -> redis.Redis:
    global _client
    if _client is None:
        _client = redis.Redis.from_url(settings.redis_url)
    return _client


@celery.task(name="notify.noop")
def noop(payload):
    _redis().incr(DONE_KEY)
