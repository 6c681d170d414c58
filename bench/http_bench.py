"""Load test of the booking API beside a bare Flask endpoint, in one run.

    .venv/bin/python bench/http_bench.py [--seconds 10] [--connections 32] [--output docs/benchmarks.md]

Starts a private redis-server, fresh SQLite databases, the booking API and a bare Flask app under the same
gunicorn settings (shared/gunicorn_conf.py), then drives each endpoint with N
keep-alive connections for a fixed time. The client runs on the same machine
as the servers, so absolute figures are a floor; the ratio to the bare endpoint
measured in the same run is the figure to compare.
"""

import argparse
import itertools
import json
import os
import shutil
import sys
import tempfile
import threading
import time
from datetime import date, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.common import (SECRET, Processes, booking_request, drive, migrate_and_seed, run,  # noqa: E402
                          station_env, stop_on_sigterm)
from shared.auth import issue_token  # noqa: E402


def booking_requests():
    """Each POST asks for a different free hour on the culture square, far enough ahead."""
    token = issue_token(SECRET, "staff", "bench")
    headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
    slots = itertools.count()
    lock = threading.Lock()

    def make():
        with lock:
            n = next(slots)
        return "/bookings", json.dumps(booking_request(n, "压力测试 bench")), headers
    return make


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=10)
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--output", type=Path, default=None, help="write the table as Markdown here")
    args = parser.parse_args()

    stop_on_sigterm()
    work = Path(tempfile.mkdtemp(prefix="yizhan-bench-"))
    processes = Processes(work)
    try:
        env = station_env(work)
        env["REDIS_URL"] = processes.redis(env)
        migrate_and_seed(env, ["booking"])
        api_port, bare_port = processes.apis([("booking-api", "services.booking:create_app()", env),
                                              ("bare-api", "bench.bare_app:create_app()", env)])
        token = issue_token(SECRET, "resident", "bench")
        availability_day = (date.today() + timedelta(days=40)).isoformat()
        auth = {"Authorization": f"Bearer {token}"}
        bare_body = json.dumps({"title": "bench", "attendees": 10})
        scenarios = [
            ("bare Flask GET /bare", bare_port, "GET", lambda: ("/bare", None, {})),
            ("GET /venues/11/availability", api_port, "GET",
             lambda: (f"/venues/11/availability?date={availability_day}", None, auth)),
            ("bare Flask POST /bare", bare_port, "POST",
             lambda: ("/bare", bare_body, {"Content-Type": "application/json"})),
            ("POST /bookings", api_port, "POST", booking_requests()),
        ]
        results = []
        for name, port, method, make in scenarios:
            drive(port, method, make, min(1, args.seconds), 4)  # warm up
            result = drive(port, method, make, args.seconds, args.connections)
            results.append((name, result))
            print(f"{name:32} {result['rps']:8.1f} req/s  p50 {result['p50_ms']:7.1f} ms  "
                  f"p99 {result['p99_ms']:7.1f} ms  {result['statuses']}", flush=True)
    finally:
        processes.stop_all()
        shutil.rmtree(work, ignore_errors=True)
    table = render(results, args)
    print("\n" + table)
    if args.output:
        args.output.write_text(
            "# Benchmarks\n\nWritten by `make bench` (bench/http_bench.py); every figure sits beside a bare "
            "Flask endpoint served the same way in the same run, and the ratio is the figure to compare across "
            f"machines. Measured {time.strftime('%Y-%m-%d')}.\n\n## HTTP: the booking API\n\n" + table)
    return 0


def render(results, args) -> str:
    by_name = dict(results)
    pairs = [("GET /venues/11/availability", "bare Flask GET /bare"), ("POST /bookings", "bare Flask POST /bare")]
    lines = [f"{args.connections} keep-alive connections, {args.seconds:g} s per endpoint, gunicorn with "
             f"shared/gunicorn_conf.py ({os.environ.get('YIZHAN_API_WORKERS', '2')} workers × "
             f"{os.environ.get('YIZHAN_API_THREADS', '4')} threads), SQLite, client on the same "
             f"{os.cpu_count()}-core machine.", "",
             "| endpoint | req/s | p50 ms | p99 ms | baseline req/s | baseline p99 ms | req/s ratio |",
             "| --- | ---: | ---: | ---: | ---: | ---: | ---: |"]
    for name, baseline in pairs:
        r, b = by_name[name], by_name[baseline]
        lines.append(f"| {name} | {r['rps']:.0f} | {r['p50_ms']:.1f} | {r['p99_ms']:.1f} | {b['rps']:.0f} | "
                     f"{b['p99_ms']:.1f} | {r['rps'] / b['rps']:.2f} |")
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    run(main)
