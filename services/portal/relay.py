"""`python -m services.portal.relay`: the portal's outbox relay, a process of its own.

The APIs' relays run inside their Celery workers (shared/worker.py); the portal
consumes no queue, so it has no worker, and its relay runs alone. The web process
publishes each sign-in SMS right after its commit; this relay publishes what that
could not (Redis away), and again what Redis forgot (shared/outbox.py).
It touches a heartbeat file each pass, which the compose healthcheck reads, and
now and then deletes sessions and sign-in codes no one can use any more.
"""

import logging
import signal
import threading
import time

from services.portal import create_app
from services.portal.domain.sessions import purge_ended
from services.portal.domain.sign_in import purge_old_codes
from shared.db import utcnow

log = logging.getLogger(__name__)
HEARTBEAT_FILE = "portal-relay.alive"
PURGE_EVERY_SECONDS = 600


def purge(app) -> None:
    runtime, now = app.extensions["yizhan"], utcnow()
    sessions = purge_ended(runtime.database, app.extensions["portal"].config, now)
    with runtime.database.transaction() as session:
        codes = purge_old_codes(session, now)
    if sessions or codes:
        log.info("purged %d ended session(s) and %d old sign-in code(s)", sessions, codes)


def main() -> None:
    app = create_app()
    runtime = app.extensions["yizhan"]
    heartbeat = runtime.settings.var_dir / HEARTBEAT_FILE
    heartbeat.parent.mkdir(parents=True, exist_ok=True)
    stop = threading.Event()
    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, lambda *_: stop.set())
    log.info("portal outbox relay started (every %.1fs)", runtime.settings.outbox_interval_seconds)
    last_purge = 0.0
    while not stop.wait(runtime.settings.outbox_interval_seconds):
        try:
            count = runtime.relay.relay_once()
            if count:
                log.info("outbox: relayed %d task(s)", count)
            if time.monotonic() - last_purge > PURGE_EVERY_SECONDS:
                purge(app)
                last_purge = time.monotonic()
        except Exception:
            log.exception("outbox: relay pass failed; retrying")
        heartbeat.touch()
    log.info("portal outbox relay stopped")


if __name__ == "__main__":
    main()
