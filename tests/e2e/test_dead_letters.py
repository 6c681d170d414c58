"""A payload that breaks its contract is dead-lettered with its reason, never
retried, and the worker keeps serving good tasks."""

import json
import pickle
import re
import subprocess
import sys
import uuid

import pytest
import redis
from sqlalchemy import select

from shared import contracts
from tests.processes import BIN, wait_until
from tests.raw_tasks import post_raw, post_task, task_body

pytestmark = pytest.mark.e2e

GOOD_TICKET = {
    "v": 1, "type": "consultation", "summary": "咨询养老保险 Pension question",
    "resident": {"name": "王阿姨", "phone": "13800000021"}, "details": "",
}

MALFORMED = {
    contracts.REVIEW_BOOKING: ({"v": 1, "idempotency_key": "r-1", "booking_id": "seven"}, "booking_id"),
    contracts.WITHDRAW_REVIEW: ({"v": 1, "booking_id": 3}, "idempotency_key"),
    contracts.CREATE_TICKET: ({**GOOD_TICKET, "idempotency_key": "t-bad", "resident": {"name": "王"}}, "phone"),
    contracts.APPLY_REVIEW_DECISION: ({"v": 1, "idempotency_key": "d-1", "booking_id": 1, "review_id": 1,
                                       "decision": "reject", "decided_by": "staff"}, "reason"),
    contracts.REQUEST_BOOKING: ({"v": 1, "idempotency_key": "b-1", "venue_id": 3}, "organization_id"),
    contracts.SEND_MESSAGE: ({"v": 1, "idempotency_key": "m-1", "channel": "fax", "recipient": "x",
                              "template": "booking_received"}, "channel"),
}


def dead_letters(station, service):
    database = station.database(service)
    model = database.infrastructure.dead_letter
    with database.reader() as session:
        return session.scalars(select(model).order_by(model.id)).all()


def wait_for_dead_letter(station, service, task_id):
    def found():
        return [d for d in dead_letters(station, service) if d.task_id == task_id]
    try:
        return wait_until(found, 30, 0.2, f"a dead letter for {task_id} in {service}")[0]
    except AssertionError:
        print(station.logs())
        raise


def tickets_with_key(station, key):
    from services.services_desk.models import Ticket

    with station.database("desk").reader() as session:
        return session.scalars(select(Ticket).where(Ticket.idempotency_key == key)).all()


@pytest.fixture
def broker(running_station):
    client = redis.Redis.from_url(running_station.env["REDIS_URL"])
    yield client
    client.close()


@pytest.mark.parametrize("task_name", contracts.PUBLIC_TASKS)
def test_a_malformed_payload_for_each_task_is_dead_lettered_with_its_reason(running_station, broker, task_name):
    payload, offending_field = MALFORMED[task_name]
    task_id = post_task(broker, task_name, payload)
    letter = wait_for_dead_letter(running_station, task_name.split(".")[0], task_id)
    assert letter.task_name == task_name
    assert letter.reason.startswith("contract:") and offending_field in letter.reason
    assert json.loads(letter.body)[0] == [payload]

    key = f"after-{uuid.uuid4()}"
    post_task(broker, contracts.CREATE_TICKET, {**GOOD_TICKET, "idempotency_key": key})
    wait_until(lambda: tickets_with_key(running_station, key), 30, 0.2, "the desk to serve a good task")


@pytest.mark.parametrize("case", ["unknown version", "not json", "unknown task", "pickle", "not one object",
                                  "five megabytes"])
def test_a_message_that_never_becomes_a_task_is_dead_lettered_too(running_station, broker, case):
    good = {**GOOD_TICKET, "idempotency_key": f"poison-{uuid.uuid4()}"}
    task_id, expected = {
        "unknown version": lambda: (post_task(broker, contracts.CREATE_TICKET, {**good, "v": 2}), "unsupported contract version"),
        "not json": lambda: (post_raw(broker, "desk", contracts.CREATE_TICKET, b"{not json"), "undecodable"),
        "unknown task": lambda: (post_task(broker, "desk.format_disk", good), "unknown task name"),
        "pickle": lambda: (post_raw(broker, "desk", contracts.CREATE_TICKET, pickle.dumps(([good], {}, {})),
                                    content_type="application/x-python-serialize"), "refused"),
        "not one object": lambda: (post_raw(broker, "desk", contracts.CREATE_TICKET, task_body([good, good])), "one JSON object"),
        "five megabytes": lambda: (post_task(broker, contracts.CREATE_TICKET, {**good, "details": "x" * 5_000_000}),
                                   "payload too large"),
    }[case]()
    letter = wait_for_dead_letter(running_station, "desk", task_id)
    assert expected in letter.reason
    assert not tickets_with_key(running_station, good["idempotency_key"])


def test_an_operator_lists_and_replays_a_dead_letter_with_a_corrected_payload(running_station, broker, tmp_path):
    key = f"replay-{uuid.uuid4()}"
    broken = {**GOOD_TICKET, "idempotency_key": key, "resident": {"name": "李大爷", "phone": "not a phone"}}
    task_id = post_task(broker, contracts.CREATE_TICKET, broken)
    letter = wait_for_dead_letter(running_station, "desk", task_id)

    cli = [str(BIN / "yizhan"), "dead-letters"]
    listed = subprocess.run([*cli, "list", "--service", "desk"], env=running_station.env, capture_output=True,
                            text=True, check=True).stdout
    entries = [json.loads(line) for line in listed.splitlines()]
    assert any(e["id"] == letter.id and "phone" in e["reason"] for e in entries)

    fixed = tmp_path / "fixed.json"
    fixed.write_text(json.dumps({**broken, "resident": {"name": "李大爷", "phone": "13800000031"}}))
    subprocess.run([*cli, "replay", "desk", str(letter.id), "--payload", str(fixed)], env=running_station.env,
                   check=True, capture_output=True)
    wait_until(lambda: tickets_with_key(running_station, key), 30, 0.2, "the replayed ticket")
    replayed = [d for d in dead_letters(running_station, "desk") if d.id == letter.id][0]
    assert replayed.replayed_at is not None
    relisted = subprocess.run([*cli, "list", "--service", "desk"], env=running_station.env, capture_output=True,
                              text=True, check=True).stdout
    assert f'"id": {letter.id},' not in relisted


def test_a_task_delivered_twice_with_the_same_id_has_its_effect_once(running_station, broker):
    task_id = f"twice-{uuid.uuid4()}"
    first, second = f"first-{uuid.uuid4()}", f"second-{uuid.uuid4()}"
    # Different idempotency keys, so only the inbox (processed task ids) can tell them apart.
    post_task(broker, contracts.CREATE_TICKET, {**GOOD_TICKET, "idempotency_key": first}, task_id=task_id)
    post_task(broker, contracts.CREATE_TICKET, {**GOOD_TICKET, "idempotency_key": second}, task_id=task_id)
    # The worker's two processes may take both deliveries at once, so either may be the one that counts.
    wait_until(lambda: tickets_with_key(running_station, first) + tickets_with_key(running_station, second),
               30, 0.2, "one delivery's ticket")
    worker = running_station.processes["desk-worker"]
    wait_until(lambda: re.search(rf"task {task_id} (already processed|processed concurrently)", worker.log_text()),
               30, 0.2, "the worker to decline the repeat")
    assert len(tickets_with_key(running_station, first) + tickets_with_key(running_station, second)) == 1
