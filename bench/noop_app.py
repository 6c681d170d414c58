"""The Celery baselines: an app whose tasks do (almost) nothing.

    celery -A bench.noop_app worker -Q notify ...

It is made by the same factory as every service's app (shared.celery_app.make_celery),
so it runs with the same JSON serialisation, late acks, prefetch limit and routing:
`notify.noop` and `notify.hop` go to the `notify` queue by their prefix.

- `notify.noop` (bench/pipeline_bench.py) INCRs one Redis counter, so the benchmark sees that it ran.
- `notify.hop` (bench/e2e_bench.py) passes itself on `hops` times, then marks the end: it SETs
  `bench:hop:<token>` or, given a `url`, POSTs the token there (as a provider would be called).
"""

import redis
import requests

from shared.celery_app import make_celery
from shared.settings import Settings

DONE_KEY = "bench:noop:done"
HOP_KEY = "bench:hop:{token}"

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


@celery.task(name="notify.hop")
def hop(payload):
    if payload["hops"] > 1:
        hop.delay({**payload, "hops": payload["hops"] - 1})
    elif payload.get("url"):
        requests.post(payload["url"], json={"token": payload["token"]}, timeout=10).raise_for_status()
    else:
        _redis().set(HOP_KEY.format(token=payload["token"]), 1, ex=3600)
