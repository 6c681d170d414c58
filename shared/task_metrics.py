"""Task metrics for a worker: received, succeeded, retried, failed and dead-lettered,
with run-time histograms, correct across prefork processes.

Every process writes to PROMETHEUS_MULTIPROC_DIR (prometheus_client's multiprocess
mode); the worker's main process serves the merged figures on
YIZHAN_WORKER_METRICS_PORT. Both unset: counted in-process only, served nowhere.
"""

import logging
import os
import time

from celery import signals
from prometheus_client import CollectorRegistry, Counter, Histogram, multiprocess, start_http_server

from shared.series import series

log = logging.getLogger(__name__)

TASKS = Counter("yizhan_tasks_total", "Tasks by name and outcome", ["task", "outcome"])
TASK_SECONDS = Histogram("yizhan_task_duration_seconds", "Time a task ran", ["task"])
DEAD_LETTERS = Counter("yizhan_dead_letters_total", "Messages refused as dead letters", ["queue"])
LOST_MESSAGES = Counter("yizhan_lost_messages_total",
                        "Refused messages that could not even be kept as dead letters (each logged once)", ["queue"])
_started = {}


@signals.task_received.connect
def _received(request=None, **_):
    series(TASKS, request.name if request else "unknown", "received").inc()


@signals.task_prerun.connect
def _prerun(task_id=None, **_):
    _started[task_id] = time.perf_counter()


@signals.task_postrun.connect
def _postrun(task_id=None, task=None, state=None, **_):
    began = _started.pop(task_id, None)
    if began is not None and task is not None:
        series(TASK_SECONDS, task.name).observe(time.perf_counter() - began)
    if task is not None and state == "SUCCESS":
        series(TASKS, task.name, "succeeded").inc()


@signals.task_retry.connect
def _retried(request=None, **_):
    TASKS.labels(getattr(request, "task", None) or "unknown", "retried").inc()


@signals.task_revoked.connect
def _revoked(request=None, expired=False, **_):
    # An expired message (its sender's `expires` passed before a worker took it) is discarded, not kept.
    TASKS.labels(getattr(request, "task", None) or "unknown", "expired" if expired else "revoked").inc()


@signals.task_failure.connect
def _failed(sender=None, **_):
    TASKS.labels(getattr(sender, "name", "unknown"), "failed").inc()


def count_dead_letter(queue: str) -> None:
    DEAD_LETTERS.labels(queue).inc()


def count_lost_message(queue: str) -> None:
    LOST_MESSAGES.labels(queue).inc()


def serve_worker_metrics() -> None:
    """In the worker's main process: serve every process's figures, merged."""
    port = os.environ.get("YIZHAN_WORKER_METRICS_PORT")
    if not port or not os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        return
    registry = CollectorRegistry()
    multiprocess.MultiProcessCollector(registry)
    start_http_server(int(port), registry=registry)
    log.info("worker metrics on port %s", port)


@signals.worker_process_shutdown.connect
def _child_gone(pid=None, **_):
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR") and pid:
        multiprocess.mark_process_dead(pid)
