"""Every task payload is one JSON object with "v": 1, checked by one schema on both sides."""

import pytest

from shared import contracts
from shared.contracts import ContractError, check_outgoing, load_payload

EXAMPLES = {
    contracts.REVIEW_BOOKING: {
        "v": 1, "idempotency_key": "booking:1:review", "booking_id": 1,
        "venue": {"id": 3, "code": "meeting-room", "name": "党群会议室"},
        "organization": {"id": 1, "name": "华垦社区党支部", "credit_score": 100},
        "start": "2026-12-10T09:00:00+08:00", "end": "2026-12-10T11:00:00+08:00",
        "title": "主题党日", "attendees": 12, "contact": {"name": "林海燕", "phone": "13800000001", "email": None},
    },
    contracts.WITHDRAW_REVIEW: {"v": 1, "idempotency_key": "booking:1:withdraw", "booking_id": 1, "reason": "cancelled"},
    contracts.CREATE_TICKET: {"v": 1, "idempotency_key": "ext-1", "type": "pension_insurance", "summary": "养老保险",
                              "resident": {"name": "王", "phone": "13800000021"}},
    contracts.APPLY_REVIEW_DECISION: {"v": 1, "idempotency_key": "review:1:decision", "booking_id": 1, "review_id": 1,
                                      "decision": "approve", "reason": None, "decided_by": "staff-wang"},
    contracts.REQUEST_BOOKING: {"v": 1, "idempotency_key": "ext-b-1", "venue_id": 3, "organization_id": 1,
                                "start": "2026-12-10T09:00:00+08:00", "end": "2026-12-10T11:00:00+08:00",
                                "title": "议事会", "attendees": 8, "contact": {"name": "林", "phone": "13800000001"}},
    contracts.SEND_MESSAGE: {"v": 1, "idempotency_key": "m-1", "channel": "sms", "recipient": "13800000001",
                             "template": "booking_received", "params": {"venue": "党群会议室"}},
}


@pytest.mark.parametrize("task", contracts.PUBLIC_TASKS)
def test_a_good_payload_passes_on_both_sides(task):
    assert check_outgoing(task, EXAMPLES[task]) is EXAMPLES[task]
    assert load_payload(task, EXAMPLES[task])["v"] == 1


@pytest.mark.parametrize("task", contracts.PUBLIC_TASKS)
@pytest.mark.parametrize("change, field", [
    (lambda p: {k: v for k, v in p.items() if k != "v"}, "v"),
    (lambda p: {**p, "v": 2}, "v"),
    (lambda p: {**p, "surprise": True}, "surprise"),
    (lambda p: {k: v for k, v in p.items() if k != "idempotency_key"}, "idempotency_key"),
])
def test_a_payload_without_version_or_key_or_with_extras_is_refused(task, change, field):
    with pytest.raises(ContractError) as refused:
        load_payload(task, change(EXAMPLES[task]))
    assert field in refused.value.messages


def test_a_rejection_needs_a_reason():
    with pytest.raises(ContractError) as refused:
        load_payload(contracts.APPLY_REVIEW_DECISION, {**EXAMPLES[contracts.APPLY_REVIEW_DECISION], "decision": "reject"})
    assert "reason" in refused.value.messages


def test_a_payload_must_be_one_object():
    with pytest.raises(ContractError):
        load_payload(contracts.SEND_MESSAGE, [EXAMPLES[contracts.SEND_MESSAGE]])


def test_every_task_routes_to_the_queue_its_name_starts_with():
    from shared.celery_app import QUEUES, queue_for

    for task in contracts.CONTRACTS:
        assert queue_for(task) == task.split(".")[0] and queue_for(task) in QUEUES
