"""The pipeline's floor: the least a notify task that sends an e-mail can cost on this stack.

    celery -A bench.floor_worker worker -Q notify ...

A Celery app from the project's factory (shared.celery_app.make_celery, as bench/noop_app.py),
on the notify database through shared/db.py's engine settings. Its one task, `notify.floor`,
INSERTs one row in one transaction (`bench_floor`, bench/floor_app.py), hands a fixed e-mail of a
few hundred bytes, not built with the `email` package, to the SMTP server over a connection kept
per process, and INCRs a Redis counter so bench/pipeline_bench.py sees it ran. No contract, no
inbox, no template, no send lock, no outbox: its rate against the bare task's bounds the
pipeline's ratio from above.
"""

import smtplib

import redis
from bench.floor_app import WRITE_ROW
from shared.celery_app import make_celery
from shared.db import Database
from shared.settings import Settings

DONE_KEY = "bench:floor:done"
MAIL = ("From: station@example.org\r\nTo: {to}\r\nSubject: floor\r\nMessage-ID: <floor-{id}@example.org>\r\n"
        "Content-Type: text/plain; charset=utf-8\r\n\r\nA fixed e-mail for the floor benchmark.\r\n")

settings = Settings.from_env()
celery = make_celery("floor", settings)
_made = {}  # made in each pool process on its first task, never shared across fork


def _once(name, make):
    if name not in _made:
        _made[name] = make()
    return _made[name]


@celery.task(name="notify.floor")
def floor(payload):
    database = _once("database", lambda: Database(settings.database_url("notify")))
    with database.engine.begin() as connection:
        row_id = connection.execute(WRITE_ROW, {"title": payload["to"], "attendees": 1}).scalar_one()
    smtp = _once("smtp", lambda: smtplib.SMTP(settings.smtp_host, settings.smtp_port, timeout=15))
    smtp.sendmail("station@example.org", [payload["to"]], MAIL.format(to=payload["to"], id=row_id).encode())
    _once("redis", lambda: redis.Redis.from_url(settings.redis_url)).incr(DONE_KEY)
