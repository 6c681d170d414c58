"""Whatever bytes are on a queue, the worker keeps serving, and every entry it cannot run
is kept as a dead letter (issue 11 §1): each case the issue found, pushed onto the desk
worker's list as another community system would, with LPUSH."""

import base64
import json
import uuid

import pytest
import redis
from sqlalchemy import select

from shared import contracts
from shared.logs import MAX_MASKED_CHARS
from tests.conftest import isolated_redis_url, launched_station
from tests.e2e.test_dead_letters import GOOD_TICKET, tickets_with_key
from tests.processes import wait_until
from tests.raw_tasks import envelope, task_body

pytestmark = pytest.mark.e2e

# No line the worker writes about a bad message may be longer than this (shared.logs caps what it masks).
LONGEST_LOG_LINE = 12 * MAX_MASKED_CHARS + 4096  # JSON escapes may take six characters for one


def entry(message) -> bytes:
    return json.dumps(message).encode()


def ticket_envelope(marker, payload=None, body=None, **header_changes):
    payload = payload or {**GOOD_TICKET, "idempotency_key": f"hostile-{marker}"}
    message = envelope("desk", contracts.CREATE_TICKET, task_body(payload) if body is None else body, task_id=marker)
    message["headers"].update(header_changes)
    return message


def without(message, *path):
    *parents, last = path
    target = message
    for key in parents:
        target = target[key]
    del target[last]
    return message


def with_body(marker, body: bytes):
    return entry(ticket_envelope(marker, body=body))


CASES = {
    "not json": lambda m: f"this is not json {m}".encode(),
    "a json array": lambda m: json.dumps([m, 1, 2]).encode(),
    "a json string": lambda m: json.dumps(m).encode(),
    "a body that is not base64": lambda m: entry({**ticket_envelope(m), "body": f"not base64 at all! {m}"}),
    "a body decoding to {}": lambda m: with_body(m, b"{}"),
    "a body decoding to 5": lambda m: with_body(m, b"5"),
    "a task name that is a list": lambda m: entry(ticket_envelope(m, task=[contracts.CREATE_TICKET])),
    "a time limit of abc": lambda m: entry(ticket_envelope(m, timelimit="abc")),
    "no properties": lambda m: entry(without(ticket_envelope(m), "properties")),
    "no delivery tag": lambda m: entry(without(ticket_envelope(m), "properties", "delivery_tag")),
    "no delivery info": lambda m: entry(without(ticket_envelope(m), "properties", "delivery_info")),
    "headers that are a list": lambda m: entry({**ticket_envelope(m), "headers": [m]}),
    "headers that are a string": lambda m: entry({**ticket_envelope(m), "headers": m}),
    "a 2 MiB task name": lambda m: entry(ticket_envelope(m, task="desk." + "a" * 2 * 1024 * 1024)),
    "an 80 KB unknown field": lambda m: entry(ticket_envelope(m, payload={
        **GOOD_TICKET, "idempotency_key": f"hostile-{m}", "x" * 80_000: "y" * 80_000})),
    "a lone surrogate in the payload": lambda m: with_body(m, json.dumps(
        [[{**GOOD_TICKET, "idempotency_key": f"hostile-{m}", "summary": "\ud800"}], {}, {}]).encode()),
    "a task id that is a number": lambda m: entry({**ticket_envelope(m), "headers": {
        **ticket_envelope(m)["headers"], "id": 5, "argsrepr": m}}),
    "an unknown body encoding": lambda m: entry({**ticket_envelope(m), "properties": {
        **ticket_envelope(m)["properties"], "body_encoding": "rot13"}}),
    "a callback to another task": lambda m: with_body(m, json.dumps(
        [[{**GOOD_TICKET, "idempotency_key": f"hostile-{m}"}], {},
         {"callbacks": [{"task": contracts.CREATE_TICKET, "args": [], "kwargs": {}, "options": {}}]}]).encode()),
    "keyword arguments": lambda m: with_body(m, json.dumps([[], {"self": 1}, {}]).encode()),
    "an eta in the year 9999": lambda m: entry(ticket_envelope(m, eta="9999-01-01T00:00:00+00:00")),
    "one of Celery's built-in tasks": lambda m: entry(ticket_envelope(m, task="celery.backend_cleanup")),
    "an expiry that is not a time": lambda m: entry(ticket_envelope(m, expires="tomorrow")),
    "JSON nested 100000 deep": lambda m: b"[" * 100_000 + m.encode(),
    "bytes that are not UTF-8": lambda m: b"\xff\xfe" + m.encode() + b"\xc3\x28",
}


@pytest.fixture(scope="module")
def desk(backend, work_dir, redis_server):
    with launched_station(backend, work_dir, isolated_redis_url(redis_server.url), services=("desk",)) as station:
        station.worker_pid = station.processes["desk-worker"].process.pid
        yield station


@pytest.fixture(scope="module")
def broker(desk):
    client = redis.Redis.from_url(desk.env["REDIS_URL"])
    yield client
    client.close()


def dead_letters(station):
    database = station.database("desk")
    model = database.infrastructure.dead_letter
    with database.reader() as session:
        return session.scalars(select(model).order_by(model.id)).all()


def raw_body(letter) -> bytes:
    return base64.b64decode(letter.body) if letter.body_encoding == "base64" else letter.body.encode()


def mentions(letter, marker: str) -> bool:
    return (marker in (letter.task_id or "") or marker.encode() in raw_body(letter)
            or marker in json.dumps(letter.headers))


def assert_still_serving(station, broker):
    worker = station.processes["desk-worker"].process
    key = f"after-{uuid.uuid4()}"
    broker.lpush("desk", entry(ticket_envelope(str(uuid.uuid4()), {**GOOD_TICKET, "idempotency_key": key})))
    try:
        wait_until(lambda: tickets_with_key(station, key), 30, 0.2, "the desk worker to serve a good task")
    except AssertionError:
        print(station.logs())
        raise
    assert worker.poll() is None and worker.pid == station.worker_pid


# What only kombu reads is set from the truth (shared.broker): these messages are whole and run.
SERVED = ("no delivery tag", "no delivery info")


@pytest.mark.parametrize("case", [case for case in CASES if case not in SERVED])
def test_a_hostile_entry_becomes_one_dead_letter_and_the_worker_keeps_serving(desk, broker, case):
    marker = f"hostile-{uuid.uuid4()}"
    broker.lpush("desk", CASES[case](marker))

    def kept():
        return [letter for letter in dead_letters(desk) if mentions(letter, marker)]
    try:
        letters = wait_until(kept, 30, 0.2, f"a dead letter for {case}")
    except AssertionError:
        print(desk.logs())
        raise
    assert_still_serving(desk, broker)
    assert len(kept()) == 1 and letters[0].reason
    assert not tickets_with_key(desk, f"hostile-{marker}")
    assert_nothing_left_to_restore(broker, marker)


@pytest.mark.parametrize("case", SERVED)
def test_an_entry_missing_only_what_kombu_keeps_for_itself_is_served(desk, broker, case):
    marker = f"hostile-{uuid.uuid4()}"
    broker.lpush("desk", CASES[case](marker))
    wait_until(lambda: tickets_with_key(desk, f"hostile-{marker}"), 30, 0.2, f"the ticket of {case}")
    assert_still_serving(desk, broker)
    assert not [letter for letter in dead_letters(desk) if mentions(letter, marker)]
    assert_nothing_left_to_restore(broker, marker)


def test_a_message_that_expired_before_it_arrived_is_discarded_counted_and_logged_not_run(desk, broker):
    # Its sender asked for it not to run after then (the scheduler's sweeps do): Celery discards it.
    marker = f"expired-{uuid.uuid4()}"
    broker.lpush("desk", entry(ticket_envelope(marker, expires="2001-01-01T00:00:00+00:00")))
    desk.processes["desk-worker"].wait_for_log(f"Discarding revoked task: {contracts.CREATE_TICKET}[{marker}]")
    assert_nothing_left_to_restore(broker, marker)
    assert_still_serving(desk, broker)
    assert not tickets_with_key(desk, f"hostile-{marker}")
    assert not [letter for letter in dead_letters(desk) if mentions(letter, marker)]


def assert_nothing_left_to_restore(broker, marker):
    """Acknowledged: nothing left for kombu to restore when the worker stops, so no crash on every restart."""
    wait_until(lambda: not any(marker.encode() in value for value in broker.hvals("unacked")), 10, 0.1,
               "the message to be acknowledged")
    assert not any(marker.encode() in value for value in broker.lrange("desk", 0, -1))


def test_what_the_worker_logged_about_them_is_capped(desk):
    lines = desk.processes["desk-worker"].log_text().splitlines()
    assert lines and max(len(line) for line in lines) < LONGEST_LOG_LINE


def test_a_huge_entry_is_kept_cut_to_size(desk, broker):
    marker = f"huge-{uuid.uuid4()}"
    broker.lpush("desk", marker.encode() + b"x" * 20_000_000)
    letter = wait_until(lambda: [d for d in dead_letters(desk) if marker.encode() in raw_body(d)], 60, 0.2,
                        "the huge entry's dead letter")[0]
    assert len(letter.body) <= 2_000_000 and "20000" in letter.reason
    assert_still_serving(desk, broker)
