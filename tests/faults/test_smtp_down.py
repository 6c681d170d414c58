"""The SMTP server down for twenty seconds: it answers 421 ("try again later")
to every recipient while about thirty e-mails are asked for, then accepts again.
Every message ends `sent`, and the server receives each exactly once."""

import time
import uuid
from collections import Counter

import pytest

from tests.conftest import isolated_redis_url, launched_station
from tests.faults.mail import PARAMS
from tests.processes import wait_until

pytestmark = pytest.mark.e2e
MESSAGES = 30
REFUSING_SECONDS = 20
COOLDOWN_SECONDS = 10
BOUND_SECONDS = 120


def statuses(station) -> Counter:
    counts = Counter()
    for status in ("accepted", "sending", "sent", "failed", "suppressed"):
        counts[status] = station.http("notify", "GET", f"/messages?status={status}&per_page=1").json()["total"]
    return counts


def test_smtp_refusing_for_twenty_seconds_delays_but_loses_no_email(backend, work_dir, redis_server):
    with launched_station(backend, work_dir, isolated_redis_url(redis_server.url), services=("notify",),
                          # A 10 s circuit cooldown instead of 60 s: the circuit opens, probes while the server
                          # still refuses, and closes soon after it accepts again, all inside the test's time.
                          extra_env={"NOTIFY_RETRY_BASE_SECONDS": "1",
                                     "NOTIFY_CIRCUIT_COOLDOWN_SECONDS": str(COOLDOWN_SECONDS)}) as station:
        run = uuid.uuid4().hex[:8]
        recipients = [f"smtp-down-{n}@example.org" for n in range(MESSAGES)]
        station.smtp.refusing = True
        started = time.monotonic()
        ids = []
        try:
            for n, recipient in enumerate(recipients):
                response = station.http("notify", "POST", "/messages", role="system", json={
                    "channel": "email", "recipient": recipient, "template": "booking_approved", "params": PARAMS,
                    "idempotency_key": f"smtp-down-{run}-{n}"})
                assert response.status_code == 202, response.text
                ids.append(response.json()["id"])
            time.sleep(max(0.0, REFUSING_SECONDS - (time.monotonic() - started)))
        finally:
            station.smtp.refusing = False
        during = statuses(station)
        print(f"injected: SMTP answering 421 to every RCPT for {time.monotonic() - started:.1f} s while "
              f"{MESSAGES} e-mails were posted; then accepting; statuses at that moment: {dict(during)}")

        def all_final():
            counts = statuses(station)
            return counts["sent"] + counts["failed"] == MESSAGES and counts
        try:
            final = wait_until(all_final, BOUND_SECONDS - (time.monotonic() - started), 0.5,
                               f"all {MESSAGES} e-mails sent or failed within {BOUND_SECONDS} s")
        except AssertionError as exc:
            report(station, ids, recipients, started, str(exc))
            print(station.logs())
            raise
        report(station, ids, recipients, started, "every message final")
        received = Counter(m["To"] for m in station.smtp.received)
        assert final["sent"] == MESSAGES, f"{final['failed']} message(s) ended failed"
        assert [r for r in recipients if received[r] != 1] == []


def report(station, ids, recipients, started, outcome):
    details = [station.http("notify", "GET", f"/messages/{i}").json() for i in ids]
    final = Counter(d["status"] for d in details)
    retried = Counter(sum("retrying" in (h["detail"] or "") for h in d["history"]) for d in details)
    circuit = sum(any("circuit open" in (h["detail"] or "") for h in d["history"]) for d in details)
    failed = {d["id"]: d["status_reason"] for d in details if d["status"] == "failed"}
    received = Counter(m["To"] for m in station.smtp.received)
    lost = [r for r in recipients if received[r] == 0]
    duplicated = sum(received[r] - 1 for r in recipients if received[r] > 1)
    print(f"counted ({outcome}, {time.monotonic() - started:.1f} s after the first post): sent {MESSAGES}, "
          f"final statuses {dict(final)}, received {sum(received[r] for r in recipients)} e-mails, "
          f"not received {len(lost)} ({final['failed']} failed, {final['accepted'] + final['sending']} still retrying), "
          f"duplicated {duplicated}; failed attempts per message {dict(sorted(retried.items()))}; "
          f"{circuit} message(s) met the open circuit; failed: {failed or 'none'}")
