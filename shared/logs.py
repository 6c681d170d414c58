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

# Mainland mobile numbers and 18-character resident ID numbers: fixed-length patterns, so each
# start position costs a bounded number of steps and a whole scan is linear.
_ID_NUMBER = re.compile(r"(?<![0-9])([1-9][0-9]{3})[0-9]{10}([0-9]{3}[0-9Xx])(?![0-9])")
_MOBILE = re.compile(r"(?<![0-9])((?:\+?86)?1[3-9][0-9])[0-9]{4}([0-9]{4})(?![0-9])")
# A UUID (a task id, a request id) is nobody's number: its hex may hold a run of digits shaped like a
# mobile number ("…-a17377924170"), which masked would make the id unsearchable in the logs.
# Only a whole one, with no hex on either side: "13812345678-…" holds no UUID, and its number is masked.
_UUID = re.compile(r"(?<![0-9a-fA-F])[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}"
                   r"(?![0-9a-fA-F])")
# An e-mail address is found from its "@" (a pattern starting at the local part tries every
# character of a long run without "@" against the whole rest of the run: quadratic, hours of CPU
# for a 2 MiB task name, issue 11). The domain is bounded as DNS bounds it (RFC 1035: 253 characters).
_EMAIL_DOMAIN = re.compile(r"@([A-Za-z0-9.-]{1,253}\.[A-Za-z]{2,63})")
_EMAIL_LOCAL_CHARACTERS = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._%+-")
# Characters a phone number, ID number or address is made of: a cut never leaves part of one visible.
_TOKEN_CHARACTERS = "".join(sorted(_EMAIL_LOCAL_CHARACTERS)) + "@"
# No log line needs more; a hostile message can make one of megabytes.
MAX_MASKED_CHARS = 16_000


def mask_personal_data(text: str) -> str:
    """`13812345678` → `138****5678`; ID numbers and e-mail addresses likewise; a whole UUID stays as it is.

    Looks at the first MAX_MASKED_CHARS characters only and runs in linear time on any input;
    what is cut is said, with its length."""
    text = _cut(text)
    pieces, done = [], 0
    for uuid_match in _UUID.finditer(text):  # numbers are masked between UUIDs, never inside one
        pieces += [_mask_numbers(text[done:uuid_match.start()]), uuid_match.group()]
        done = uuid_match.end()
    text = "".join(pieces) + _mask_numbers(text[done:])
    return _mask_emails(text)


def _mask_numbers(text: str) -> str:
    text = _ID_NUMBER.sub(r"\1**********\2", text)
    return _MOBILE.sub(r"\1****\2", text)


def _cut(text: str) -> str:
    if len(text) <= MAX_MASKED_CHARS:
        return text
    # rstrip, not a regex: a trailing run of token characters may be the whole text.
    kept = text[:MAX_MASKED_CHARS].rstrip(_TOKEN_CHARACTERS)
    return f"{kept} … [{len(text) - len(kept)} characters cut]"


def _mask_emails(text: str) -> str:
    """`zhang.san@example.org` → `z***@example.org`. Each character is looked at a bounded number
    of times: the local part is read backwards from its "@" and never past the previous address."""
    pieces, done = [], 0
    for match in _EMAIL_DOMAIN.finditer(text):
        start = at = match.start()
        while start > done and text[start - 1] in _EMAIL_LOCAL_CHARACTERS:
            start -= 1
        if start == at:
            continue  # nothing before the "@": not an address
        pieces += [text[done:start + 1], "***@", match.group(1)]
        done = match.end()
    pieces.append(text[done:])
    return "".join(pieces)


def printable(text: str) -> str:
    """Text any UTF-8 stream, database or JSON encoder takes: lone surrogates (valid in a Python
    string, invalid in UTF-8) and NUL written as escapes."""
    return text.encode("utf-8", "backslashreplace").decode("utf-8").replace("\x00", "\\x00")


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
            "message": printable(mask_personal_data(record.getMessage())),
            "request_id": request_id_var.get(),
            "task_id": task_id,
            "task_name": task_name,
        }
        if record.exc_info:
            entry["exception"] = printable(mask_personal_data(self.formatException(record.exc_info)))
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
