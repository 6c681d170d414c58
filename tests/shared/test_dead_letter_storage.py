"""A dead letter is stored whatever the refused message holds (NUL, lone surrogates, bytes that
are not UTF-8, fields longer than their columns); when the database refuses even that, the
message is counted as lost and logged once, and nothing raises (issue 11 §1)."""

import base64
import logging

from prometheus_client import REGISTRY

from shared.db import Database
from shared.dead_letters import MAX_STORED_BODY, RAW_ENTRY, record_dead_letter, task_body_text
from tests.processes import refused_port


def lost(queue: str) -> float:
    return REGISTRY.get_sample_value("yizhan_lost_messages_total", {"queue": queue}) or 0


def test_nul_surrogates_and_oversized_fields_are_stored_escaped_and_cut(station):
    database = station.database("desk")
    raw = b"\x00\xff" + b"x" * (MAX_STORED_BODY + 10)
    row = record_dead_letter(database, queue="q" * 500, reason="bad \ud800\x00 " + "r" * 10_000, body=raw,
                             content_type="c" * 500, headers={"note": "\ud800\x00", "big": "h" * 100_000},
                             task_name="desk." + "a" * 2_000_000, task_id=["not", "a", "string"])
    assert row is not None
    with database.reader() as session:
        stored = session.get(database.infrastructure.dead_letter, row.id)
    assert stored.body_encoding == "base64" and base64.b64decode(stored.body) == raw[:MAX_STORED_BODY]
    assert f"cut to {MAX_STORED_BODY} of {len(raw)} bytes" in stored.reason and "\x00" not in stored.reason
    assert len(stored.queue) == 100 and len(stored.task_name) == 255 and len(stored.content_type) == 100
    assert stored.task_id == "['not', 'a', 'string']"
    assert "cut" in stored.headers and len(stored.headers["text"]) == 16_000


def test_a_task_body_with_a_lone_surrogate_is_kept_as_json_text(station):
    database = station.database("desk")
    text = task_body_text([{"summary": "\ud800 王"}], {})
    row = record_dead_letter(database, queue="desk", reason="error", body=text, content_type="application/json")
    with database.reader() as session:
        stored = session.get(database.infrastructure.dead_letter, row.id)
    assert stored.body_encoding == "utf-8" and "\\ud800" in stored.body


def test_when_the_database_refuses_the_message_is_counted_lost_and_logged_once(station, caplog):
    infrastructure = station.database("desk").infrastructure
    with refused_port() as port:
        database = Database(f"postgresql+psycopg://postgres@127.0.0.1:{port}/none?connect_timeout=2", infrastructure)
        before = lost("lost-test")
        with caplog.at_level(logging.ERROR, logger="shared.dead_letters"):
            assert record_dead_letter(database, queue="lost-test", reason="not JSON", body=b"{",
                                      content_type=RAW_ENTRY) is None
        database.dispose()
    assert lost("lost-test") == before + 1
    assert len([r for r in caplog.records if "lost a refused message" in r.getMessage()]) == 1
