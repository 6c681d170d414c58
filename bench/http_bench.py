"""Load test of the booking API beside a bare Flask endpoint, in one run, on SQLite and on PostgreSQL.

    .venv/bin/python bench/http_bench.py [--seconds 10] [--connections 32] [--output docs/benchmarks.md]

Starts a private redis-server, a fresh SQLite booking database and, when PostgreSQL
answers (YIZHAN_BENCH_POSTGRES_URL, default the local test server; a new database,
dropped afterwards), a fresh PostgreSQL one; a booking API on each and a bare Flask
app, all under the same gunicorn settings (shared/gunicorn_conf.py). Then, database
by database, drives each endpoint and its bare counterpart with N keep-alive
connections for a fixed time. Each booking API has its own PROMETHEUS_MULTIPROC_DIR,
so its /metrics merges its gunicorn workers; read before and after each endpoint's
run, it gives the SQL statements and Redis round trips per request
(shared/work_counts.py). Between each bare endpoint and its real one it also drives
that endpoint's floor (bench/floor_app.py, one per database): the same database and
Redis with no rule checked, one SELECT for the read and one INSERT plus one published
task for the write, the least the real endpoint can cost on this stack. The client
runs on the same machine as the servers, so absolute figures are a lower bound; the
ratio to the bare endpoint measured in the same run is the figure to compare. While
each endpoint is driven, the CPU time of every process that shares the cores (the
app's gunicorn processes, this client, PostgreSQL's processes for the bench's
database, Redis) is read from /proc, per request: where the time goes.
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
from concurrent.futures import ThreadPoolExecutor
from datetime import date, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.common import (BENCH_ORGANIZATIONS, SECRET, CpuMeter, GoalBudget, PostgresDatabases,  # noqa: E402
                          Processes, add_bench_organizations, booking_request, goal_budget_table,
                          child_pids, database_processes, drive, migrate_and_seed, request_work, run, station_env,
                          stop_on_sigterm, with_metrics_dir, work_per_request)
from bench import floor_app  # noqa: E402
from sqlalchemy import create_engine  # noqa: E402
from shared.auth import issue_token  # noqa: E402
from shared.settings import Settings  # noqa: E402

AVAILABILITY = "GET /venues/11/availability"
BOOKING = "POST /bookings"
# Each endpoint beside its bare counterpart, and the route rule its work is counted under.
PAIRS = [(AVAILABILITY, "bare Flask GET /bare", "/venues/<int:venue_id>/availability"),
         (BOOKING, "bare Flask POST /bare", "/bookings")]
# Each endpoint's floor (bench/floor_app.py), measured between the bare endpoint and the real one.
FLOORS = {AVAILABILITY: "floor: one SELECT", BOOKING: "floor: one INSERT, one task"}
# Issue 14's goals: each endpoint's rate at least this share of its bare counterpart's (and for a booking
# a p99 of at most 100 ms).
GOALS = {AVAILABILITY: 0.5, BOOKING: 0.25}
NOTES_HEADING = "## What the time goes to"


def booking_requests():
    """Each POST asks for a different free hour on the culture square, far enough ahead."""
    token = issue_token(SECRET, "staff", "bench")
    headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
    slots = itertools.count()
    lock = threading.Lock()

    def make():
        with lock:
            n = next(slots)
        return "/bookings", json.dumps(booking_request(n, "压力测试 bench", BENCH_ORGANIZATIONS)), headers
    return make


def scenarios(api_port: int, bare_port: int, floor_port: int) -> list[tuple]:
    """(name, port, method, make_request, route rule counted or None): each bare endpoint, then its
    floor, then the real endpoint."""
    auth = {"Authorization": f"Bearer {issue_token(SECRET, 'resident', 'bench')}"}
    availability_day = (date.today() + timedelta(days=40)).isoformat()
    bare_body = json.dumps({"title": "bench", "attendees": 10})
    return [
        ("bare Flask GET /bare", bare_port, "GET", lambda: ("/bare", None, {}), None),
        (FLOORS[AVAILABILITY], floor_port, "GET", lambda: ("/floor/venues/11", None, {}), None),
        (AVAILABILITY, api_port, "GET", lambda: (f"/venues/11/availability?date={availability_day}", None, auth),
         PAIRS[0][2]),
        ("bare Flask POST /bare", bare_port, "POST", lambda: ("/bare", bare_body, {"Content-Type": "application/json"}),
         None),
        (FLOORS[BOOKING], floor_port, "POST", lambda: ("/floor", bare_body, {"Content-Type": "application/json"}), None),
        (BOOKING, api_port, "POST", booking_requests(), PAIRS[1][2]),
    ]


def cpu_roles(processes: Processes, server: str, database_url: str) -> dict:
    """Whatever uses the machine's cores while one endpoint is driven: the app's gunicorn processes (its
    arbiter and workers), this script's threads (the client), the PostgreSQL server's processes for the
    bench's database, and Redis."""
    arbiter = processes.running[server].pid
    return {
        "server": lambda: [arbiter, *child_pids(arbiter)],
        "client": lambda: [os.getpid()],
        "database": database_processes(database_url),
        "redis": lambda: [processes.running["redis"].pid],
    }


def measure(database: str, ports: dict, args, processes: Processes) -> dict:
    """Every scenario against one database's booking API and floor; results by name, with the work and
    the CPU time per request."""
    results = {}
    servers = {ports["api"]: f"booking-api-{database}", ports["floor"]: f"floor-api-{database}",
               ports["bare"]: "bare-api"}
    for name, port, method, make, rule in scenarios(ports["api"], ports["bare"], ports["floor"]):
        drive(port, method, make, min(1, args.seconds), 4)  # warm up
        if name == BOOKING:
            analyze(ports["database_url"])
        before = request_work(port, "booking", rule) if rule else None
        meter = CpuMeter(cpu_roles(processes, servers[port], ports["database_url"]))
        result = drive(port, method, make, args.seconds, args.connections)
        cpu = meter.stop_per(result["requests"])
        if cpu:
            result["cpu"] = cpu
        if rule:
            result["work"] = work_per_request(before, request_work(port, "booking", rule))
        failed = {code: n for code, n in result["statuses"].items() if not 200 <= code < 300}
        if failed:  # an error answered fast must never count as throughput
            raise SystemExit(f"{database} {name}: {sum(failed.values())} requests failed {failed}")
        results[name] = result
        work = f"  {result['work']['sql']:.1f} SQL, {result['work']['redis']:.1f} Redis per request" if rule else ""
        print(f"{database:10} {name:30} {result['rps']:8.1f} req/s  p50 {result['p50_ms']:7.1f} ms  "
              f"p99 {result['p99_ms']:7.1f} ms  {result['statuses']}{work}", flush=True)
    return results


def analyze(database_url: str) -> None:
    """Statistics of the booking database, as PostgreSQL's autovacuum keeps them on a running station
    (it analyses a table once a tenth of it has changed); a new database has none, and the planner
    then guesses (issue 14: it read the quota through the start index, every organisation's month)."""
    engine = create_engine(database_url)
    try:
        with engine.begin() as connection:
            connection.exec_driver_sql("ANALYZE")
    finally:
        engine.dispose()


def start_stations(processes: Processes, work: Path, databases: dict) -> dict:
    """Migrated, seeded booking databases, a booking API and a floor app on each, and the bare app,
    started side by side: database label → {"api", "floor", "bare"} → port."""
    env = station_env(work)
    env["REDIS_URL"] = processes.redis(env)
    envs = {label: with_metrics_dir(station_env(work, REDIS_URL=env["REDIS_URL"], **urls), work, f"booking-{label}")
            for label, urls in databases.items()}
    with ThreadPoolExecutor(len(envs)) as pool:
        list(pool.map(lambda e: migrate_and_seed(e, ["booking"]), envs.values()))
    for e in envs.values():
        floor_app.create_table(Settings.from_env(e).database_url("booking"))
        add_bench_organizations(Settings.from_env(e).database_url("booking"))
    specs = [spec for label, e in envs.items() for spec in (
        (f"booking-api-{label}", "services.booking:create_app()", e),
        (f"floor-api-{label}", "bench.floor_app:create_app()", e))]
    ports = processes.apis(specs + [("bare-api", "bench.bare_app:create_app()", env)])
    return {label: {"api": ports[2 * i], "floor": ports[2 * i + 1], "bare": ports[-1],
                    "database_url": Settings.from_env(envs[label]).database_url("booking")}
            for i, label in enumerate(envs)}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=10)
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--output", type=Path, default=None, help="write the table as Markdown here")
    args = parser.parse_args()

    stop_on_sigterm()
    work = Path(tempfile.mkdtemp(prefix="yizhan-bench-"))
    processes = Processes(work)
    postgres = PostgresDatabases.create(["booking"])
    databases = {"SQLite": {}, **({"PostgreSQL": postgres.env()} if postgres else {})}
    try:
        ports = start_stations(processes, work, databases)
        results = {label: measure(label, ports[label], args, processes) for label in databases}
    finally:
        processes.stop_all()
        if postgres:
            postgres.drop()
        shutil.rmtree(work, ignore_errors=True)
    table = render(results, args)
    print("\n" + table)
    if args.output:
        notes = kept_notes(args.output)
        args.output.write_text(
            "# Benchmarks\n\nWritten by `make bench` (bench/http_bench.py); every figure sits beside a bare "
            "Flask endpoint served the same way in the same run, and the ratio is the figure to compare across "
            f"machines. Measured {time.strftime('%Y-%m-%d')}.\n\n{notes}## HTTP: the booking API\n\n" + table)
    return 0


def kept_notes(output: Path) -> str:
    """The hand-written section on what the time goes to (from a profile, not from this script), kept
    as it stands when the file is written again; its date says which run it describes."""
    text = output.read_text(encoding="utf-8") if output.exists() else ""
    if NOTES_HEADING not in text:
        return ""
    notes = text[text.index(NOTES_HEADING):]
    end = notes.find("\n## ", len(NOTES_HEADING))
    return (notes if end < 0 else notes[:end]).rstrip() + "\n\n"


def render(results: dict, args) -> str:
    lines = [f"`bench/http_bench.py`: {args.connections} keep-alive connections, {args.seconds:g} s per endpoint, "
             f"gunicorn with shared/gunicorn_conf.py ({os.environ.get('YIZHAN_API_WORKERS', '2')} workers × "
             f"{os.environ.get('YIZHAN_API_THREADS', '4')} threads), rate limiting off, client on the same "
             f"{os.cpu_count()}-core machine; one booking API per database, each endpoint measured right after "
             "its bare counterpart and its floor. SQL statements and Redis round trips per request come from the "
             "API's own counters on /metrics (shared/work_counts.py), read before and after the endpoint's run. "
             "A floor (bench/floor_app.py, on the same database and Redis, served the same way) does the least "
             "the endpoint can do on this stack with no rule in it: for availability one SELECT of the venue by "
             "its key; for a booking one transaction that INSERTs one row, then one Celery task published after "
             "the commit. Its ratio bounds the endpoint's; the floors count no work, so their counts read —. "
             f"The bookings take turns among {BENCH_ORGANIZATIONS} organisations, each booking about four times a "
             "month as the station's quota allows (the quota itself is lifted, so that no request is refused), and "
             "the booking database is analysed after their warm-up, as autovacuum keeps a running station's.",
             "",
             "| database | endpoint | req/s | p50 ms | p99 ms | SQL statements / request | Redis round trips / request "
             "| baseline req/s | baseline p99 ms | req/s ratio |",
             "| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |"]
    for database, by_name in results.items():
        for name, baseline, _ in PAIRS:
            b = by_name[baseline]
            for shown in (FLOORS[name], name):
                r = by_name[shown]
                counts = f"{r['work']['sql']:.1f} | {r['work']['redis']:.1f}" if "work" in r else "— | —"
                lines.append(f"| {database} | {shown} | {r['rps']:.0f} | {r['p50_ms']:.1f} | {r['p99_ms']:.1f} | "
                             f"{counts} | {b['rps']:.0f} | {b['p99_ms']:.1f} | {r['rps'] / b['rps']:.2f} |")
    measured = [(database, name, r) for database, by_name in results.items() for name, r in by_name.items()]
    if all("cpu" in r for _, _, r in measured):
        cores = os.cpu_count() or 1
        lines += [
            "",
            "Where the cores go: CPU time per request, in milliseconds, used while the endpoint was driven by each "
            "process, read from /proc: the app's gunicorn processes (the bare app, the floor or the booking API), "
            "this script's client threads, the PostgreSQL server's processes for the bench's database (SQLite runs "
            "inside the app's processes) and Redis. All of them share the machine's "
            f"{cores} cores, so {cores} × 1000 ÷ `all` is the most requests a second the CPU allows; a run near "
            "that figure is bound by CPU, not by waiting.",
            "",
            "| database | endpoint | req/s | app processes | client | PostgreSQL server | Redis | all "
            "| cores allow, req/s |",
            "| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |"]
        for database, name, r in measured:
            c = r["cpu"]
            lines.append(f"| {database} | {name} | {r['rps']:.0f} | {c['server']:.2f} | {c['client']:.2f} | "
                         f"{c['database']:.2f} | {c['redis']:.2f} | {c['all']:.2f} | {cores * 1000 / c['all']:.0f} |")
        lines += goal_budget_table(
            "the app's gunicorn processes", "The client, the PostgreSQL server and Redis", ["database", "endpoint"],
            [([database, name], GoalBudget.of(GOALS[name], by_name[baseline]["rps"], by_name[name]["cpu"], "server",
                                              by_name[baseline]["cpu"], by_name[FLOORS[name]]["cpu"]))
             for database, by_name in results.items() for name, baseline, _ in PAIRS])
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    run(main)
