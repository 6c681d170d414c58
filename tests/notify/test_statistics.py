"""GET /statistics?month=YYYY-MM on the notify API (issue 13): SMS and e-mail accepted in the month
(station time, +08:00) by what became of them; admins and other systems only."""

import itertools

import pytest

from services.notify.domain import messages
from services.notify.models import Message
from services.notify.policy import NotifyPolicy
from tests.booking.conftest import station_time
from tests.conftest import auth

PARAMS = {"title": "党课", "venue": "党群会议室", "start": "2026-08-05 09:00", "booking_id": "7"}
_numbers = itertools.count(1)


def message(station, now: str, channel="sms", status: str | None = None) -> int:
    """A message accepted at this station time, then given this status as the worker would."""
    n = next(_numbers)
    recipient = f"1380000{n:04d}" if channel == "sms" else f"numbers{n}@example.org"
    data = {"v": 1, "idempotency_key": f"numbers-{n}", "channel": channel, "recipient": recipient,
            "template": "booking_approved", "params": PARAMS, "locale": "zh-CN", "urgent": True, "expires_at": None}
    with station.database("notify").transaction() as session:
        accepted, _ = messages.accept_message(session, data, NotifyPolicy(), station_time(now))
        for step in {"sent": ("sending", "sent"), "delivered": ("sending", "sent", "delivered"),
                     "failed": ("sending", "failed"), "suppressed": ("suppressed",)}.get(status, ()):
            messages.record_status(session, session.get(Message, accepted.id), step, "test")
        return accepted.id


def statistics(station, month, role="admin"):
    return station.client("notify").get(f"/statistics?month={month}", headers=auth(role))


def channels(answer):
    return {c["channel"]: {k: v for k, v in c.items() if k != "channel"} for c in answer.json["channels"]}


def test_sms_and_email_of_a_month_are_counted_by_outcome(station):
    for status in ("sent", "delivered", "delivered", "failed", "suppressed", None):
        message(station, "2026-08-10 10:00", "sms", status)
    message(station, "2026-08-11 10:00", "email", "sent")
    message(station, "2026-08-11 10:00", "email", "failed")
    message(station, "2026-09-01 10:00", "sms", "failed")  # September's

    answer = statistics(station, "2026-08")
    assert answer.status_code == 200, answer.json
    assert channels(answer) == {
        "sms": {"total": 6, "sent": 3, "delivered": 2, "failed": 1, "suppressed": 1, "waiting": 1},
        "email": {"total": 2, "sent": 1, "delivered": 0, "failed": 1, "suppressed": 0, "waiting": 0}}


def test_the_month_begins_at_midnight_station_time_not_utc(station):
    # 00:10 on 1 November in Haikou is 31 October in UTC: November's message. 23:50 on 31 October is October's.
    message(station, "2026-11-01 00:10", "sms", "sent")
    message(station, "2026-10-31 23:50", "email", "sent")
    assert channels(statistics(station, "2026-11"))["sms"]["total"] == 1
    assert channels(statistics(station, "2026-11"))["email"]["total"] == 0
    assert channels(statistics(station, "2026-10"))["email"]["total"] == 1


def test_an_empty_month_shows_both_channels_with_nothing(station):
    answer = statistics(station, "2031-07", role="system")
    assert answer.status_code == 200
    assert channels(answer) == {c: dict.fromkeys(("total", "sent", "delivered", "failed", "suppressed", "waiting"), 0)
                                for c in ("sms", "email")}


@pytest.mark.parametrize("month", ["2026-13", "2026-8", "august", "", "２０２６-０８"])
def test_a_malformed_month_is_refused_naming_the_field(station, month):
    answer = statistics(station, month)
    assert answer.status_code == 422 and "month" in str(answer.json["error"]["fields"])


@pytest.mark.parametrize("role", ["resident", "org", "staff"])
def test_only_admins_and_other_systems_see_the_numbers(station, role):
    answer = station.client("notify").get("/statistics?month=2026-08", headers=auth(role, 1 if role == "org" else None))
    assert answer.status_code == 403


def test_the_statistics_are_in_the_openapi_document(station):
    operation = station.client("notify").get("/openapi.json").json["paths"]["/statistics"]["get"]
    assert any(p["name"] == "month" and p["required"] for p in operation["parameters"])
