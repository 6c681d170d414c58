"""`make run`'s gateway, run with the very command line `yizhan run` gives it, in front of real APIs:
any path comes back as JSON and reaches the API encoded as sent, a chunked body arrives whole,
and clients that never finish their request do not stop it answering the others."""

import json
import socket
from contextlib import ExitStack
from pathlib import Path

import pytest
import requests

from shared.settings import Settings
from tests.conftest import auth, isolated_redis_url, launched_station
from tests.processes import ManagedProcess, free_port, wait_until
from yizhan.local_station import plan_processes

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def station(work_dir, redis_server):
    with launched_station("sqlite", work_dir, isolated_redis_url(redis_server.url), services=("booking", "desk")) as station:
        yield station


@pytest.fixture(scope="module")
def gateway(station):
    """The gateway process as plan_processes() starts it, pointed at the station's APIs."""
    port = free_port()
    env = {**station.env, "YIZHAN_GATEWAY_PORT": str(port), "YIZHAN_NOTIFY_PORT": str(free_port()),
           **{f"YIZHAN_{name.upper()}_PORT": str(p) for name, p in station.ports.items()}}
    command = plan_processes(Settings.from_env(env), Path(station.env["YIZHAN_VAR_DIR"]), dict(env))["gateway"]
    process = ManagedProcess("gateway", command, env, Path(station.env["YIZHAN_VAR_DIR"])).start()
    url = f"http://127.0.0.1:{port}"

    def answers():
        assert process.process.poll() is None, process.log_text()[-3000:]
        try:
            return requests.get(f"{url}/booking/healthz", timeout=2).status_code == 200
        except requests.RequestException:
            return False
    wait_until(answers, 30, 0.2, "the gateway")
    yield port, url
    process.stop()


def raw_request(port: int, request_line: bytes, headers: bytes = b"", body: bytes = b"") -> tuple[int, bytes]:
    """Send exactly these bytes (no client library re-quoting the path); return the status and body."""
    with socket.create_connection(("127.0.0.1", port), timeout=20) as s:
        s.sendall(request_line + b"\r\nHost: localhost\r\nConnection: close\r\n" + headers + b"\r\n" + body)
        received = b""
        while chunk := s.recv(65536):
            received += chunk
    head, _, content = received.partition(b"\r\n\r\n")
    return int(head.split(b" ", 2)[1]), content


@pytest.mark.parametrize("path", [b"/booking/venues%00", b"/booking/venues%20x", b"/booking/venues%0d%0aX-Evil:%20yes",
                                  "/booking/场地".encode(), b"/booking/%E5%9C%BA%E5%9C%B0", b"/booking/venues/%ff",
                                  b"/desk/tickets%00?status=open"])
def test_any_path_is_a_json_answer_from_the_api_never_a_500(gateway, path):
    port, _ = gateway
    status, content = raw_request(port, b"GET " + path + b" HTTP/1.1", b"Authorization: " + auth()["Authorization"].encode() + b"\r\n")
    assert 400 <= status < 500, (status, content[:300])
    assert set(json.loads(content)["error"]) == {"code", "message", "fields"}


def test_an_encoded_question_mark_stays_in_the_path(gateway):
    port, url = gateway
    assert requests.get(f"{url}/booking/venues?page=1", headers=auth(), timeout=10).status_code == 200
    status, content = raw_request(port, b"GET /booking/venues%3Fpage=1 HTTP/1.1",
                                  b"Authorization: " + auth()["Authorization"].encode() + b"\r\n")
    assert status == 404 and json.loads(content)["error"]["code"] == "not_found"


def test_a_chunked_body_arrives_whole(gateway):
    _, url = gateway
    body = json.dumps({"type": "consultation", "summary": "分块 chunked",
                       "resident": {"name": "王", "phone": "13800000001"}}).encode()
    chunks = (body[i:i + 16] for i in range(0, len(body), 16))  # a generator: requests sends it chunked
    response = requests.post(f"{url}/desk/tickets", data=chunks, timeout=10,
                             headers={**auth(), "Content-Type": "application/json"})
    assert response.status_code == 201, response.text[:300]
    assert response.json()["summary"] == "分块 chunked"


def test_clients_that_never_send_their_body_do_not_starve_the_others(gateway):
    port, url = gateway
    with ExitStack() as stack:
        for _ in range(30):
            slow = stack.enter_context(socket.create_connection(("127.0.0.1", port), timeout=5))
            slow.sendall(b"POST /desk/tickets HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\n"
                         b"Content-Length: 100000\r\n\r\n{\"summary\": ")
        # The timeout bounds the wait; a starved gateway would not answer within it.
        response = requests.get(f"{url}/booking/venues", headers=auth(), timeout=15)
        assert response.status_code == 200


@pytest.mark.parametrize("bad_text", [b"\\u0000", b"\\ud800"])
def test_a_chunked_body_straight_to_an_api_is_checked_at_the_door_too(station, bad_text):
    """gunicorn gives a chunked body no Content-Length; the door's check must read it all the same."""
    body = b'{"type": "consultation", "summary": "a' + bad_text + b'", "resident": {"name": "x", "phone": "13800000001"}}'
    response = requests.post(f"{station.urls['desk']}/tickets", data=iter([body[:20], body[20:]]), timeout=10,
                             headers={**auth(), "Content-Type": "application/json"})
    assert response.status_code == 422 and response.json()["error"]["code"] == "refused"


@pytest.mark.parametrize("path", ["/", "/nowhere", "/booking/healthz", "/booking/venues"])
def test_every_answer_carries_the_security_headers_once(gateway, path):
    _, url = gateway
    response = requests.get(url + path, headers=auth(), timeout=10)
    for name, value in (("X-Content-Type-Options", "nosniff"), ("X-Frame-Options", "DENY"), ("Cache-Control", "no-store")):
        assert response.raw.headers.getlist(name) == [value], (path, name)
    assert "Server" not in response.headers or response.headers["Server"] == "yizhan"


def test_a_page_the_portal_cannot_answer_is_a_bilingual_page(gateway):
    """This station runs no portal: a browser asking for a page gets HTML it can show, not JSON."""
    _, url = gateway
    answer = requests.get(f"{url}/venues", timeout=10)
    assert answer.status_code == 502 and answer.headers["Content-Type"].startswith("text/html")
    assert "网页暂时打不开" in answer.text and "not answering" in answer.text and "<script" not in answer.text
