"""Each API lists its own service's dead letters and replays one onto its queue: admins only."""

import base64
import json
import uuid

import pytest
import redis

from shared import contracts
from shared.dead_letters import record_dead_letter
from tests.conftest import auth
from tests.raw_tasks import task_body

SERVICES = ("booking", "desk", "notify")
# A payload that breaks the desk.create_ticket contract, with a resident's phone in it.
BAD_TICKET = {"v": 1, "type": "consultation", "summary": "咨询", "resident": {"name": "王阿姨", "phone": "13812345678"}}


def refused(station, service: str, payload=None) -> int:
    """A dead letter as the worker keeps one (shared/dead_letters.py), on the service's own queue."""
    task_id = str(uuid.uuid4())
    row = record_dead_letter(station.database(service), queue=service, reason="contract: resident.id_number missing",
                             body=task_body(payload or {**BAD_TICKET, "idempotency_key": task_id}),
                             headers={"id": task_id, "task": contracts.CREATE_TICKET}, task_name=contracts.CREATE_TICKET,
                             task_id=task_id)
    return row.id


def queued(station, service: str) -> list[dict]:
    client = redis.Redis.from_url(station.env["REDIS_URL"])
    try:
        return [json.loads(entry) for entry in client.lrange(service, 0, -1)]
    finally:
        client.close()


@pytest.mark.parametrize("service", SERVICES)
def test_an_admin_lists_the_dead_letters_of_each_service_newest_first_with_phones_masked(station, service):
    first, second = refused(station, service), refused(station, service)
    answer = station.client(service).get("/dead-letters", headers=auth("admin"))
    assert answer.status_code == 200, answer.json
    ids = [item["id"] for item in answer.json["items"]]
    assert ids.index(second) < ids.index(first)
    letter = next(item for item in answer.json["items"] if item["id"] == first)
    assert letter["queue"] == service and letter["task_name"] == contracts.CREATE_TICKET
    assert letter["reason"].startswith("contract:") and letter["replayed_at"] is None
    assert "138****5678" in letter["body"] and "13812345678" not in letter["body"]
    assert "+08:00" in letter["received_at"]


@pytest.mark.parametrize("service", SERVICES)
def test_an_admin_replays_a_dead_letter_once_onto_its_queue_with_a_new_task_id(station, service):
    letter_id = refused(station, service)
    client = station.client(service)
    replayed = client.post(f"/dead-letters/{letter_id}/replay", json={}, headers=auth("admin"))
    assert replayed.status_code == 200, replayed.json
    assert replayed.json["replayed_at"] is not None
    entries = [e for e in queued(station, service) if e["headers"].get("task") == contracts.CREATE_TICKET
               and e["headers"]["id"] != replayed.json["task_id"]]
    assert any(json.loads(base64.b64decode(e["body"]))[0][0]["idempotency_key"] == replayed.json["task_id"]
               for e in entries)

    again = client.post(f"/dead-letters/{letter_id}/replay", json={}, headers=auth("admin"))
    assert again.status_code == 409 and again.json["error"]["code"] == "conflict"
    listed = client.get("/dead-letters", headers=auth("admin")).json["items"]
    assert letter_id not in [item["id"] for item in listed]
    everything = client.get("/dead-letters?include_replayed=true&per_page=100", headers=auth("admin")).json["items"]
    assert letter_id in [item["id"] for item in everything]


def test_a_replay_with_a_corrected_payload_sends_that_payload(station):
    letter_id = refused(station, "desk")
    key = f"fixed-{uuid.uuid4()}"
    fixed = {**BAD_TICKET, "idempotency_key": key, "resident": {**BAD_TICKET["resident"], "id_number": "11010519491231002X"}}
    answer = station.client("desk").post(f"/dead-letters/{letter_id}/replay", json={"payload": fixed}, headers=auth("admin"))
    assert answer.status_code == 200, answer.json
    bodies = [json.loads(base64.b64decode(e["body"])) for e in queued(station, "desk")]
    assert [[fixed], {}] in [body[:2] for body in bodies]


@pytest.mark.parametrize("service", SERVICES)
@pytest.mark.parametrize("role", ["staff", "system", "resident"])
def test_only_an_admin_sees_or_replays_dead_letters(station, service, role):
    letter_id = refused(station, service)
    client = station.client(service)
    assert client.get("/dead-letters", headers=auth(role)).status_code == 403
    assert client.post(f"/dead-letters/{letter_id}/replay", json={}, headers=auth(role)).status_code == 403
    assert client.get("/dead-letters").status_code == 401


@pytest.mark.parametrize("service", SERVICES)
def test_an_unknown_dead_letter_is_404_and_a_bad_body_or_page_is_422(station, service):
    client = station.client(service)
    assert client.post("/dead-letters/999999/replay", json={}, headers=auth("admin")).status_code == 404
    assert client.post("/dead-letters/1/replay", json={"payload": "x"}, headers=auth("admin")).status_code == 422
    assert client.get("/dead-letters?per_page=1000", headers=auth("admin")).status_code == 422


def test_the_dead_letter_endpoints_are_in_each_openapi_document(station):
    for service in SERVICES:
        paths = station.client(service).get("/openapi.json").json["paths"]
        assert "get" in paths["/dead-letters"] and "post" in paths["/dead-letters/{dead_letter_id}/replay"]
