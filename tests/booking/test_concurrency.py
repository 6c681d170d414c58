"""No double booking, enforced by the database: 20 requests race for one slot
through real HTTP to two API processes; exactly one wins (PostgreSQL: an exclusion constraint;
SQLite: BEGIN IMMEDIATE before the check)."""

import threading
from collections import Counter

import pytest
import requests

from tests.conftest import auth, isolated_redis_url, launched_station, make_booking

pytestmark = pytest.mark.e2e
RACERS = 20


@pytest.fixture(scope="module")
def booking_api(backend, work_dir, redis_server):
    with launched_station(backend, work_dir, isolated_redis_url(redis_server.url), services=("booking",),
                          api_workers=2) as station:
        yield station


def test_twenty_requests_for_one_slot_give_one_booking_and_nineteen_conflicts(booking_api):
    body = make_booking(venue_id=8, title="篮球赛 Basketball match", attendees=20)
    url = booking_api.urls["booking"] + "/bookings"
    start_line = threading.Barrier(RACERS)
    statuses = []

    def race(n):
        session = requests.Session()
        headers = auth("org", 1 + n % 4)
        payload = {**body, "organization_id": 1 + n % 4}
        start_line.wait()
        statuses.append(session.post(url, json=payload, headers=headers, timeout=60).status_code)

    threads = [threading.Thread(target=race, args=(n,)) for n in range(RACERS)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(90)
    counted = Counter(statuses)
    print(f"injected: {RACERS} simultaneous requests for one slot; counted {dict(counted)}")
    assert counted == {201: 1, 409: RACERS - 1}, booking_api.logs()
    listed = booking_api.http("booking", "GET", f"/bookings?venue_id=8&per_page=100").json()["items"]
    assert len([b for b in listed if b["start"] == body["start"]]) == 1
