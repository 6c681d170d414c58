"""JSON logs, one object per line, with the request id that travels with a request
from service to service (in each task's headers), and personal data masked."""

import contextvars
import json
import logging
import re
import sys
import uuid
from datetime import datetime, timezone

request_id_var = contextvars.ContextVar("request_id", default=None)
task_var = contextvars.ContextVar("task", default=(None, None))

# Mainland mobile numbers, 18-character resident ID numbers, e-mail addresses.
_ID_NUMBER = re.compile(r"(?<![0-9])([1-9][0-9]{3})[0-9]{10}([0-9]{3}[0-9Xx])(?![0-9])")
_MOBILE = re.compile(r"(?<![0-9])((?:\+?86)?1[3-9][0-9])[0-9]{4}([0-9]{4})(?![0-9])")
_EMAIL = re.compile(r"([A-Za-z0-9._%+-])[A-Za-z0-9._%+-]*@([A-Za-z0-9.-]+\.[A-Za-z]{2,})")


def mask_personal_data(text: str) -> str:
    """`13812345678` → `138****5678`; ID numbers and e-mail addresses likewise."""
    text = _ID_NUMBER.sub(r"\1**********\2", text)
    text = _MOBILE.sub(r"\1****\2", text)
    return _EMAIL.sub(r"\1***@\2", text)


def new_request_id() -> str:
    return uuid.uuid4().hex


class JsonFormatter(logging.Formatter):
    def __init__(self, service: str):
        super().__init__()
        self.service = service

    def format(self, record: logging.LogRecord) -> str:
        task_id, task_name = task_var.get()
        entry = {
            "time": datetime.fromtimestamp(record.created, timezone.utc).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "service": self.service,
            "logger": record.name,
            "message": mask_personal_data(record.getMessage()),
            "request_id": request_id_var.get(),
            "task_id": task_id,
            "task_name": task_name,
        }
        if record.exc_info:
            entry["exception"] = mask_personal_data(self.formatException(record.exc_info))
        return json.dumps({k: v for k, v in entry.items() if v is not None}, ensure_ascii=False)


def configure_logging(service: str, level: str = "INFO") -> None:
    """Replace earlier JSON handlers (not others', such as pytest's) with one for this service."""
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(JsonFormatter(service))
    root = logging.getLogger()
    for old in [h for h in root.handlers if isinstance(h.formatter, JsonFormatter)]:
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(level)
