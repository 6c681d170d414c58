"""JSON logs with the request id, and personal data masked."""

import json
import logging

import pytest

from shared.logs import MAX_MASKED_CHARS, JsonFormatter, mask_personal_data, request_id_var, task_var


def test_mobile_numbers_id_numbers_and_addresses_are_masked():
    text = "call 13812345678 or +8613912345678, ID 46010019900101123X, mail zhang.san@example.org"
    masked = mask_personal_data(text)
    assert "138****5678" in masked and "+86139****5678" in masked
    assert "4601**********123X" in masked
    assert "z***@example.org" in masked
    for secret in ("13812345678", "13912345678", "46010019900101123X", "zhang.san@"):
        assert secret not in masked


def test_a_uuid_whose_hex_holds_a_mobile_shaped_run_stays_whole_and_numbers_beside_it_are_masked():
    """A task id like this one was masked to `…-a173****4170`: a log line no longer named its task
    (test_dead_letters failed on it in a full run). A number is masked right up to a UUID, and an
    address whose local part is a UUID is still masked."""
    task_id = "twice-d35177ef-65ec-4bbf-ba23-a17377924170"
    masked = mask_personal_data(f"task {task_id} already processed; call 13812345678,13912345678{task_id[6:]}")
    assert f"task {task_id} already processed" in masked
    assert "13812345678" not in masked and "13912345678" not in masked and "139****5678" in masked
    assert mask_personal_data(f"{task_id[6:]}@example.org") == "d***@example.org"
    assert mask_personal_data("13812345678-65ec-4bbf-ba23-a17377924170") == "138****5678-65ec-4bbf-ba23-a173****4170"


def test_a_log_line_is_one_json_object_with_service_request_and_task():
    record = logging.LogRecord("yizhan", logging.INFO, __file__, 1, "sent to %s", ("13812345678",), None)
    request_token = request_id_var.set("req-1")
    task_token = task_var.set(("task-9", "notify.deliver_message"))
    try:
        line = JsonFormatter("notify").format(record)
    finally:
        request_id_var.reset(request_token)
        task_var.reset(task_token)
    entry = json.loads(line)
    assert entry["service"] == "notify" and entry["request_id"] == "req-1"
    assert entry["task_id"] == "task-9" and entry["task_name"] == "notify.deliver_message"
    assert entry["message"] == "sent to 138****5678"
    assert "\n" not in line


def test_masking_looks_at_a_capped_prefix_of_a_huge_text_and_says_what_it_cut():
    huge = "task name " + "a" * (2 * 1024 * 1024)  # a run of e-mail characters without "@"
    masked = mask_personal_data(huge)
    assert len(masked) <= MAX_MASKED_CHARS + 100
    assert masked.startswith("task name ") and masked.endswith(f"[{len(huge) - len('task name ')} characters cut]")


@pytest.mark.parametrize("pathological", [
    "a" * 200_000,                                # a run of local-part characters, no "@"
    "a@" * 100_000,                               # an "@" everywhere, no domain
    "a@" + "b" * 200_000,                         # a domain that never ends
    ("x" * 50 + "@b.") * 4_000,                   # domains that almost end
    "1" * 200_000,                                # one long number
    "a.b" * 70_000 + "@example.org",              # one address with a long local part, cut away
    "d35177ef-65ec-4bbf-ba23-" * 10_000,          # UUIDs that almost are
])
def test_pathological_inputs_are_masked_within_the_cap(pathological):
    masked = mask_personal_data(pathological)
    assert len(masked) <= MAX_MASKED_CHARS + 100


def test_a_cut_never_leaves_part_of_a_number_or_address_visible():
    text = "x" * (MAX_MASKED_CHARS - 5) + " 13812345678 lin@example.org"
    masked = mask_personal_data(text)
    assert "1381" not in masked and "lin" not in masked and masked.endswith("characters cut]")


def test_addresses_in_a_long_text_are_all_masked():
    text = " ".join(f"user{i}@example.org" for i in range(500))
    masked = mask_personal_data(text)
    assert masked.count("***@example.org") == 500 and "user1@" not in masked
    assert mask_personal_data("write to a.b-c@mail.example.cn today") == "write to a***@mail.example.cn today"


def test_a_lone_surrogate_or_nul_in_a_log_message_still_makes_one_json_line():
    record = logging.LogRecord("yizhan", logging.INFO, __file__, 1, "bad %s", ("\ud800\x00",), None)
    line = JsonFormatter("desk").format(record)
    line.encode("utf-8")  # what a UTF-8 stream does with it
    assert json.loads(line)["message"] == "bad \\ud800\\x00"
