"""The Celery app factory: JSON only, routing by task-name prefix, and the
reliability settings every worker runs with."""

from celery import Celery, signals
from kombu import Queue

from shared.logs import request_id_var
from shared.settings import Settings

QUEUES = ("booking", "desk", "notify")

# Redis re-delivers a message nobody acknowledged after the visibility timeout
# (YIZHAN_VISIBILITY_TIMEOUT). Every countdown or retry delay in the code must
# stay well below it, or a delayed task would be delivered twice (Celery docs,
# "Redis: Visibility timeout").
MAX_TASK_DELAY_FRACTION = 0.5


def queue_for(task_name: str):
    """`booking.request_booking` goes to queue `booking`, and so on."""
    prefix = task_name.split(".", 1)[0]
    return prefix if prefix in QUEUES else None


def route_by_prefix(name, args, kwargs, options, task=None, **kw):
    # A route with a queue and no exchange makes Celery publish to the default
    # ("") exchange: the task goes straight onto the Redis list named after its
    # queue, as SPEC §3 promises, with no binding table to lose when Redis
    # restarts empty (celery.app.amqp.send_task_message, "anon-exchange").
    # So nothing need be declared to publish: `declare=[]` spares kombu its check whether the queue
    # was declared, which copied and bound the queue and its exchange at every publish (a quarter of
    # a publish's CPU, issue 14). The workers declare the queues they consume.
    queue = queue_for(name)
    return {"queue": queue, "routing_key": queue, "declare": []} if queue else None


def max_task_delay(celery_app) -> float:
    """The longest countdown or retry delay the code may ask for."""
    return celery_app.conf.broker_transport_options["visibility_timeout"] * MAX_TASK_DELAY_FRACTION


class StationCelery(Celery):
    """A service's Celery app, made for its runtime (shared.service_app.ServiceRuntime): its tasks
    reach the database, settings and Flask app as `self.app.runtime`. None for an app that only
    publishes (the scheduler)."""

    def __init__(self, main: str, runtime=None, **kwargs):
        super().__init__(main, **kwargs)
        self.runtime = runtime


def make_celery(main: str, settings: Settings, runtime=None) -> Celery:
    app = StationCelery(main, runtime)
    app.conf.update(
        broker_url=settings.redis_url,
        # kombu's Redis transport, checking each list entry before kombu parses it (issue 11).
        broker_transport="shared.broker:Transport",
        # JSON only: a pickle body could run code in the worker (Celery docs, "Security").
        task_serializer="json",
        accept_content=["json"],
        result_accept_content=["json"],
        task_protocol=2,
        task_routes=(route_by_prefix,),
        task_queues=[Queue(q, routing_key=q) for q in QUEUES],
        task_default_queue="notify",
        # Acknowledge after the task ran, so a task in a dying worker is delivered again
        # (Celery docs, "Should I use retry or acks_late?").
        task_acks_late=True,
        # A child killed mid-task (OOM, SIGKILL) puts its message back instead of acking it.
        task_reject_on_worker_lost=True,
        # With late acks, hold one unacknowledged message per process, not a batch (Celery docs, "Prefetch Limits").
        worker_prefetch_multiplier=1,
        broker_transport_options={
            # Longer than any countdown or retry delay (see max_task_delay), shorter than an operator's patience.
            "visibility_timeout": settings.visibility_timeout_seconds,
            # Look for messages a dead worker left unacknowledged every tenth of that, on every sweep
            # (kombu's defaults scan about every 100 s whatever the timeout).
            "unacked_restore_interval": max(1, settings.visibility_timeout_seconds // 10),
            "unacked_restore_throttle": 1,
            # Each scan holds a lock in Redis for milliseconds, but a worker killed while holding it
            # stopped every scan for kombu's 300 s (tests/faults/test_worker_killed.py, 1 run in CI).
            # Let a dead holder's lock lapse after one interval instead; a second scanner at worst
            # finds nothing left to restore, as restore_by_tag WATCHes the unacked hash.
            "unacked_mutex_expire": max(5, settings.visibility_timeout_seconds // 10),
            # Fail fast when Redis is unreachable; the outbox relay tries again.
            "socket_connect_timeout": 2,
            "health_check_interval": 10,
        },
        # Nothing reads task results; the effect lives in each service's database.
        task_ignore_result=True,
        # Keep retrying the broker for ever; a worker should outlive a Redis restart.
        broker_connection_retry=True,
        broker_connection_retry_on_startup=True,
        broker_connection_max_retries=None,
        # A connection lost mid-task means the message will be redelivered; stop the old run.
        worker_cancel_long_running_tasks_on_connection_loss=True,
        worker_hijack_root_logger=False,
        worker_consumer="shared.dead_letters:DeadLetteringConsumer",
        enable_utc=True,
        timezone="Asia/Shanghai",
    )
    return app


@signals.before_task_publish.connect
def carry_request_id(headers=None, **_):
    """Every task published while handling a request or a task carries its request id."""
    if headers is not None and not headers.get("request_id"):
        headers["request_id"] = request_id_var.get()
