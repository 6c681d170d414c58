"""The staff's daily digest: open and overdue reviews, tickets due soon or overdue, one e-mail per address a day."""

from datetime import date

from sqlalchemy import select

from services.services_desk.domain import digest, tickets
from services.services_desk.models import ReviewCase
from shared import contracts
from shared.working_days import WorkingCalendar
from tests.booking.conftest import station_time
from tests.desk.test_reviews import open_case
from tests.desk.test_tickets import RESIDENT


def test_the_digest_lists_what_needs_attention_and_goes_once_a_day(station):
    case_id, _ = open_case(station)
    with station.database("desk").transaction() as session:
        session.get(ReviewCase, case_id).opened_at = station_time("2026-11-26 10:00")  # due Friday the 27th
        tickets.create_ticket(session, {"type": "consultation", "summary": "late", "details": "",
                                        "idempotency_key": "digest-late", "resident": RESIDENT},
                              "staff", "staff:test", WorkingCalendar(), date(2026, 1, 5))
    with station.database("desk").transaction() as session:
        lines = digest.digest_lines(session, WorkingCalendar(), date(2026, 12, 2))
        assert int(lines["open_reviews"]) >= 1 and int(lines["overdue_reviews"]) >= 1
        assert int(lines["flagged_tickets"]) >= 1 and "逾期 overdue" in lines["details"]
        assert digest.queue_staff_digest(session, ("duty@example.org", "chief@example.org"), WorkingCalendar(),
                                         station_time("2026-12-02 08:30")) == 2
    outbox = station.database("desk").infrastructure.outbox
    with station.database("desk").reader() as session:
        keys = [r.payload["idempotency_key"] for r in session.scalars(
            select(outbox).where(outbox.task_name == contracts.SEND_MESSAGE))
            if r.payload["template"] == "staff_digest"]
    assert sorted(keys) == ["digest:2026-12-02:chief@example.org", "digest:2026-12-02:duty@example.org"]
