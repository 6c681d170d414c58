"""Review cases: one per booking or series, staff decide once, overdue after one working day."""

from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy import select

from services.services_desk.domain import reviews
from services.services_desk.models import ReviewCase
from shared import contracts
from shared.contracts import load_payload
from shared.working_days import WorkingCalendar
from tests.conftest import auth
from tests.shared.test_contracts import EXAMPLES

_ids = iter(range(10_000, 20_000))


def open_case(station, **changes):
    booking_id = next(_ids)
    payload = {**EXAMPLES[contracts.REVIEW_BOOKING], "booking_id": booking_id,
               "idempotency_key": f"booking:{booking_id}:review", **changes}
    with station.database("desk").transaction() as session:
        return reviews.open_review(session, load_payload(contracts.REVIEW_BOOKING, payload)).id, payload


def test_the_same_request_twice_opens_one_case(station):
    case_id, payload = open_case(station)
    with station.database("desk").transaction() as session:
        again = reviews.open_review(session, load_payload(contracts.REVIEW_BOOKING, payload))
        assert again.id == case_id
        assert len(session.scalars(select(ReviewCase).where(ReviewCase.booking_id == payload["booking_id"])).all()) == 1


def test_two_organisations_using_one_key_open_two_cases(station):
    """desk.review_booking comes by task, without a token: its key is scoped by the organisation it names."""
    first, _ = open_case(station, idempotency_key="shared-review-key")
    second, _ = open_case(station, idempotency_key="shared-review-key",
                          organization={"id": 2, "name": "垦家大院门球队", "credit_score": 90})
    assert first != second
    with station.database("desk").reader() as session:
        assert [session.get(ReviewCase, case_id).organization["id"] for case_id in (first, second)] == [1, 2]


def test_the_open_queue_is_oldest_first_with_what_staff_need(station):
    first, _ = open_case(station)
    second, _ = open_case(station, organization={"id": 4, "name": "垦家大院门球队", "credit_score": 85,
                                                 "recent_violations": 2})
    items = station.client("desk").get("/reviews?status=open&per_page=100", headers=auth("staff")).json["items"]
    ids = [r["id"] for r in items]
    assert ids.index(first) < ids.index(second)
    shown = next(r for r in items if r["id"] == second)
    assert shown["organization"]["credit_score"] == 85 and shown["organization"]["recent_violations"] == 2
    assert {"venue", "start", "end", "attendees", "title", "due_date", "overdue"} <= set(shown)


def test_a_recurring_request_is_one_case_listing_every_occurrence(station):
    occurrences = [{"booking_id": 900 + i, "start": f"2027-05-{4 + 7 * i:02d}T09:00:00+08:00",
                    "end": f"2027-05-{4 + 7 * i:02d}T11:00:00+08:00"} for i in range(3)]
    case_id, _ = open_case(station, series={"id": "series-1", "occurrences": occurrences})
    case = station.client("desk").get(f"/reviews/{case_id}", headers=auth("staff")).json
    assert [o["booking_id"] for o in case["series"]["occurrences"]] == [900, 901, 902]


def test_rejecting_needs_a_reason_and_deciding_twice_is_a_conflict(station):
    case_id, payload = open_case(station)
    client = station.client("desk")
    no_reason = client.post(f"/reviews/{case_id}/decision", json={"decision": "reject"}, headers=auth("staff"))
    assert no_reason.status_code == 422 and "reason" in no_reason.json["error"]["fields"]
    decided = client.post(f"/reviews/{case_id}/decision", json={"decision": "reject", "reason": "场地维修"},
                          headers=auth("staff"))
    assert decided.status_code == 200 and decided.json["status"] == "rejected"
    twice = client.post(f"/reviews/{case_id}/decision", json={"decision": "approve"}, headers=auth("staff"))
    assert twice.status_code == 409 and twice.json["error"]["code"] == "already_decided"
    outbox = station.database("desk").infrastructure.outbox
    with station.database("desk").reader() as session:
        sent = [r.payload for r in session.scalars(select(outbox).where(
            outbox.task_name == contracts.APPLY_REVIEW_DECISION))]
    mine = [p for p in sent if p["booking_id"] == payload["booking_id"]]
    assert mine == [{"v": 1, "idempotency_key": f"review:{case_id}:decision", "booking_id": payload["booking_id"],
                     "review_id": case_id, "decision": "reject", "reason": "场地维修", "decided_by": "test-staff"}]


def test_a_decision_is_in_the_audit_log_with_who_and_why(station):
    case_id, _ = open_case(station)
    client = station.client("desk")
    decided = client.post(f"/reviews/{case_id}/decision", json={"decision": "reject", "reason": "场地维修"},
                          headers=auth("staff", sub="portal:7"))
    assert decided.status_code == 200
    log = client.get(f"/audit-log?subject=review:{case_id}", headers=auth("admin")).json["items"]
    assert [(e["actor"], e["action"], e["changes"], e["reason"]) for e in log] == [
        ("staff:portal:7", "review.reject", {"status": ["open", "rejected"]}, "场地维修")]
    refused = client.post(f"/reviews/{case_id}/decision", json={"decision": "approve"}, headers=auth("staff"))
    assert refused.status_code == 409
    assert len(client.get(f"/audit-log?subject=review:{case_id}", headers=auth("admin")).json["items"]) == 1


def test_withdrawing_closes_an_open_case_only(station):
    case_id, payload = open_case(station)
    with station.database("desk").transaction() as session:
        reviews.withdraw_review(session, {"booking_id": payload["booking_id"], "reason": "cancelled"})
    assert station.client("desk").get(f"/reviews/{case_id}", headers=auth("staff")).json["status"] == "withdrawn"
    late = station.client("desk").post(f"/reviews/{case_id}/decision", json={"decision": "approve"},
                                       headers=auth("staff"))
    assert late.status_code == 409


@pytest.mark.parametrize("opened, today, overdue", [
    ("2026-09-18 10:00", "2026-09-20", False),  # Friday; the make-up Sunday is the working day to decide on
    ("2026-09-18 10:00", "2026-09-21", True),
    ("2026-09-30 10:00", "2026-10-08", False),  # across National Day: due Thursday 8 October
    ("2026-09-30 10:00", "2026-10-09", True),
])
def test_a_case_is_overdue_after_one_working_day(opened, today, overdue):
    tz = timezone(timedelta(hours=8))
    case = ReviewCase(status="open", opened_at=datetime.strptime(opened, "%Y-%m-%d %H:%M").replace(tzinfo=tz))
    assert reviews.is_overdue(case, WorkingCalendar(), datetime.strptime(today, "%Y-%m-%d").date()) is overdue
