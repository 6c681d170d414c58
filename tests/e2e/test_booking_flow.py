"""A booking through real workers: received, reviewed at the desk, approved, and
reminded the day before; and booking.request_booking from another system."""

import uuid
from datetime import timedelta

import pytest
import redis

from services.booking.domain import lifecycle
from shared import contracts
from tests.conftest import make_booking
from tests.processes import wait_until
from tests.raw_tasks import post_task

pytestmark = pytest.mark.e2e


def messages_for(station, recipient):
    return station.http("notify", "GET", f"/messages?recipient={recipient}&per_page=100").json()["items"]


def wait_for_templates(station, recipient, templates):
    def arrived():
        sent = {m["template"] for m in messages_for(station, recipient) if m["status"] == "sent"}
        return templates <= sent
    try:
        wait_until(arrived, 30, 0.3, f"{sorted(templates)} to {recipient}")
    except AssertionError:
        print(station.logs())
        raise


def test_the_contact_is_told_when_received_approved_and_the_day_before(running_station):
    station = running_station
    phone = "13800000077"
    body = make_booking(contact={"name": "云德明", "phone": phone, "email": None})
    booking = station.http("booking", "POST", "/bookings", role="org", org=1, json=body).json()
    wait_for_templates(station, phone, {"booking_received"})

    review = wait_until(lambda: [r for r in station.http("desk", "GET", "/reviews?status=open&per_page=100")
                                 .json()["items"] if r["booking_id"] == booking["id"]], 30, 0.3, "the review")[0]
    station.http("desk", "POST", f"/reviews/{review['id']}/decision", json={"decision": "approve"})
    wait_for_templates(station, phone, {"booking_received", "booking_approved"})

    # The scheduler's reminder sweep, run as it would run at 10:00 the day before the booking.
    wait_until(lambda: station.http("booking", "GET", f"/bookings/{booking['id']}").json()["status"] == "approved",
               30, 0.3, "the approval to reach booking")
    from datetime import datetime
    start = datetime.fromisoformat(booking["start"])
    day_before = start.replace(hour=10, minute=0) - timedelta(days=1)
    with station.database("booking").transaction() as session:
        assert lifecycle.queue_reminders(session, day_before) >= 1
    wait_for_templates(station, phone, {"booking_received", "booking_approved", "booking_reminder"})
    sms = (station.log_dir / "sms.log").read_text()
    assert sms.count(f'"to": "+86{phone}"') == 3  # notify sends to the E.164 form


def test_another_system_books_by_task_and_finds_the_outcome_by_its_key(running_station):
    station = running_station
    client = redis.Redis.from_url(station.env["REDIS_URL"])
    accepted, refused = f"ext-{uuid.uuid4()}", f"ext-{uuid.uuid4()}"
    good = {**make_booking(venue_id=9, title="门球友谊赛 Gateball friendly"), "v": 1, "idempotency_key": accepted}
    post_task(client, contracts.REQUEST_BOOKING, good)
    post_task(client, contracts.REQUEST_BOOKING, {**good, "idempotency_key": refused, "attendees": 999})

    def outcome(key):
        response = station.http("booking", "GET", f"/booking-requests/{key}?organization_id=1", role="system")
        return response.json() if response.status_code == 200 else None
    ok = wait_until(lambda: outcome(accepted), 30, 0.3, "the accepted outcome")
    assert ok["status"] == "accepted" and ok["booking_id"]
    assert station.http("booking", "GET", f"/bookings/{ok['booking_id']}").json()["title"] == good["title"]
    no = wait_until(lambda: outcome(refused), 30, 0.3, "the refused outcome")
    assert no["status"] == "refused" and "attendees" in no["fields"] and no["booking_id"] is None
    assert station.http("booking", "GET", "/booking-requests/never-sent?organization_id=1",
                        role="system").status_code == 404
    client.close()


def test_two_organisations_posting_one_key_by_task_each_get_their_own_booking(running_station):
    """A task has no token: its key is scoped by the organisation it names (docs/tasks.md)."""
    station = running_station
    client = redis.Redis.from_url(station.env["REDIS_URL"])
    key = f"oa-{uuid.uuid4()}"
    first = {**make_booking(organization_id=1, title="一号组织的私事 Org 1 only",
                            contact={"name": "一号联系人", "phone": "13700002222", "email": "one@example.org"}),
             "v": 1, "idempotency_key": key}
    post_task(client, contracts.REQUEST_BOOKING, first)

    def outcome(organization_id):
        response = station.http("booking", "GET", f"/booking-requests/{key}?organization_id={organization_id}",
                                role="system")
        return response.json() if response.status_code == 200 else None
    one = wait_until(lambda: outcome(1), 30, 0.3, "organisation 1's outcome")
    post_task(client, contracts.REQUEST_BOOKING, {**make_booking(organization_id=2, title="二号 Org 2"), "v": 1,
                                                  "idempotency_key": key})
    two = wait_until(lambda: outcome(2), 30, 0.3, "organisation 2's outcome")
    client.close()
    assert one["status"] == two["status"] == "accepted" and one["booking_id"] != two["booking_id"]
    assert (one["organization_id"], two["organization_id"]) == (1, 2)
    booking = station.http("booking", "GET", f"/bookings/{two['booking_id']}", role="org", org=2).json()
    assert booking["organization_id"] == 2 and "一号" not in str(booking) and "13700002222" not in str(booking)
    assert outcome(3) is None  # nobody posted this key for organisation 3


def test_cancelling_a_pending_request_withdraws_its_review_at_the_desk(running_station):
    station = running_station
    booking = station.http("booking", "POST", "/bookings", role="org", org=2,
                           json=make_booking(organization_id=2)).json()
    wait_until(lambda: [r for r in station.http("desk", "GET", "/reviews?status=open&per_page=100").json()["items"]
                        if r["booking_id"] == booking["id"]], 30, 0.3, "the review")
    cancelled = station.http("booking", "POST", f"/bookings/{booking['id']}/cancel", role="org", org=2,
                             json={"reason": "改期 postponed"})
    assert cancelled.status_code == 200 and cancelled.json()["status"] == "cancelled"
    withdrawn = wait_until(lambda: [r for r in station.http("desk", "GET", "/reviews?status=withdrawn&per_page=100")
                                    .json()["items"] if r["booking_id"] == booking["id"]], 30, 0.3, "the withdrawal")
    assert withdrawn[0]["reason"] == "改期 postponed"
