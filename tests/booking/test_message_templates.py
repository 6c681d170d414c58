"""Every message the booking service asks for renders with notify's seeded templates,
in both locales: the placeholders a template uses are exactly the params the sender gives
(notify refuses a missing or an unknown one)."""

import pytest
from sqlalchemy import select

from services.notify.domain.templates import render
from services.notify.models import Template
from services.notify.seed import TEMPLATES
from shared import contracts
from tests.booking.test_integrity import no_show
from tests.booking.test_lifecycle import act, decide
from services.booking.domain import lifecycle


@pytest.fixture
def requested_messages(desk):
    """Drive a booking through every notice: received, approved, rejected, reminder, cancelled,
    no-show warnings and a suspension; return every notify.send_message payload written."""
    first = desk.request("2026-03-02 10:00", "2026-03-16 09:00").first.id
    decide(desk, first)
    act(desk, lambda s, now, p: lifecycle.queue_reminders(s, now), now="2026-03-15 10:00")
    act(desk, lambda s, now, p: lifecycle.cancel_booking(s, first, "org", False, None, now, p), now="2026-03-16 08:00")
    rejected = desk.request("2026-03-02 10:00", "2026-03-17 09:00").first.id
    decide(desk, rejected, "reject", "场地维修")
    for day in (18, 19):  # with the late cancellation, the third violation: a suspension
        no_show(desk, f"2026-03-{day} 09:00")
    outbox = desk.database.infrastructure.outbox
    with desk.database.reader() as session:
        return [r.payload for r in session.scalars(select(outbox).where(outbox.task_name == contracts.SEND_MESSAGE))]


def test_every_requested_message_renders_in_both_locales(requested_messages):
    asked = {p["template"] for p in requested_messages}
    assert asked >= {"booking_received", "booking_approved", "booking_rejected", "booking_reminder",
                     "booking_cancelled", "credit_warning", "credit_suspended"}
    for payload in requested_messages:
        for locale in ("zh-CN", "en"):
            template = Template(key=payload["template"], locale=locale, **TEMPLATES[(payload["template"], locale)])
            texts = render(template, payload["channel"], payload["params"])
            assert "{" not in texts["body"] and texts["body"].strip()
