"""Redis lost in the middle of a run of bookings and decisions: it stops (keeping
nothing, no snapshot, no append-only file) while requests keep coming, then
starts again empty on the same port. Every request that was answered 2xx
reaches its final state, and the same worker processes carry on without a
restart."""

import time
from collections import Counter

import pytest
import requests

from tests.conftest import launched_station, make_booking
from tests.processes import RedisServer, wait_until

pytestmark = pytest.mark.e2e
BEFORE = 12             # bookings created while Redis is up
APPROVED_BEFORE = 6     # of which decided before Redis stops; the others are decided while it is down
OUTAGE_SECONDS = 5
SETTLE_SECONDS = 90


@pytest.fixture
def private_redis(work_dir):
    server = RedisServer(work_dir).start()
    yield server
    server.stop()


def phone_for(n: int) -> str:
    return f"1390000{n:04d}"


def all_pages(station, service, path):
    items, page = [], 1
    while True:
        body = station.http(service, "GET", f"{path}{'&' if '?' in path else '?'}per_page=100&page={page}").json()
        items += body["items"]
        if page * body["per_page"] >= body["total"]:
            return items
        page += 1


def reviews_by_booking(station) -> dict:
    by_booking = {}
    for review in all_pages(station, "desk", "/reviews"):
        by_booking.setdefault(review["booking_id"], []).append(review)
    return by_booking


def worker_pids(station) -> dict:
    return {name: p.process.pid for name, p in station.processes.items() if name.endswith("-worker")}


def test_redis_lost_and_restarted_empty_loses_no_answered_request(backend, work_dir, private_redis):
    with launched_station(backend, work_dir, private_redis.url) as station:
        pids_before = worker_pids(station)
        booked = {}      # booking id -> the contact's phone, for every 2xx POST /bookings
        decided = {}     # booking id -> review id, for every 2xx approve decision
        refused = Counter()  # non-2xx answers and transport errors, by phase
        numbers = iter(range(10_000))

        def book(phase):
            n = next(numbers)
            body = make_booking(title=f"Redis-lost {phase} {n}",
                                contact={"name": "林海燕", "phone": phone_for(n), "email": None})
            try:
                response = station.http("booking", "POST", "/bookings", role="org", org=1, json=body)
            except requests.RequestException as exc:
                refused[f"{phase} POST /bookings {type(exc).__name__}"] += 1
                return None
            if 200 <= response.status_code < 300:
                booked[response.json()["id"]] = phone_for(n)
                return response.json()["id"]
            refused[f"{phase} POST /bookings {response.status_code}"] += 1
            return None

        def approve(review, phase):
            try:
                response = station.http("desk", "POST", f"/reviews/{review['id']}/decision",
                                        json={"decision": "approve"})
            except requests.RequestException as exc:
                refused[f"{phase} decision {type(exc).__name__}"] += 1
                return
            if 200 <= response.status_code < 300:
                decided[review["booking_id"]] = review["id"]
            else:
                refused[f"{phase} decision {response.status_code}"] += 1

        # Redis up: book, wait until every review is open, then decide half of them.
        for _ in range(BEFORE):
            book("before")
        def every_review():
            reviews = reviews_by_booking(station)
            return reviews if all(b in reviews for b in booked) else None
        try:
            cases = wait_until(every_review, 30, 0.1, "a review for every booking made before the outage")
        except AssertionError:
            print(station.logs())
            raise
        for booking_id in list(booked)[:APPROVED_BEFORE]:
            approve(cases[booking_id][0], "before")
        assert len(decided) == APPROVED_BEFORE, f"decisions refused with Redis up: {dict(refused)}"
        open_at_stop = [cases[booking_id][0] for booking_id in list(booked)[APPROVED_BEFORE:]]
        sent_before = (len(booked), len(decided))

        # Straight after the last decision, while its effects are still travelling between services.
        private_redis.stop()
        stopped_at = time.monotonic()
        print(f"injected: stopped redis on port {private_redis.port} (nothing persisted) after "
              f"{sent_before[0]} bookings and {sent_before[1]} decisions; {len(open_at_stop)} reviews open")

        while time.monotonic() - stopped_at < OUTAGE_SECONDS:
            book("outage")
            if open_at_stop:
                approve(open_at_stop.pop(), "outage")
            time.sleep(0.1)
        outage = time.monotonic() - stopped_at
        sent_outage = (len(booked) - sent_before[0], len(decided) - sent_before[1])

        private_redis.start()
        restarted_at = time.monotonic()
        print(f"injected: redis started again, empty, on port {private_redis.port} after {outage:.1f} s down; "
              f"{sent_outage[0]} bookings and {sent_outage[1]} decisions answered 2xx meanwhile, "
              f"refused: {dict(refused) or 'none'}")

        def state():
            reviews = reviews_by_booking(station)
            approved_sms = Counter(m["recipient"].removeprefix("+86") for m in all_pages(station, "notify", "/messages?status=sent")
                                   if m["template"] == "booking_approved")
            statuses = {b: station.http("booking", "GET", f"/bookings/{b}").json()["status"] for b in decided}
            return reviews, approved_sms, statuses

        def missing():
            reviews, approved_sms, statuses = state()
            no_review = [b for b in booked if b not in reviews]
            not_approved = [b for b, s in statuses.items() if s != "approved"]
            no_sms = [b for b in decided if approved_sms[booked[b]] == 0]
            return no_review, not_approved, no_sms

        try:
            wait_until(lambda: not any(missing()), SETTLE_SECONDS, 1.0, "every answered request's final state")
        except AssertionError:
            no_review, not_approved, no_sms = missing()
            exited = {name: p.process.poll() for name, p in station.processes.items() if p.process.poll() is not None}
            print(f"lost: {len(no_review)} bookings without a review {sorted(no_review)}, "
                  f"{len(not_approved)} decided bookings not approved {sorted(not_approved)}, "
                  f"{len(no_sms)} without a sent booking_approved SMS {sorted(no_sms)}; "
                  f"processes exited: {exited or 'none'}")
            print(station.logs())
            raise
        settled = time.monotonic() - restarted_at

        reviews, approved_sms, statuses = state()
        duplicated_reviews = sum(len(cases) - 1 for b, cases in reviews.items() if b in booked)
        duplicated_sms = sum(approved_sms[booked[b]] - 1 for b in decided if approved_sms[booked[b]] > 1)
        sms_log = (station.log_dir / "sms.log").read_text()
        approved_sms_lines = sum(sms_log.count(f'"to": "+86{booked[b]}"') for b in decided)
        pids_after = worker_pids(station)
        alive = {name: station.processes[name].process.poll() is None for name in pids_after}
        print(f"counted: sent {len(booked)} bookings + {len(decided)} decisions with a 2xx "
              f"({sent_before[0]}+{sent_before[1]} before, {sent_outage[0]}+{sent_outage[1]} during the outage); "
              f"received {sum(1 for b in booked if b in reviews)} reviews, "
              f"{sum(1 for s in statuses.values() if s == 'approved')} approved bookings, "
              f"{sum(1 for b in decided if approved_sms[booked[b]])} booking_approved SMS sent "
              f"({approved_sms_lines} SMS lines in all to the decided bookers), settled {settled:.1f} s after the restart; "
              f"lost 0; duplicated {duplicated_reviews} reviews, {duplicated_sms} SMS; "
              f"worker pids before {pids_before}, after {pids_after}")
        assert duplicated_reviews == 0 and duplicated_sms == 0
        assert sent_outage[0] > 0 and sent_outage[1] > 0, "the outage saw no answered request: nothing was tested"
        assert pids_after == pids_before and all(alive.values()), (pids_before, pids_after, alive)
