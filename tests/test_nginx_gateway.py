"""The production gateway (deploy/nginx.conf) run for real by nginx, in front of
a small upstream that answers with what it was given.

Only the addresses change: the compose service names become 127.0.0.1 ports and
nginx listens on a free port. Everything else is the file as deployed.
"""

import json
import re
import shutil
import socket
import subprocess
import threading
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
import requests

from yizhan.processes import free_port, port_answers, refused_port, wait_until

ROOT = Path(__file__).resolve().parent.parent
NGINX = shutil.which("nginx") or next((p for p in ("/usr/sbin/nginx",) if Path(p).exists()), None)
pytestmark = pytest.mark.skipif(NGINX is None, reason="nginx is not installed (.ci/run installs nginx-light)")


PORTAL_POLICY = "default-src 'self'; script-src 'self'; frame-ancestors 'none'"


class EchoHandler(BaseHTTPRequestHandler):
    """Answers with the request line's path and the body it received, plus an API's own headers."""

    def _answer(self):
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        payload = json.dumps({"path": self.path, "body": body.decode(), "prefix": self.headers.get("X-Forwarded-Prefix")}).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(payload)))
        self.send_header("X-Content-Type-Options", "nosniff")
        self.send_header("X-Frame-Options", "DENY")
        self.send_header("Cache-Control", "no-store")
        if self.headers.get("X-Forwarded-Prefix") is None:
            # Asked as the portal (no API prefix): like a page, it sends its own, stricter policy.
            self.send_header("Content-Security-Policy", PORTAL_POLICY)
        self.end_headers()
        self.wfile.write(payload)

    do_GET = do_POST = _answer

    def log_message(self, *args):
        pass


@contextmanager
def running_nginx(work: Path, upstream_port: int, portal_port: int | None = None):
    """deploy/nginx.conf under a real nginx, every upstream at upstream_port (the portal's at portal_port)."""
    port = free_port()
    conf = (ROOT / "deploy" / "nginx.conf").read_text()
    conf = re.sub(r"resolver [^;]*;", "", conf)
    if portal_port is not None:
        conf = conf.replace("set $upstream portal:8000;", f"set $upstream 127.0.0.1:{portal_port};")
    conf = re.sub(r"set \$upstream [\w-]+:\d+;", f"set $upstream 127.0.0.1:{upstream_port};", conf)
    conf = conf.replace("listen 80;", f"listen 127.0.0.1:{port};")
    conf = conf.replace("error_log /dev/stderr warn;", f"error_log {work}/error.log warn;")
    conf = conf.replace("access_log /dev/stdout gateway;", f"access_log {work}/access.log gateway;")
    (work / "nginx.conf").write_text(conf)
    process = subprocess.Popen([NGINX, "-c", str(work / "nginx.conf"), "-g", f"pid {work}/nginx.pid; daemon off;"],
                               stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        wait_until(lambda: process.poll() is not None or port_answers(port), 15, 0.1, "nginx to listen")
        assert process.poll() is None, process.stderr.read().decode()
        yield f"http://127.0.0.1:{port}"
    finally:
        process.terminate()
        process.wait(10)


@pytest.fixture(scope="module")
def gateway(tmp_path_factory):
    upstream = ThreadingHTTPServer(("127.0.0.1", 0), EchoHandler)
    threading.Thread(target=upstream.serve_forever, daemon=True).start()
    try:
        with running_nginx(tmp_path_factory.mktemp("nginx"), upstream.server_port) as url:
            yield url
    finally:
        upstream.shutdown()


def raw_get(base: str, path: str) -> bytes:
    """A request line sent as written, without a client library re-encoding it."""
    host, port = base.removeprefix("http://").split(":")
    with socket.create_connection((host, int(port)), timeout=10) as conn:
        conn.sendall(f"GET {path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n".encode())
        chunks = []
        while chunk := conn.recv(65536):
            chunks.append(chunk)
    return b"".join(chunks)


def test_the_prefix_is_cut_and_the_rest_of_the_path_passes_as_the_client_sent_it(gateway):
    answer = requests.get(f"{gateway}/booking/venues/3/availability?date=2026-12-10", timeout=10).json()
    assert answer == {"path": "/venues/3/availability?date=2026-12-10", "body": "", "prefix": "/booking"}


@pytest.mark.parametrize("encoded", ["%3F", "%20", "%0d%0a", "%E9%A9%BF"])
def test_an_encoded_character_in_the_path_stays_encoded_upstream(gateway, encoded):
    response = raw_get(gateway, f"/desk/tickets/a{encoded}b?page=1")
    assert b" 200 " in response.split(b"\r\n", 1)[0]
    body = json.loads(response.split(b"\r\n\r\n", 1)[1])
    assert body["path"] == f"/tickets/a{encoded}b?page=1"  # %3F is not a query separator upstream


@pytest.mark.parametrize("path", ["/booking/../notify/messages", "/desk/tickets/a%00b"])
def test_a_path_nginx_cannot_pass_on_as_sent_is_refused_in_the_json_error_shape(gateway, path):
    response = raw_get(gateway, path)
    status_line, rest = response.split(b"\r\n", 1)
    assert b" 400 " in status_line
    assert json.loads(rest.split(b"\r\n\r\n", 1)[1])["error"]["code"] == "bad_request"


def test_a_chunked_body_reaches_the_api_whole(gateway):
    body = (part for part in (b'{"title": ', b'"\xe6\x94\xaf\xe9\x83\xa8"}'))
    answer = requests.post(f"{gateway}/notify/messages", data=body, timeout=10).json()
    assert answer["body"] == '{"title": "支部"}'


@pytest.mark.parametrize("path", ["/", "/nowhere", "/healthz", "/booking/openapi.json"])
def test_every_answer_carries_the_security_headers_once(gateway, path):
    response = requests.get(gateway + path, timeout=10)
    for name, value in (("X-Content-Type-Options", "nosniff"), ("X-Frame-Options", "DENY"),
                        ("Cache-Control", "no-store")):
        assert response.raw.headers.getlist(name) == [value], (path, name)
    assert response.headers.get("Server") == "nginx"  # server_tokens off: no version


def test_a_page_path_reaches_the_portal_as_sent_with_no_prefix(gateway):
    answer = requests.get(f"{gateway}/venues/3?week=2026-12-07", timeout=10).json()
    assert answer == {"path": "/venues/3?week=2026-12-07", "body": "", "prefix": None}


def test_the_portals_own_content_security_policy_is_kept_once(gateway):
    page = requests.get(f"{gateway}/sign-in", timeout=10)
    assert page.raw.headers.getlist("Content-Security-Policy") == [PORTAL_POLICY]
    api = requests.get(f"{gateway}/booking/venues", timeout=10)
    assert api.raw.headers.getlist("Content-Security-Policy") == ["frame-ancestors 'none'"]


def test_when_the_portal_is_away_a_browser_gets_a_bilingual_page(tmp_path):
    with refused_port() as away, running_nginx(tmp_path, away, portal_port=away) as gateway:
        answer = requests.get(f"{gateway}/venues", timeout=10)
    assert answer.status_code == 503 and answer.headers["Content-Type"].startswith("text/html")
    assert "网页暂时打不开" in answer.text and "not answering" in answer.text
    assert answer.headers["X-Frame-Options"] == "DENY"
