"""`python -m services.portal.relay`: the portal's outbox relay, a process of its own.

The APIs' relays run inside their Celery workers (shared/worker.py); the portal
consumes no queue, so it has no worker, and its relay runs alone. The web process
publishes each sign-in SMS right after its commit; this relay publishes what that
could not (Redis away), and again what Redis forgot (shared/outbox.py).
It touches a heartbeat file each pass, which the compose healthcheck reads.
"""

import logging
import signal
import threading

from services.portal import create_app

log = logging.getLogger(__name__)
HEARTBEAT_FILE = "portal-relay.alive"


def main() -> None:
    runtime = create_app().extensions["yizhan"]
    heartbeat = runtime.settings.var_dir / HEARTBEAT_FILE
    heartbeat.parent.mkdir(parents=True, exist_ok=True)
    stop = threading.Event()
    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, lambda *_: stop.set())
    log.info("portal outbox relay started (every %.1fs)", runtime.settings.outbox_interval_seconds)
    while not stop.wait(runtime.settings.outbox_interval_seconds):
        try:
            count = runtime.relay.relay_once()
            if count:
                log.info("outbox: relayed %d task(s)", count)
        except Exception:
            log.exception("outbox: relay pass failed; retrying")
        heartbeat.touch()
    log.info("portal outbox relay stopped")


if __name__ == "__main__":
    main()
