"""The development SMS provider: appends each SMS as one JSON line to a file."""

import json
import threading
import uuid

from services.notify.providers.base import Provider, TransientError
from services.notify.providers.receipts import parse_generic, read_json
from shared.db import utcnow

_lock = threading.Lock()


class LogSmsProvider(Provider):
    name = "log"

    def __init__(self, settings):
        self.path = settings.sms_log_path

    def send(self, message) -> str:
        reference = uuid.uuid4().hex
        line = json.dumps({"at": utcnow().isoformat(), "reference": reference, "to": message.recipient,
                           "message_id": message.id, "body": message.body}, ensure_ascii=False)
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            with _lock, open(self.path, "a", encoding="utf-8") as sink:
                sink.write(line + "\n")
        except OSError as exc:
            raise TransientError(f"cannot write the SMS log: {exc}") from exc
        return reference

    def parse_receipts(self, body: bytes, headers, query):
        """Our generic callback format, unsigned: for trying receipts and opt-outs on a laptop."""
        return parse_generic(read_json(body))
