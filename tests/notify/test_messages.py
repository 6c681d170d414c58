"""Notify's rules with a chosen clock: templates, idempotency, the daily cap, quiet hours,
opt-outs, receipts and retention."""

from dataclasses import replace
from datetime import timedelta

import pytest
from sqlalchemy import select

from services.notify.domain import messages
from services.notify.domain.templates import render, sms_segments
from services.notify.models import Message, Template
from services.notify.policy import NotifyPolicy
from shared import contracts
from shared.errors import Refused
from tests.booking.conftest import station_time
from tests.conftest import auth

PARAMS = {"title": "党课", "venue": "党群会议室", "start": "2027-01-05 09:00", "booking_id": "7"}
POLICY = NotifyPolicy()  # quiet hours 22:00–08:00, cap 10
_keys = iter(range(1_000_000))


def accept(station, now, recipient="13800000101", policy=POLICY, **changes):
    data = {"v": 1, "idempotency_key": f"k-{next(_keys)}", "channel": "sms", "recipient": recipient,
            "template": "booking_approved", "params": PARAMS, "locale": "zh-CN", "urgent": False, "expires_at": None,
            **changes}
    with station.database("notify").transaction() as session:
        message, _ = messages.accept_message(session, data, policy, station_time(now))
        return message


def deliveries_queued(station, message_id):
    outbox = station.database("notify").infrastructure.outbox
    with station.database("notify").reader() as session:
        return [r for r in session.scalars(select(outbox).where(outbox.task_name == contracts.DELIVER_MESSAGE))
                if r.payload["message_id"] == message_id]


def test_the_same_idempotency_key_gives_the_first_message(station):
    body = {"channel": "email", "recipient": "a@example.org", "template": "booking_received", "params": PARAMS,
            "idempotency_key": "once-only"}
    first = station.client("notify").post("/messages", json=body, headers=auth("system"))
    again = station.client("notify").post("/messages", json=body, headers=auth("system"))
    assert first.status_code == again.status_code == 202
    assert first.json["id"] == again.json["id"]
    assert len(deliveries_queued(station, first.json["id"])) == 1


@pytest.mark.parametrize("params, problem", [
    ({k: v for k, v in PARAMS.items() if k != "venue"}, "missing: venue"),
    ({**PARAMS, "secret": "x"}, "unknown: secret"),
])
def test_a_missing_or_unknown_placeholder_is_refused(station, params, problem):
    response = station.client("notify").post("/messages", headers=auth("system"), json={
        "channel": "sms", "recipient": "13800000102", "template": "booking_approved", "params": params,
        "idempotency_key": f"bad-{problem}"})
    assert response.status_code == 422
    assert problem in response.json["error"]["fields"]["params"]


@pytest.mark.parametrize("text, parts", [("驿" * 70, 1), ("驿" * 71, 2), ("驿" * 134, 2), ("驿" * 135, 3),
                                         ("a" * 160, 1), ("a" * 161, 2)])
def test_sms_segments_count_ucs2_and_gsm7(text, parts):
    assert sms_segments(text) == parts


def test_email_renders_plain_text_and_escaped_html():
    template = Template(key="t", locale="zh-CN", email_subject="关于{title}", email_body="你好 {name}\n\n谢谢")
    texts = render(template, "email", {"title": "<会议>", "name": "A&B"})
    assert texts["subject"] == "关于<会议>" and texts["body"] == "你好 A&B\n\n谢谢"
    assert texts["html"] == "<p>你好 A&amp;B</p><p>谢谢</p>"


def test_the_eleventh_sms_to_one_number_in_a_day_is_suppressed(station):
    sent = [accept(station, "2026-03-10 12:00", recipient="13800000103") for _ in range(10)]
    assert {m.status for m in sent} == {"accepted"}
    eleventh = accept(station, "2026-03-10 12:30", recipient="13800000103")
    assert eleventh.status == "suppressed" and "daily cap" in eleventh.status_reason
    assert deliveries_queued(station, eleventh.id) == []
    assert accept(station, "2026-03-11 09:00", recipient="13800000103").status == "accepted"  # a new day


def test_quiet_hours_hold_a_message_until_eight_and_the_sweep_releases_it(station):
    held = accept(station, "2026-03-10 23:15", recipient="13800000104")
    assert held.status == "accepted" and held.send_after == station_time("2026-03-11 08:00")
    assert deliveries_queued(station, held.id) == []
    release = lambda now: _release(station, now)  # noqa: E731
    assert release("2026-03-11 07:59") == 0
    assert release("2026-03-11 08:00") >= 1
    assert len(deliveries_queued(station, held.id)) == 1
    assert release("2026-03-11 08:05") == 0  # released once


def _release(station, now):
    with station.database("notify").transaction() as session:
        return messages.release_held(session, station_time(now))


def test_urgent_messages_and_email_ignore_quiet_hours(station):
    urgent = accept(station, "2026-03-10 23:15", recipient="13800000105", urgent=True)
    email = accept(station, "2026-03-10 23:15", recipient="night@example.org", channel="email")
    assert urgent.send_after is None and email.send_after is None
    assert deliveries_queued(station, urgent.id) and deliveries_queued(station, email.id)


def test_a_message_that_would_expire_during_quiet_hours_is_suppressed(station):
    message = accept(station, "2026-03-10 23:15", recipient="13800000106",
                     expires_at=station_time("2026-03-11 07:00"))
    assert message.status == "suppressed" and "expiry" in message.status_reason


def test_an_opted_out_number_receives_nothing(station):
    client = station.client("notify")
    assert client.post("/opt-outs", json={"recipient": "+86 138 0000 0107"}, headers=auth("staff")).status_code == 201
    message = accept(station, "2026-03-10 12:00", recipient="13800000107")
    assert message.status == "suppressed" and "opted out" in message.status_reason
    assert deliveries_queued(station, message.id) == []
    listed = client.get("/opt-outs", headers=auth("staff")).json["items"]
    assert "+8613800000107" in [o["recipient"] for o in listed]  # stored in E.164


def test_a_receipt_moves_sent_to_delivered_and_a_final_status_never_changes(station):
    message = accept(station, "2026-03-10 12:00", recipient="13800000108")
    with station.database("notify").transaction() as session:
        row = session.get(Message, message.id)
        row.provider, row.provider_reference = "log", "ref-108"
        messages.record_status(session, row, "sent")
    with station.database("notify").transaction() as session:
        messages.apply_receipt(session, "log", "ref-108", "delivered", "DELIVRD")
        messages.apply_receipt(session, "log", "ref-108", "failed", "late report")
    with station.database("notify").reader() as session:
        row = session.get(Message, message.id)
        row.history
    assert row.status == "delivered"
    assert [h.status for h in row.history][-2:] == ["sent", "delivered"]


def test_bodies_are_purged_after_the_retention_period_and_the_metadata_stays(station):
    old = accept(station, "2026-01-02 12:00", recipient="13800000109")
    with station.database("notify").transaction() as session:
        messages.record_status(session, session.get(Message, old.id), "sent")
    with station.database("notify").transaction() as session:
        assert messages.purge_bodies(session, station_time("2026-02-10 12:00"), POLICY) >= 1
    shown = station.client("notify").get(f"/messages/{old.id}", headers=auth("staff")).json
    assert shown["body"] is None and shown["purged_at"] and shown["recipient"] == "+8613800000109"
    assert shown["template"] == "booking_approved" and shown["status"] == "sent"


def test_an_admin_edits_a_template_and_sees_its_segments(station):
    client = station.client("notify")
    body = {"locale": "en", "sms_body": "[Yizhan] {name}, your errand is done.", "sms_template_code": "SMS_0001"}
    assert client.put("/templates/errand_done_demo", json=body, headers=auth("staff")).status_code == 403
    saved = client.put("/templates/errand_done_demo", json=body, headers=auth("admin"))
    assert saved.status_code == 200
    assert saved.json["sms_segments"] == 1 and saved.json["placeholders"] == ["name"]
    bad = client.put("/templates/errand_done_demo", json={**body, "sms_body": "{0} {name.__class__}"},
                     headers=auth("admin"))
    assert bad.status_code == 422


def test_quiet_hours_and_cap_are_configuration():
    policy = NotifyPolicy.from_env({"NOTIFY_QUIET_START": "21:30", "NOTIFY_SMS_DAILY_CAP": "3"})
    assert (policy.quiet_start.hour, policy.quiet_start.minute, policy.sms_daily_cap) == (21, 30, 3)
    assert messages.in_quiet_hours(station_time("2026-03-10 21:45"), policy)
    assert not messages.in_quiet_hours(station_time("2026-03-10 08:00"), policy)
    with pytest.raises(ValueError, match="NOTIFY_SMS_DAILY_CAP"):
        NotifyPolicy.from_env({"NOTIFY_SMS_DAILY_CAP": "ten"})
    assert replace(policy, sms_daily_cap=4).sms_daily_cap == 4


def test_receipts_need_a_system_token(station):
    client = station.client("notify")
    assert client.post("/receipts/log", json=[]).status_code == 401
    assert client.post("/receipts/log?token=nonsense", json=[]).status_code == 401
    assert client.post("/receipts/nowhere", json=[], headers=auth("system")).status_code == 404


def test_a_reply_of_tuiding_opts_the_sender_out(station):
    body = {"receipts": [], "inbound": [{"from": "+8613800000301", "text": " 退订 "}, {"from": "13800000302", "text": "谢谢"}]}
    response = station.client("notify").post("/receipts/log", json=body, headers=auth("system"))
    assert response.status_code == 200 and response.json["opt_outs"] == 1
    assert response.json["code"] == 0 and response.json["result"] == 0
    assert accept(station, "2026-03-10 12:00", recipient="13800000301").status == "suppressed"
    assert accept(station, "2026-03-10 12:00", recipient="13800000302").status == "accepted"


def test_messages_left_accepted_are_queued_again_but_held_ones_wait(station):
    stuck = accept(station, "2026-03-10 12:00", recipient="13800000303")
    held = accept(station, "2026-03-10 23:00", recipient="13800000304")
    with station.database("notify").transaction() as session:
        messages.requeue_stuck(session, NotifyPolicy(), station_time("2026-03-10 12:04"))
    assert len(deliveries_queued(station, stuck.id)) == 1
    with station.database("notify").transaction() as session:
        messages.requeue_stuck(session, NotifyPolicy(), station_time("2026-03-10 12:06"))
        messages.requeue_stuck(session, NotifyPolicy(), station_time("2026-03-10 23:30"))
    assert len(deliveries_queued(station, stuck.id)) == 3
    assert deliveries_queued(station, held.id) == []


def test_an_sms_older_than_its_maximum_age_is_expired():
    from services.notify.domain.delivery import is_expired

    message = Message(channel="sms", created_at=station_time("2026-03-10 08:00"), send_after=None, expires_at=None)
    assert not is_expired(message, station_time("2026-03-10 13:59"), POLICY)
    assert is_expired(message, station_time("2026-03-10 14:01"), POLICY)
    message.send_after = station_time("2026-03-10 12:00")  # held: counted from when it was due
    assert not is_expired(message, station_time("2026-03-10 17:00"), POLICY)
    email = Message(channel="email", created_at=station_time("2026-03-01 08:00"), send_after=None, expires_at=None)
    assert not is_expired(email, station_time("2026-03-10 08:00"), POLICY)
