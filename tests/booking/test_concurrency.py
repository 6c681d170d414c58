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


def test_concurrent_requests_on_one_shared_schema_each_get_their_own_answer(booking_api):
    """One schema instance reads every request's arguments (shared/api.py OneSchemaParser): under
    concurrent requests, on two processes of four threads each, each refused request names its own
    field and each good one is booked, never another request's errors."""
    url = booking_api.urls["booking"] + "/bookings"
    faults = [({"title": ""}, "title"), ({"attendees": 0}, "attendees"), ({"contact": {"name": "林"}}, "contact"), ({}, None)]
    start_line = threading.Barrier(8)
    answers = []

    def send(n):
        session = requests.Session()
        start_line.wait()
        for i in range(12):
            change, field = faults[(n + i) % len(faults)]
            response = session.post(url, json=make_booking(venue_id=9, **change), headers=auth("org", 1), timeout=60)
            answers.append((field, response.status_code, response.json()))

    threads = [threading.Thread(target=send, args=(n,)) for n in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(answers) == 96
    for field, status, body in answers:
        if field is None:
            assert status == 201, body
        else:
            assert status == 422 and list(body["error"]["fields"]) == [field], (field, body)
