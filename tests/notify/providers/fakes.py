"""Stand-ins for the SMS providers' clouds: real HTTP servers on 127.0.0.1 that the real clients talk to."""

import json
import threading
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import SimpleNamespace
from urllib.parse import parse_qs, urlsplit


@dataclass
class Received:
    method: str
    path: str
    query: dict
    headers: dict
    body: bytes

    def json(self):
        return json.loads(self.body)


@dataclass
class Answer:
    status: int
    body: bytes
    content_type: str = "application/json"

    @classmethod
    def json(cls, status: int, payload, content_type: str = "application/json") -> "Answer":
        return cls(status, json.dumps(payload, ensure_ascii=False).encode(), content_type)


class FakeApi:
    """Records each request, lets `check(request)` refuse it as the real API would (an `Answer`),
    and otherwise gives the next queued answer."""

    def __init__(self, check=None):
        self.check = check or (lambda request: None)
        self.received: list[Received] = []
        self._answers: list[Answer] = []
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self._thread = threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.01},
                                        daemon=True)

    @property
    def address(self) -> str:
        host, port = self._server.server_address[:2]
        return f"{host}:{port}"

    def answer(self, answer: Answer) -> "FakeApi":
        self._answers.append(answer)
        return self

    def start(self) -> "FakeApi":
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()

    def _respond(self, request: Received) -> Answer:
        self.received.append(request)
        refusal = self.check(request)
        if refusal is not None:
            return refusal
        return self._answers.pop(0) if self._answers else Answer(500, b"no answer queued", "text/plain")

    def _handler(self):
        api = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                url = urlsplit(self.path)
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                answer = api._respond(Received(self.command, url.path, parse_qs(url.query),
                                               {k.lower(): v for k, v in self.headers.items()}, body))
                self.send_response(answer.status)
                self.send_header("Content-Type", answer.content_type)
                self.send_header("Content-Length", str(len(answer.body)))
                self.end_headers()
                self.wfile.write(answer.body)

            def log_message(self, *args):
                pass

        return Handler


def make_message(**overrides):
    """An SMS as the notify worker hands it to a provider (its number in E.164)."""
    fields = {"id": 42, "recipient": "+8613812345678", "template": "booking.approved",
              "body": "【驿站】您预约的议事厅 9月18日 10:00 已通过审核。",
              "params": {"venue": "议事厅", "date": "9月18日", "time": "10:00"},
              "sms_template_code": "SMS_460770154", **overrides}
    return SimpleNamespace(**fields)
