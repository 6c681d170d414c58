"""The link in the done SMS leads the resident to the follow-up question, and the answer is recorded."""

import re

import pytest

from tests.portal.conftest import csrf_token, sms_lines
from tests.portal.resident_station import resident_station, signed_in
from tests.portal.test_resident_pages import move, start_errand, ticket_id_of
from tests.processes import wait_until

# The pages act the same on either database: once, on SQLite (tests/portal/conftest.py).
PAGES_ON_SQLITE_ONLY = True


@pytest.fixture(scope="module")
def station(backend, work_dir, redis_server):
    with resident_station(backend, work_dir, redis_server) as station:
        yield station


def test_the_resident_follows_the_link_in_the_done_sms_and_answers(station):
    phone = "13900000411"
    client = signed_in(station, phone)
    ticket_id = ticket_id_of(start_errand(station, client))
    move(station, ticket_id, ("accepted", {}), ("in_progress", {}), ("done", {}))
    done = wait_until(lambda: [line["body"] for line in sms_lines(station, phone) if "已办结" in line["body"]],
                      30, 0.3, "the done SMS")[0]
    link = re.search(r"请为本次服务打分: (\S+)$", done).group(1)
    # The link is the station's public address (YIZHAN_PORTAL_URL, the gateway); this test's portal
    # listens on a port of its own, so the link's path is opened there.
    portal = station.env.get("YIZHAN_PORTAL_URL", "http://127.0.0.1:8080").rstrip("/")
    assert link == f"{portal}/errands/{ticket_id}/follow-up"
    form = client.get(station.portal.url + link.removeprefix(portal), timeout=10)
    assert form.status_code == 200 and form.text.count('type="radio" name="satisfaction"') == 5
    answered = client.post(form.url, data={"satisfaction": "4", "csrf_token": csrf_token(form.text)}, timeout=10)
    assert answered.status_code == 200 and "谢谢您的评价：4分" in answered.text
    assert station.http("desk", "GET", f"/tickets/{ticket_id}").json()["satisfaction"] == 4
