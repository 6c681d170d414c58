"""What a service's worker process adds to its Celery app: the outbox relay,
fork safety for database connections, JSON logs and request ids in task headers."""

import logging
import threading

from celery import bootsteps, signals

from shared.logs import configure_logging
from shared.task_metrics import serve_worker_metrics

log = logging.getLogger(__name__)


class OutboxRelayStep(bootsteps.StartStopStep):
    """A thread in the worker's main process that publishes what the outbox holds."""

    requires = {"celery.worker.components:Pool"}

    def __init__(self, worker, **kwargs):
        super().__init__(worker, **kwargs)
        self.stop_event = threading.Event()
        self.thread = None

    def start(self, worker):
        runtime = worker.app.runtime
        interval = runtime.settings.outbox_interval_seconds
        self.thread = threading.Thread(target=runtime.relay.run, args=(self.stop_event, interval),
                                       name="outbox-relay", daemon=True)
        self.thread.start()
        log.info("outbox relay started (every %.1fs)", interval)

    def stop(self, worker):
        self.stop_event.set()
        if self.thread is not None:
            self.thread.join(timeout=5)


def prepare_worker(flask_app):
    """Return the Celery app that `celery -A services.<name>.worker` starts."""
    runtime = flask_app.extensions["yizhan"]
    celery = runtime.celery
    celery.steps["worker"].add(OutboxRelayStep)
    runtime.database.guard_forks()

    @signals.worker_ready.connect(weak=False)
    def expose_metrics(**_):
        serve_worker_metrics()

    @signals.setup_logging.connect(weak=False)
    def use_json_logs(**_):
        configure_logging(runtime.name, runtime.settings.log_level)

    @signals.worker_process_init.connect(weak=False)
    def forget_parent_connections(**_):
        # A forked child must not share the parent's database sockets
        # (SQLAlchemy docs, "Using Connection Pools with Multiprocessing or os.fork()").
        runtime.database.dispose(close=False)

    celery.set_default()
    return celery
