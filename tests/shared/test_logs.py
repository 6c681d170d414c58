"""JSON logs with the request id, and personal data masked."""

import json
import logging

from shared.logs import JsonFormatter, mask_personal_data, request_id_var, task_var


def test_mobile_numbers_id_numbers_and_addresses_are_masked():
    text = "call 13812345678 or +8613912345678, ID 46010019900101123X, mail zhang.san@example.org"
    masked = mask_personal_data(text)
    assert "138****5678" in masked and "+86139****5678" in masked
    assert "4601**********123X" in masked
    assert "z***@example.org" in masked
    for secret in ("13812345678", "13912345678", "46010019900101123X", "zhang.san@"):
        assert secret not in masked


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
