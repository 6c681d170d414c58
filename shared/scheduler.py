"""`celery -A shared.scheduler beat`: the one process that posts periodic tasks.

Run exactly one. Each entry posts a task with a plain `{"v": 1}` payload; the
worker that owns the queue does the work in its own database.
"""

from celery.schedules import crontab

from shared import contracts
from shared.celery_app import make_celery
from shared.logs import configure_logging
from shared.settings import load_settings

settings = load_settings()
configure_logging("scheduler", settings.log_level)
celery = make_celery("scheduler", settings)
SWEEP = [{"v": contracts.CONTRACT_VERSION}]

celery.conf.beat_schedule = {
    # Messages held for quiet hours (22:00–08:00) go out from 08:00: a sweep, not a long countdown.
    "release-held-messages": {"task": contracts.RELEASE_HELD_MESSAGES, "schedule": 60.0, "args": SWEEP,
                              "options": {"expires": 55}},
    # Message texts are purged after the retention period; the metadata stays.
    "purge-message-bodies": {"task": contracts.PURGE_MESSAGE_BODIES, "schedule": 3600.0, "args": SWEEP,
                             "options": {"expires": 3500}},
    # The staff's morning digest of open and overdue reviews and tickets (celery's timezone is Asia/Shanghai).
    "staff-digest": {"task": contracts.SEND_STAFF_DIGEST, "schedule": crontab(hour=8, minute=30), "args": SWEEP,
                     "options": {"expires": 3600}},
    # No-shows 30 minutes after the start, completions after the end (booking's integrity rules).
    "sweep-attendance": {"task": contracts.SWEEP_ATTENDANCE, "schedule": 60.0, "args": SWEEP,
                         "options": {"expires": 55}},
    # The day-before reminder, found in the database, never by a long countdown.
    "queue-reminders": {"task": contracts.QUEUE_REMINDERS, "schedule": 300.0, "args": SWEEP,
                        "options": {"expires": 290}},
    # +2 credit for a clean calendar month; idempotent per month, so a daily run is enough.
    "recover-credit": {"task": contracts.RECOVER_CREDIT, "schedule": 3600.0, "args": SWEEP,
                       "options": {"expires": 3500}},
    # Messages left in `accepted` (a lost task) are queued for delivery again (GOV.UK Notify does the same).
    "requeue-stuck-messages": {"task": contracts.REQUEUE_STUCK_MESSAGES, "schedule": 60.0, "args": SWEEP,
                               "options": {"expires": 55}},
}
