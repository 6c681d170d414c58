"""End-to-end latency through the whole station, one request at a time, beside bare Celery hops.

    .venv/bin/python bench/e2e_bench.py [--samples 200] [--output docs/benchmarks.md]

Starts a private redis-server, fresh SQLite databases, the booking and desk APIs,
one worker per queue and an SMS gateway: an HTTP server in this process that the
real `http` SMS provider posts to, which notes when each SMS arrives. Then, one
booking at a time (nothing else in flight, so this is the latency of the path and
not of a queue):

1. booking request → review visible at the desk: the clock starts as POST /bookings
   is sent and stops when GET /reviews?status=open on the desk API lists the booking
   (asked every 10 ms). On the way: the booking API's commit, its outbox, one task
   (desk.review_booking) on the desk worker.
2. decision → the booker's SMS handed to the provider: the clock starts as
   POST /reviews/{id}/decision (approve) is sent and stops when the gateway receives
   the booking_approved SMS. On the way: two tasks (booking.apply_review_decision, then
   notify.send_message, which sends the SMS itself once it has accepted it), each after a
   commit and its outbox.

Baselines, measured in the same run and interleaved with the samples above: a bare
Flask endpoint (bench/bare_app.py, same gunicorn settings) sends a task of a no-op
Celery app from the same factory (bench/noop_app.py, one worker of the same
concurrency, the same redis-server in another database number), which passes itself
on as many times as the real path has tasks, then (1) sets a key the client asks for
every 10 ms through a bare GET, or (2) posts to the same gateway. The ratio to the
baseline is the figure to compare across machines: what yizhan's work adds to the
bare hops.
"""

import argparse
import http.client
import json
import os
import shutil
import sys
import tempfile
import threading
import time
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.common import (SECRET, Processes, booking_request, migrate_and_seed, percentiles, publish,  # noqa: E402
                          run, station_env, stop_on_sigterm)
from shared.auth import issue_token  # noqa: E402
from yizhan.processes import wait_until  # noqa: E402

POLL_SECONDS = 0.01
WAIT_SECONDS = 30
WARM_UP = 3
CONCURRENCY = 2


class Gateway(ThreadingHTTPServer):
    """The SMS provider's end: notes the moment each message arrives, and answers 200 at once."""

    daemon_threads = True

    def __init__(self):
        super().__init__(("127.0.0.1", 0), GatewayHandler)
        self.arrivals: dict[tuple, float] = {}
        self.arrived = threading.Condition()
        threading.Thread(target=self.serve_forever, daemon=True).start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}"

    def note(self, key: tuple) -> None:
        with self.arrived:
            self.arrivals.setdefault(key, time.perf_counter())
            self.arrived.notify_all()

    def wait(self, key: tuple) -> float:
        with self.arrived:
            if not self.arrived.wait_for(lambda: key in self.arrivals, WAIT_SECONDS):
                raise TimeoutError(f"nothing reached the gateway for {key} in {WAIT_SECONDS}s")
            return self.arrivals[key]


class GatewayHandler(BaseHTTPRequestHandler):
    def do_POST(self):
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        if self.path == "/sms":  # services/notify/providers/http_sms.py
            self.server.note(("sms", body["template"], str(body["params"].get("booking_id"))))
        else:  # /hop-done, from bench/noop_app.py
            self.server.note(("hop", body["token"]))
        answer = json.dumps({"reference": uuid.uuid4().hex}).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(answer)))
        self.end_headers()
        self.wfile.write(answer)

    def log_message(self, *args):
        pass


class Client:
    """One keep-alive connection to one API, JSON in and out. gunicorn closes a keep-alive connection that
    sat idle for its `keepalive` seconds (2 by default), and a request sent on it then fails with a broken
    pipe; a connection idle for IDLE_SECONDS is closed here first, and the next request opens another
    (CI once failed so, on a loaded machine where a sample's wait outlasted the keep-alive)."""

    IDLE_SECONDS = 1.0

    def __init__(self, port: int, token: str | None = None):
        self.connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        self.headers = {"Content-Type": "application/json"}
        if token:
            self.headers["Authorization"] = f"Bearer {token}"
        self.last_answer = time.monotonic()

    def call(self, method: str, path: str, body=None) -> tuple[int, dict]:
        if time.monotonic() - self.last_answer > self.IDLE_SECONDS:
            self.connection.close()  # http.client connects again on the next request
        self.connection.request(method, path, body=None if body is None else json.dumps(body), headers=self.headers)
        response = self.connection.getresponse()
        answer = response.status, json.loads(response.read() or b"null")
        self.last_answer = time.monotonic()
        return answer


def poll(ask, what: str):
    """ask() every POLL_SECONDS until it gives something; that, and the moment it did."""
    found = wait_until(ask, WAIT_SECONDS, POLL_SECONDS, what)
    return found, time.perf_counter()


def expect(status: int, wanted: int, answer, what: str) -> None:
    if status != wanted:
        raise SystemExit(f"{what}: HTTP {status}, expected {wanted}: {answer}")


def booking_sample(n: int, booking: Client, desk: Client, gateway: Gateway) -> tuple[float, float]:
    started = time.perf_counter()
    status, created = booking.call("POST", "/bookings", booking_request(n, f"延迟测试 latency {n}"))
    expect(status, 201, created, "POST /bookings")

    def review_listed():
        status, page = desk.call("GET", "/reviews?status=open&per_page=100")
        expect(status, 200, page, "GET /reviews")
        return next((case["id"] for case in page["items"] if case["booking_id"] == created["id"]), None)
    review_id, seen = poll(review_listed, f"the review of booking {created['id']}")
    to_review = seen - started

    decided = time.perf_counter()
    status, answer = desk.call("POST", f"/reviews/{review_id}/decision", {"decision": "approve"})
    expect(status, 200, answer, "POST /reviews/{id}/decision")
    to_sms = gateway.wait(("sms", "booking_approved", str(created["id"]))) - decided
    return to_review, to_sms


def baseline_sample(bare: Client, gateway: Gateway) -> tuple[float, float]:
    token = uuid.uuid4().hex
    started = time.perf_counter()
    status, answer = bare.call("POST", "/hop", {"token": token, "hops": 1})
    expect(status, 202, answer, "POST /hop")
    _, seen = poll(lambda: bare.call("GET", f"/hop/{token}")[0] == 200, f"hop {token}")
    one_hop = seen - started

    token = uuid.uuid4().hex
    started = time.perf_counter()
    status, answer = bare.call("POST", "/hop", {"token": token, "hops": 2, "url": f"{gateway.url}/hop-done"})
    expect(status, 202, answer, "POST /hop")
    two_hops = gateway.wait(("hop", token)) - started
    return one_hop, two_hops


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--samples", type=int, default=200, help="bookings measured (after 3 to warm up), and as many baselines")
    parser.add_argument("--output", type=Path, default=None, help="append the table as Markdown to this file")
    args = parser.parse_args()
    if args.samples < 2:
        parser.error("--samples must be at least 2")

    stop_on_sigterm()
    work = Path(tempfile.mkdtemp(prefix="yizhan-e2e-bench-"))
    processes = Processes(work)
    gateway = Gateway()
    try:
        env = station_env(work, SMS_PROVIDERS="http", SMS_HTTP_URL=f"{gateway.url}/sms",
                          SMS_HTTP_SECRET="bench-gateway-secret")
        env["REDIS_URL"] = processes.redis(env)
        migrate_and_seed(env)
        bare_env = {**env, "REDIS_URL": env["REDIS_URL"].rsplit("/", 1)[0] + "/1"}  # the baseline's own queues
        booking_port, desk_port, bare_port = processes.apis([
            ("booking-api", "services.booking:create_app()", env),
            ("desk-api", "services.services_desk:create_app()", env),
            ("bare-api", "bench.bare_app:create_app()", bare_env)])
        processes.workers([(f"{service}-worker", f"services.{package}.worker", service, env)
                           for service, package in (("booking", "booking"), ("desk", "services_desk"),
                                                    ("notify", "notify"))]
                          + [("noop-worker", "bench.noop_app", "notify", bare_env)], CONCURRENCY)

        staff = issue_token(SECRET, "staff", "bench")
        booking, desk, bare = Client(booking_port, staff), Client(desk_port, staff), Client(bare_port)
        print(f"{args.samples} samples of each path (after {WARM_UP} to warm up), one at a time, "
              f"{os.cpu_count()} cores", flush=True)
        measured = {"review": [], "sms": [], "one_hop": [], "two_hops": []}
        began = time.monotonic()
        for n in range(WARM_UP + args.samples):
            to_review, to_sms = booking_sample(n, booking, desk, gateway)
            one_hop, two_hops = baseline_sample(bare, gateway)
            if n >= WARM_UP:
                for key, value in zip(measured, (to_review, to_sms, one_hop, two_hops)):
                    measured[key].append(value)
            if (n + 1) % 20 == 0:
                print(f"  {n + 1}/{WARM_UP + args.samples} after {time.monotonic() - began:.0f} s", flush=True)
    finally:
        processes.stop_all()
        gateway.shutdown()
        shutil.rmtree(work, ignore_errors=True)

    publish(render({key: percentiles(values) for key, values in measured.items()}, args), "End-to-end latency",
            args.output)
    return 0


def render(figures: dict, args) -> str:
    def ms(value: float) -> str:
        return f"{value * 1000:.0f}"

    rows = [("booking request → review case visible at the desk", 1, "review", "one_hop"),
            ("decision → booker's SMS handed to the provider", 2, "sms", "two_hops")]
    lines = [f"`bench/e2e_bench.py`: {args.samples} bookings, one at a time after {WARM_UP} to warm up; booking "
             f"and desk APIs under gunicorn (shared/gunicorn_conf.py), one worker per queue (`--concurrency "
             f"{CONCURRENCY}`), SQLite, the real `http` SMS provider posting to a gateway in the client's process, "
             f"all on the same {os.cpu_count()}-core machine. Baseline: a bare Flask endpoint sends a no-op Celery "
             "task (same factory, same worker options, same redis-server) that passes itself on as many times as "
             "the real path has tasks; measured the same way, interleaved with the samples. Review visibility is "
             f"asked every {POLL_SECONDS * 1000:.0f} ms in both, so those figures carry up to that much extra; the "
             "gateway notes its arrivals at once.",
             "",
             "| path | tasks | p50 ms | p90 ms | p99 ms | max ms | baseline p50 ms | baseline p99 ms | p50 ratio |",
             "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |"]
    for name, tasks, key, baseline in rows:
        f, b = figures[key], figures[baseline]
        lines.append(f"| {name} | {tasks} | {ms(f['p50'])} | {ms(f['p90'])} | {ms(f['p99'])} | {ms(f['max'])} | "
                     f"{ms(b['p50'])} | {ms(b['p99'])} | {f['p50'] / b['p50']:.1f} |")
    lines += ["", f"Each percentile is over {args.samples} samples, so p99 lies among the few slowest. Each real task "
              "commits to SQLite and publishes its next task through the outbox right after the commit; the no-op "
              "tasks do neither."]
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    run(main)
