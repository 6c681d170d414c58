"""Load test of the booking API beside a bare Flask endpoint, in one run.

    .venv/bin/python bench/http_bench.py [--seconds 10] [--connections 32] [--output docs/benchmarks.md]

Starts a private redis-server, fresh SQLite databases (or PostgreSQL: set
BOOKING_DATABASE_URL), the booking API and a bare Flask app under the same
gunicorn settings (shared/gunicorn_conf.py), then drives each endpoint with N
keep-alive connections for a fixed time. The client runs on the same machine
as the servers, so absolute figures are a floor; the ratio to the bare endpoint
measured in the same run is the figure to compare.
"""

import argparse
import http.client
import itertools
import json
import os
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from datetime import date, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from shared.auth import issue_token  # noqa: E402

BIN = Path(sys.executable).parent
SECRET = "bench-secret-0123456789abcdef0123456789"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for(port: int, path: str, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            connection = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
            connection.request("GET", path)
            if connection.getresponse().status < 500:
                return
        except OSError:
            pass
        time.sleep(0.2)
    raise SystemExit(f"nothing answered on port {port}{path}")


def gunicorn(app: str, port: int, env: dict, log) -> subprocess.Popen:
    return subprocess.Popen([str(BIN / "gunicorn"), "--config", "python:shared.gunicorn_conf",
                             "--bind", f"127.0.0.1:{port}", app], env=env, cwd=ROOT, stdout=log, stderr=log)


def drive(port: int, method: str, make_request, seconds: float, connections: int) -> dict:
    """N threads, each on one keep-alive connection, for a fixed time; latencies of every request."""
    latencies, statuses, stop = [], {}, time.monotonic() + seconds
    lock = threading.Lock()

    def worker():
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        mine, codes = [], {}
        while time.monotonic() < stop:
            path, body, headers = make_request()
            started = time.perf_counter()
            connection.request(method, path, body=body, headers=headers)
            response = connection.getresponse()
            response.read()
            mine.append(time.perf_counter() - started)
            codes[response.status] = codes.get(response.status, 0) + 1
        with lock:
            latencies.extend(mine)
            for code, n in codes.items():
                statuses[code] = statuses.get(code, 0) + n

    threads = [threading.Thread(target=worker) for _ in range(connections)]
    began = time.monotonic()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    elapsed = time.monotonic() - began
    cuts = statistics.quantiles(latencies, n=100)
    return {"requests": len(latencies), "rps": len(latencies) / elapsed, "p50_ms": cuts[49] * 1000,
            "p99_ms": cuts[98] * 1000, "statuses": statuses}


def booking_requests():
    """Each POST asks for a different free hour on the culture square, far enough ahead."""
    token = issue_token(SECRET, "staff", "bench")
    headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
    first_day = date.today() + timedelta(days=30)
    slots = itertools.count()
    lock = threading.Lock()

    def make():
        with lock:
            n = next(slots)
        day = first_day + timedelta(days=n // 15)
        hour = 6 + n % 15
        body = {"venue_id": 11, "organization_id": 1 + n % 4, "title": "压力测试 bench", "attendees": 10,
                "start": f"{day.isoformat()}T{hour:02d}:00:00+08:00", "end": f"{day.isoformat()}T{hour + 1:02d}:00:00+08:00",
                "contact": {"name": "测试", "phone": "13800000000"}}
        return "/bookings", json.dumps(body), headers
    return make


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=10)
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--output", type=Path, default=None, help="write the table as Markdown here")
    args = parser.parse_args()

    work = Path(tempfile.mkdtemp(prefix="yizhan-bench-"))
    log = open(work / "servers.log", "wb")
    redis_port, api_port, bare_port = free_port(), free_port(), free_port()
    env = {**os.environ, "YIZHAN_ENV": "test", "YIZHAN_SECRET_KEY": SECRET, "YIZHAN_VAR_DIR": str(work),
           "REDIS_URL": f"redis://127.0.0.1:{redis_port}/0", "YIZHAN_LOG_LEVEL": "WARNING",
           "BOOKING_MONTHLY_QUOTA": "1000000", "BOOKING_MONTHLY_HOURS": "1000000"}
    processes = [subprocess.Popen(["redis-server", "--port", str(redis_port), "--save", "", "--appendonly", "no"],
                                  stdout=log, stderr=log)]
    try:
        subprocess.run([str(BIN / "yizhan"), "migrate"], env=env, cwd=ROOT, check=True, capture_output=True)
        subprocess.run([str(BIN / "yizhan"), "seed"], env=env, cwd=ROOT, check=True, capture_output=True)
        processes.append(gunicorn("services.booking:create_app()", api_port, env, log))
        processes.append(gunicorn("bench.bare_app:create_app()", bare_port, env, log))
        wait_for(api_port, "/healthz")
        wait_for(bare_port, "/bare")
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
            drive(port, method, make, 1, 4)  # warm up
            result = drive(port, method, make, args.seconds, args.connections)
            results.append((name, result))
            print(f"{name:32} {result['rps']:8.1f} req/s  p50 {result['p50_ms']:7.1f} ms  "
                  f"p99 {result['p99_ms']:7.1f} ms  {result['statuses']}", flush=True)
    finally:
        for process in processes:
            process.terminate()
        for process in processes:
            process.wait(10)
        log.close()
    table = render(results, args)
    print("\n" + table)
    if args.output:
        args.output.write_text(
            "# Benchmarks\n\nWritten by `make bench` (bench/http_bench.py); every figure sits beside a bare "
            "Flask endpoint served the same way in the same run, and the ratio is the figure to compare across "
            f"machines. Measured {time.strftime('%Y-%m-%d')}.\n\n## HTTP: the booking API\n\n" + table)
    shutil.rmtree(work, ignore_errors=True)
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
    sys.exit(main())
