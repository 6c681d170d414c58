"""SIGTERM to a busy notify worker, as `docker stop` sends it: Celery's warm
shutdown finishes the tasks it is running and puts the unacknowledged ones back
on the queue. A new worker sends the rest; every e-mail arrives exactly once."""

import os
import signal
import subprocess
import time
import uuid
from collections import Counter

import pytest
import redis

from tests.conftest import isolated_redis_url, launched_station
from tests.faults.mail import post_emails, sent_count
from tests.processes import wait_until, worker_process

pytestmark = pytest.mark.e2e
MESSAGES = 200


def test_sigterm_to_a_busy_worker_loses_nothing(backend, work_dir, redis_server):
    with launched_station(backend, work_dir, isolated_redis_url(redis_server.url), services=("notify",)) as station:
        client = redis.Redis.from_url(station.env["REDIS_URL"])
        run = uuid.uuid4().hex[:8]
        post_emails(client, MESSAGES, f"term-{run}", "t")
        worker = station.processes["notify-worker"]

        wait_until(lambda: sent_count(station) >= 20, 60, 0.05, "the first 20 sent")
        children = subprocess.run(["pgrep", "-P", str(worker.process.pid)], capture_output=True, text=True).stdout.split()
        os.kill(worker.process.pid, signal.SIGTERM)  # the main process only, as `docker stop` does
        terminated_at = time.monotonic()
        print(f"injected: SIGTERM to worker main process {worker.process.pid} (children {children}) "
              f"after {sent_count(station)} sent")
        try:
            code = worker.process.wait(60)
        except subprocess.TimeoutExpired:
            print(station.logs())
            raise AssertionError("the worker did not finish its warm shutdown within 60 s") from None
        at_exit = sent_count(station)
        queued = client.llen("notify")
        unacked = client.hlen("unacked")
        print(f"worker exited with {code} after {time.monotonic() - terminated_at:.1f} s; {at_exit} sent, "
              f"{queued} task(s) on the queue, {unacked} left unacknowledged")
        assert "Warm shutdown" in worker.log_text() or "warm shutdown" in worker.log_text().lower()
        assert at_exit < MESSAGES, "the worker finished everything before the signal: nothing was tested"

        replacement = worker_process("notify", station.env, station.log_dir, suffix="-2").start()
        station.processes["notify-worker-2"] = replacement
        replacement.wait_for_log("ready.")
        try:
            wait_until(lambda: sent_count(station) == MESSAGES, 120, 0.5, "every message sent")
        except AssertionError:
            print(station.logs())
            raise
        finally:
            received = Counter(m["To"] for m in station.smtp.received if m["To"].startswith("t"))
            lost = [n for n in range(MESSAGES) if received[f"t{n}@example.org"] == 0]
            duplicated = sum(c - 1 for c in received.values() if c > 1)
            print(f"counted: {MESSAGES} messages, {sent_count(station)} sent, {sum(received.values())} e-mails "
                  f"received, {len(lost)} lost, {duplicated} duplicated")
            client.close()
        assert lost == [] and duplicated == 0
        assert all(count == 1 for count in received.values())
