"""Instructions per request, counted by valgrind's callgrind: a figure the machine's load does not move.

    .venv/bin/python bench/instruction_counts.py [--requests 300] [--warm-up 100] [--root DIR] [--endpoint availability]

For availability and POST /bookings, on SQLite and on PostgreSQL when one answers (YIZHAN_BENCH_POSTGRES_URL,
as in bench/http_bench.py): a migrated, seeded booking database, and the booking API in-process behind
Flask's test client, run under `valgrind --tool=callgrind` with its instrumentation off. After 100 requests
to warm up (`--warm-up`), `callgrind_control` switches it on for the counted requests alone, and the script
divides the instructions by their number. `notify.send_message` is the notify pipeline's one task, as
bench/pipeline_bench.py posts it (an e-mail from the template booking_approved): run in-process with
Celery's `apply()`, which goes through the task's contract, transaction, inbox and outbox as a worker's
pool does, and sends each e-mail to a local SMTP sink (`yizhan smtp-sink`, its own process) with the send
locks in a private redis-server. Wall-clock and CPU time on a shared machine move by 10-50 % between runs;
the same code counts the same instructions to within a few tenths of a percent, so two versions of a small
change compare even while other work runs (issue 14).

--root DIR runs the code of another checkout (`git worktree add /tmp/before HEAD~1`), on the same
databases' shape: run it once with each and compare. What it does not count: the database server,
Redis and the SMTP sink (other processes), nothing of gunicorn or HTTP, and nothing of the Celery
worker's taking a task from Redis. POST /bookings also counts the outbox marks'
thread, whose batches vary with how the threads interleave: its count moves by a few percent between runs.
Not part of `make bench`: under valgrind each request runs about fifty times slower.
"""

import argparse
import itertools
import os
import shutil
import subprocess
import sys
import tempfile
from datetime import date, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.common import (SECRET, PostgresDatabases, Processes, booking_request, email_payload,  # noqa: E402
                          migrate_and_seed, run, station_env)
from yizhan.processes import BIN, free_port, port_answers, wait_until  # noqa: E402

ENDPOINTS = ("availability", "POST /bookings", "notify.send_message")
SERVICE = {"availability": "booking", "POST /bookings": "booking", "notify.send_message": "notify"}


def sender(endpoint: str):
    """A call that sends one request (or runs one task) and returns what went wrong, or None."""
    from shared.auth import issue_token

    n = itertools.count()
    if endpoint == "notify.send_message":
        from services.notify import create_app, tasks

        create_app()
        run_id = os.urandom(4).hex()

        def send():
            i = next(n)
            result = tasks.send_message.apply(args=[email_payload(f"count-{run_id}-{i}", i, "指令计数 bench")])
            return None if result.successful() else str(result.traceback)[-300:]
        return send
    from services.booking import create_app

    client = create_app().test_client()
    if endpoint == "availability":
        headers = {"Authorization": f"Bearer {issue_token(SECRET, 'resident', 'bench')}"}
        url = f"/venues/11/availability?date={date.today() + timedelta(days=40)}"
        request = lambda: client.get(url, headers=headers)  # noqa: E731
    else:
        headers = {"Authorization": f"Bearer {issue_token(SECRET, 'staff', 'bench')}"}
        request = lambda: client.post("/bookings", json=booking_request(next(n), "指令计数 bench"), headers=headers)  # noqa: E731

    def send():
        response = request()
        return None if response.status_code in (200, 201) else f"{response.status_code}: {response.get_data(as_text=True)[:300]}"
    return send


def count_in_child(endpoint: str, requests: int, warm_up: int) -> None:
    """Inside valgrind: the requests, counted between the two switches, on the code of --root."""
    sys.path.insert(0, os.environ["YIZHAN_CODE_ROOT"])
    send = sender(endpoint)
    for _ in range(warm_up):
        failure = send()
        if failure:
            raise SystemExit(f"{endpoint} failed: {failure}")
    switch = lambda state: subprocess.run(["callgrind_control", "-i", state, str(os.getpid())],  # noqa: E731
                                          check=True, capture_output=True)
    switch("on")
    for _ in range(requests):
        send()
    switch("off")
    os._exit(0)  # the relay's thread and the pools would otherwise run on, counted for nothing


def count(env: dict, root: Path, endpoint: str, requests: int, warm_up: int, work: Path) -> float:
    out = work / f"callgrind-{endpoint.replace(' ', '_').replace('/', '')}.out"
    done = subprocess.run(["valgrind", "--tool=callgrind", "--instr-atstart=no", f"--callgrind-out-file={out}",
                           sys.executable, __file__, "--child", endpoint, "--requests", str(requests),
                           "--warm-up", str(warm_up)],
                          env={**env, "YIZHAN_CODE_ROOT": str(root)}, cwd=root, capture_output=True, text=True)
    totals = [line for line in out.read_text().splitlines() if line.startswith("totals:")] if out.exists() else []
    if done.returncode or not totals:
        raise SystemExit(f"callgrind run for {endpoint} failed:\n{done.stdout[-2000:]}{done.stderr[-2000:]}")
    return int(totals[0].split()[1]) / requests


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=300, help="requests counted per endpoint")
    parser.add_argument("--warm-up", type=int, default=100,
                        help="requests sent before counting, each under valgrind (about fifty times slower)")
    parser.add_argument("--root", type=Path, default=Path(__file__).resolve().parent.parent,
                        help="the checkout whose code runs")
    parser.add_argument("--endpoint", choices=ENDPOINTS, action="append", help="only this endpoint (repeatable)")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.requests < 1 or args.warm_up < 1:
        parser.error("--requests and --warm-up must be at least 1 (the warm-up also checks that each request works)")
    if args.child:
        count_in_child(args.child, args.requests, args.warm_up)
    if shutil.which("valgrind") is None or shutil.which("callgrind_control") is None:
        raise SystemExit("valgrind is not installed (Debian: apt-get install valgrind)")
    work = Path(tempfile.mkdtemp(prefix="yizhan-instructions-"))
    processes = Processes(work)
    try:
        # The send locks and the tasks the requests publish go to a private Redis; e-mails to a local sink.
        smtp_port = free_port()
        mail = {"REDIS_URL": processes.redis(station_env(work)), "SMTP_HOST": "127.0.0.1", "SMTP_PORT": str(smtp_port),
                "SMTP_SECURITY": "none", "SMTP_USERNAME": "", "SMTP_PASSWORD": ""}
        if "notify.send_message" in (args.endpoint or ENDPOINTS):
            processes.start("smtp-sink", [str(BIN / "yizhan"), "smtp-sink", "--port", str(smtp_port),
                                          "--dir", str(work / "mail")], station_env(work))
            wait_until(lambda: processes.alive("smtp-sink") and port_answers(smtp_port), 20, 0.05, "the SMTP sink")
        for database in ("SQLite", "PostgreSQL"):
            for endpoint in args.endpoint or ENDPOINTS:
                # A fresh database for each count, so that each starts from the same rows.
                service = SERVICE[endpoint]
                postgres = PostgresDatabases.create([service]) if database == "PostgreSQL" else None
                if database == "PostgreSQL" and postgres is None:
                    break
                try:
                    env = station_env(work / database / endpoint.replace("/", "").replace(" ", "_"),
                                      **mail, **(postgres.env() if postgres else {}))
                    migrate_and_seed(env, [service])
                    per_request = count(env, args.root.resolve(), endpoint, args.requests, args.warm_up, work)
                finally:
                    if postgres:
                        postgres.drop()
                unit = "task" if endpoint == "notify.send_message" else "request"
                print(f"{database:10} {endpoint:19} {per_request / 1000:9.0f} k instructions per {unit} "
                      f"({args.requests} {unit}s, the code of {args.root})", flush=True)
    finally:
        processes.stop_all()
        shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    run(main)
