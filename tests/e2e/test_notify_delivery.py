"""Notify's guarantees through a real worker, a real Redis and a real SMTP server."""

import json
import re
import time
import uuid
from dataclasses import replace
from datetime import datetime, timedelta

import pytest
import redis

from services.notify.domain import messages
from services.notify.domain.circuit import CircuitBreaker
from services.notify.policy import NotifyPolicy
from shared import contracts
from shared.timefmt import STATION_TZ
from tests.conftest import isolated_redis_url, launched_station
from tests.e2e.test_dead_letters import wait_for_dead_letter
from tests.processes import wait_until
from tests.raw_tasks import post_task

pytestmark = pytest.mark.e2e
PARAMS = {"title": "党课", "venue": "党群会议室", "start": "2027-01-05 09:00", "booking_id": "7"}
PHONES_USED = set()


@pytest.fixture(scope="module")
def notify_station(backend, work_dir, redis_server):
    with launched_station(backend, work_dir, isolated_redis_url(redis_server.url), services=("notify",),
                          extra_env={"NOTIFY_SMS_DAILY_CAP": "10"}) as station:
        yield station


def send(station, channel, recipient, key=None, **extra):
    if channel == "sms":
        PHONES_USED.add(recipient)
    response = station.http("notify", "POST", "/messages", role="system", json={
        "channel": channel, "recipient": recipient, "template": "booking_approved", "params": PARAMS,
        "idempotency_key": key or f"e2e-{uuid.uuid4()}", **extra})
    assert response.status_code == 202, response.text
    return response.json()


def status_of(station, message_id):
    return station.http("notify", "GET", f"/messages/{message_id}").json()


def wait_status(station, message_id, status, timeout=30):
    try:
        return wait_until(lambda: status_of(station, message_id)["status"] == status and status_of(station, message_id),
                          timeout, 0.2, f"message {message_id} to be {status}")
    except AssertionError:
        print(station.logs())
        raise


def mails_to(station, address):
    return [m for m in station.smtp.received if m["To"] == address]


def sms_to(station, phone):
    """The SMS the log provider wrote to this number, however `phone` is spelled (notify sends E.164)."""
    path = station.log_dir / "sms.log"
    e164 = contracts.message_recipient("sms", phone)
    return [json.loads(l) for l in path.read_text().splitlines() if json.loads(l)["to"] == e164] if path.exists() else []


def test_the_same_idempotency_key_twice_sends_once(notify_station):
    first = send(notify_station, "email", "twice@example.org", key="same-key-1")
    again = send(notify_station, "email", "twice@example.org", key="same-key-1")
    assert first["id"] == again["id"]
    wait_status(notify_station, first["id"], "sent")
    marker = send(notify_station, "email", "twice@example.org")
    wait_status(notify_station, marker["id"], "sent")
    assert len(mails_to(notify_station, "twice@example.org")) == 2  # the first message once, and the marker


def test_a_redelivered_task_does_not_send_twice(notify_station):
    message = send(notify_station, "email", "redelivered@example.org")
    wait_status(notify_station, message["id"], "sent")
    client = redis.Redis.from_url(notify_station.env["REDIS_URL"])
    redeliveries = [post_task(client, contracts.DELIVER_MESSAGE, {"v": 1, "message_id": message["id"]})
                    for _ in range(2)]
    client.close()
    marker = send(notify_station, "email", "redelivered@example.org")
    wait_status(notify_station, marker["id"], "sent")
    # Both redeliveries finished (one may have been retried while the other held the send lock).
    for task_id in redeliveries:
        notify_station.processes["notify-worker"].wait_for_log(f"[{task_id}] succeeded")
    assert len(mails_to(notify_station, "redelivered@example.org")) == 2
    print("injected: 2 redeliveries of a sent message; counted: 1 e-mail for it, 0 duplicates")


def test_a_provider_failing_for_a_while_is_retried_and_then_succeeds(notify_station):
    notify_station.smtp.refusing = True
    try:
        message = send(notify_station, "email", "retry@example.org")
        wait_until(lambda: any("retrying" in (h["detail"] or "") for h in status_of(notify_station, message["id"])["history"]),
                   30, 0.2, "a failed attempt")
    finally:
        notify_station.smtp.refusing = False
    sent = wait_status(notify_station, message["id"], "sent", timeout=60)
    retries = sum("retrying" in (h["detail"] or "") for h in sent["history"])
    assert len(mails_to(notify_station, "retry@example.org")) == 1
    print(f"injected: SMTP refusing with 421; counted: {retries} retried attempt(s), 1 e-mail received")


def post_send_message(station, recipient: str) -> tuple[str, int]:
    """A notify.send_message task straight onto Redis, as booking and the desk send it: its task id
    and, once the worker has accepted it, the message's id."""
    client = redis.Redis.from_url(station.env["REDIS_URL"])
    task_id = post_task(client, contracts.SEND_MESSAGE, {
        "v": 1, "idempotency_key": f"e2e-task-{uuid.uuid4()}", "channel": "email", "recipient": recipient,
        "template": "booking_approved", "params": PARAMS})
    client.close()
    found = wait_until(lambda: station.http("notify", "GET", f"/messages?recipient={recipient}").json()["items"],
                       30, 0.2, f"the message to {recipient} accepted")
    return task_id, found[0]["id"]


def test_the_task_that_accepts_a_message_sends_it(notify_station):
    """Issue 14: one task from accepted to sent, no deliver_message between them."""
    task_id, message_id = post_send_message(notify_station, "one-task@example.org")
    sent = wait_status(notify_station, message_id, "sent")
    assert [h["status"] for h in sent["history"]] == ["accepted", "sending", "sent"]
    handed = [json.loads(line) for line in notify_station.processes["notify-worker"].log_text().splitlines()
              if "handed to smtp" in line and f"message {message_id} " in line]
    assert [(line["task_name"], line["task_id"]) for line in handed] == [(contracts.SEND_MESSAGE, task_id)]
    assert len(mails_to(notify_station, "one-task@example.org")) == 1


def test_a_task_accepted_while_smtp_refuses_is_retried_and_sent_once(notify_station):
    notify_station.smtp.refusing = True
    try:
        _, message_id = post_send_message(notify_station, "task-retry@example.org")
        wait_until(lambda: any("retrying" in (h["detail"] or "") for h in status_of(notify_station, message_id)["history"]),
                   30, 0.2, "a failed attempt")
    finally:
        notify_station.smtp.refusing = False
    sent = wait_status(notify_station, message_id, "sent", timeout=60)
    retries = sum("retrying" in (h["detail"] or "") for h in sent["history"])
    assert len(mails_to(notify_station, "task-retry@example.org")) == 1
    print(f"injected: SMTP refusing with 421 when send_message tried; counted: {retries} retried attempt(s), "
          "1 e-mail received")


def test_emails_whose_subject_holds_a_line_break_never_hold_up_the_others(notify_station):
    """Issue 11 §3: such a title made building the Subject raise, which counted against SMTP's
    circuit, so five of them opened it and every e-mail of the station waited out the cooldown."""
    title = "党课\r\nBcc: everyone@example.org"
    bad = [send(notify_station, "email", f"crlf-{n}@example.org", params={**PARAMS, "title": title})
           for n in range(NotifyPolicy().circuit_threshold)]

    def tried(message_id):
        shown = status_of(notify_station, message_id)
        return shown["status"] in ("sent", "failed") or any("retrying" in (h["detail"] or "") for h in shown["history"])
    wait_until(lambda: all(tried(m["id"]) for m in bad), 30, 0.2, "each line-break e-mail tried once")
    normal = send(notify_station, "email", "after-crlf@example.org")
    wait_status(notify_station, normal["id"], "sent", timeout=30)  # the cooldown (60 s) would outlast this
    assert CircuitBreaker(notify_station.env["REDIS_URL"], NotifyPolicy()).state("smtp", datetime.now(STATION_TZ)) == "closed"
    for message in bad:
        wait_status(notify_station, message["id"], "sent")
    subjects = [m["Subject"] for n in range(len(bad)) for m in mails_to(notify_station, f"crlf-{n}@example.org")]
    assert len(subjects) == len(bad) and all("\n" not in s and "\r" not in s for s in subjects)
    assert not [m for m in notify_station.smtp.received if m["Bcc"]]


def test_ten_spellings_of_one_mobile_get_ten_sms_and_the_eleventh_is_suppressed(notify_station):
    spellings = ["13800000206", "+8613800000206", "008613800000206", "138-0000-0206", "138 0000 0206",
                 "+86 138 0000 0206", "(138) 0000 0206", "+86-138-0000-0206", "86 13800000206", " 13800000206 "]
    sent = [send(notify_station, "sms", spelling) for spelling in spellings]
    assert {m["recipient"] for m in sent} == {"+8613800000206"}
    eleventh = send(notify_station, "sms", "0086-138-0000-0206")
    assert eleventh["status"] == "suppressed" and "daily cap" in eleventh["status_reason"]
    for message in sent:
        wait_status(notify_station, message["id"], "sent")
    assert len(sms_to(notify_station, "13800000206")) == 10


@pytest.mark.parametrize("recipient", ["hello", "<script>", "13800000000,13900000000"])
def test_a_task_for_anything_but_one_valid_recipient_is_a_dead_letter(notify_station, recipient):
    client = redis.Redis.from_url(notify_station.env["REDIS_URL"])
    task_id = post_task(client, contracts.SEND_MESSAGE, {
        "v": 1, "idempotency_key": f"bad-{uuid.uuid4()}", "channel": "sms", "recipient": recipient,
        "template": "booking_approved", "params": PARAMS})
    client.close()
    letter = wait_for_dead_letter(notify_station, "notify", task_id)
    assert letter.reason.startswith("contract:") and "recipient" in letter.reason
    response = notify_station.http("notify", "POST", "/messages", role="system", json={
        "channel": "sms", "recipient": recipient, "template": "booking_approved", "params": PARAMS,
        "idempotency_key": f"bad-{uuid.uuid4()}"})
    assert response.status_code == 422 and "recipient" in response.json()["error"]["fields"]


def test_an_organisation_cannot_aim_more_than_a_few_long_sms_at_one_number(notify_station):
    """Issue 11 §4: book and cancel with a victim's number as contact, again and again."""
    victim, cap = "13800000207", NotifyPolicy().on_behalf_daily_cap
    title = "恭喜您获得免费体检名额请致电四零零八八八八八八八领取" * 8  # 200 characters under the station's name
    asked = [send(notify_station, "sms", victim, params={**PARAMS, "title": title[:200]}, on_behalf_of="org:2")
             for _ in range(cap + 3)]
    assert [m["status"] for m in asked].count("suppressed") == 3
    for message in asked[:cap]:
        wait_status(notify_station, message["id"], "sent")
    assert asked[cap]["on_behalf_of"] == "org:2" and "org:2" in asked[cap]["status_reason"]
    bodies = [line["body"] for line in sms_to(notify_station, victim)]
    assert len(bodies) == cap
    assert all(title[:NotifyPolicy().sms_param_max_chars] not in body and "…" in body for body in bodies)


def test_the_daily_cap_suppresses_the_eleventh_sms(notify_station):
    phone = "13800000201"
    sent = [send(notify_station, "sms", phone) for _ in range(10)]
    eleventh = send(notify_station, "sms", phone)
    assert eleventh["status"] == "suppressed" and "daily cap" in eleventh["status_reason"]
    for message in sent:
        wait_status(notify_station, message["id"], "sent")
    assert len(sms_to(notify_station, phone)) == 10


def test_an_opted_out_number_receives_nothing(notify_station):
    phone = "13800000202"
    assert notify_station.http("notify", "POST", "/opt-outs", role="staff",
                               json={"recipient": phone}).status_code == 201
    message = send(notify_station, "sms", phone)
    assert message["status"] == "suppressed"
    marker = send(notify_station, "sms", "13800000203")
    wait_status(notify_station, marker["id"], "sent")
    assert sms_to(notify_station, phone) == []


def test_quiet_hours_hold_a_message_and_the_sweep_sends_it(notify_station):
    """Quiet hours that ended half an hour ago, so the worker's real clock finds the message due."""
    now = datetime.now(STATION_TZ)
    quiet = replace(NotifyPolicy(), quiet_start=(now - timedelta(hours=2)).time().replace(second=0, microsecond=0),
                    quiet_end=(now - timedelta(minutes=30)).time().replace(second=0, microsecond=0))
    phone = "13800000204"
    PHONES_USED.add(phone)
    database = notify_station.database("notify")
    with database.transaction() as session:
        held, _ = messages.accept_message(session, {
            "v": 1, "idempotency_key": f"quiet-{uuid.uuid4()}", "channel": "sms", "recipient": phone,
            "template": "booking_approved", "params": PARAMS, "locale": "zh-CN", "urgent": False,
            "expires_at": None}, quiet, now - timedelta(hours=1))
        held_id = held.id
    time.sleep(1.5)
    assert status_of(notify_station, held_id)["status"] == "accepted" and sms_to(notify_station, phone) == []
    with database.transaction() as session:
        assert messages.release_held(session, now) >= 1
    wait_status(notify_station, held_id, "sent")
    assert len(sms_to(notify_station, phone)) == 1


def test_a_receipt_after_delivered_changes_nothing(notify_station):
    message = send(notify_station, "sms", "13800000205")
    sent = wait_status(notify_station, message["id"], "sent")
    reference = sent["provider_reference"]

    def receipt(status):
        body = {"receipts": [{"reference": reference, "status": status, "detail": status.upper()}], "inbound": []}
        response = notify_station.http("notify", "POST", "/receipts/log", role="system", json=body)
        assert response.status_code == 200 and response.json()["result"] == 0
    receipt("delivered")
    receipt("failed")
    final = status_of(notify_station, message["id"])
    assert final["status"] == "delivered"
    assert [h["status"] for h in final["history"]][-3:] == ["sending", "sent", "delivered"]


def test_no_log_line_holds_a_whole_phone_number(notify_station):
    logs = "\n".join(p.log_text() for p in notify_station.processes.values())
    assert PHONES_USED and "ready." in logs
    for phone in PHONES_USED:
        assert phone not in logs, f"{phone} appears in a log line"
    assert re.search(r"138\*\*\*\*02\d\d", logs), "the masked numbers should be there instead"
