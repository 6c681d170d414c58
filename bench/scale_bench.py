"""Availability as the bookings table grows: p99 with 100 and with 100,000 bookings, in one run.

    .venv/bin/python bench/scale_bench.py [--seconds 6] [--connections 32] [--bookings 100000] [--output docs/benchmarks.md]

For SQLite, and for PostgreSQL when one answers (YIZHAN_BENCH_POSTGRES_URL, default
the local test server; new databases, dropped afterwards): fresh databases, the
booking API under gunicorn (shared/gunicorn_conf.py) twice over: one station with 100
bookings in its table, one with --bookings. GET /venues/11/availability for one day
is driven with N keep-alive connections on each in turn, four turns each, so that
what else the machine does falls on both. The day asked for holds the same 8
bookings in both, so only the size of the table differs, not the answer.
The other bookings fill every venue's hours, hour by hour, from about two years
back to the weeks ahead: past ones completed, cancelled, rejected or no-shows;
future ones approved or waiting for review. They are written straight into the
table (the API would take an hour), with no ANALYZE: the database as the service
leaves it. A bare Flask GET measured in the same run is the cross-machine baseline.
"""

import argparse
import itertools
import os
import shutil
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import date, datetime, timedelta
from pathlib import Path

from sqlalchemy import create_engine, insert, select

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.common import (SECRET, PostgresDatabases, Processes, drive, migrate_and_seed, publish,  # noqa: E402
                          run, station_env, stop_on_sigterm, summarise)
from services.booking.domain.statuses import APPROVED, CANCELLED, COMPLETED, NO_SHOW, PENDING_REVIEW, REJECTED  # noqa: E402
from services.booking.models import Booking, Organization, Venue  # noqa: E402
from shared.auth import issue_token  # noqa: E402
from shared.timefmt import STATION_TZ  # noqa: E402

VENUE_ID = 11
QUERY_DAY = date.today() + timedelta(days=40)
SMALL = 100
DAY_HOURS = range(8, 20)  # 12 one-hour bookings a venue a day
PAST_STATUSES = (COMPLETED,) * 16 + (CANCELLED,) * 2 + (NO_SHOW,) + (REJECTED,)
FUTURE_STATUSES = (APPROVED,) * 3 + (PENDING_REVIEW,)
CHUNK = 5000
ROUNDS = 4  # each size's load comes in this many turns, the sizes alternating: drift falls on both


def fixed_bookings() -> list[dict]:
    """The day the benchmark asks about: 8 of its hours booked, the same in both runs."""
    return [row(VENUE_ID, 1, QUERY_DAY, hour, APPROVED) for hour in (8, 9, 10, 13, 14, 15, 18, 19)]


def row(venue_id: int, organization_id: int, day: date, hour: int, status: str) -> dict:
    start = datetime.combine(day, datetime.min.time(), tzinfo=STATION_TZ) + timedelta(hours=hour)
    return {"venue_id": venue_id, "organization_id": organization_id, "start": start, "end": start + timedelta(hours=1),
            "title": f"规模测试 scale {day} {hour:02d}:00", "attendees": 10, "contact_name": "测试",
            "contact_phone": "13800000000", "status": status, "created_by": "bench",
            "created_at": start - timedelta(days=7)}


def filler(venues: list[int], organizations: list[int], total: int):
    """Rows for every venue's hours, day by day, starting so that about `total` rows reach a few weeks ahead."""
    per_day = len(venues) * len(DAY_HOURS)
    first = QUERY_DAY + timedelta(days=20) - timedelta(days=total // per_day + 1)
    today = date.today()
    organization = itertools.cycle(organizations)
    past, future = itertools.cycle(PAST_STATUSES), itertools.cycle(FUTURE_STATUSES)
    for offset in itertools.count():
        day = first + timedelta(days=offset)
        for venue in venues:
            if day == QUERY_DAY and venue == VENUE_ID:
                continue  # fixed_bookings()
            for hour in DAY_HOURS:
                yield row(venue, next(organization), day, hour, next(past) if day < today else next(future))


def write_rows(engine, rows, count: int, label: str) -> float:
    table = Booking.__table__
    began = time.monotonic()
    written = 0
    while written < count:
        chunk = list(itertools.islice(rows, min(CHUNK, count - written)))
        with engine.begin() as conn:
            conn.execute(insert(table), chunk)
        written += len(chunk)
        if written % 20000 < CHUNK or written == count:
            print(f"  {label}: {written}/{count} bookings written, {time.monotonic() - began:.0f} s", flush=True)
    return time.monotonic() - began


def prepare(processes: Processes, name: str, databases: dict | None, work: Path, total: int) -> int:
    """A migrated, seeded station holding `total` bookings, and its booking API; the API's port."""
    work.mkdir()
    env = station_env(work, **(databases or {}))
    env["REDIS_URL"] = processes.redis(env, name=f"{name}-redis")
    migrate_and_seed(env, ["booking"])
    engine = create_engine(env.get("BOOKING_DATABASE_URL") or f"sqlite:///{work / 'booking.db'}")
    try:
        with engine.connect() as conn:
            venues = sorted(conn.scalars(select(Venue.id).where(Venue.bookable)).all())
            organizations = sorted(conn.scalars(select(Organization.id)).all())
        fixed = fixed_bookings()
        write_rows(engine, iter(fixed), len(fixed), name)
        seconds = write_rows(engine, filler(venues, organizations, total), total - len(fixed), name)
        print(f"  {name}: {total - len(fixed):,} bookings written in {seconds:.1f} s", flush=True)
    finally:
        engine.dispose()
    return processes.api(f"{name}-api", "services.booking:create_app()", env)


def measure(backend: str, databases: list[dict | None], work: Path, args, auth: dict) -> list[dict]:
    """Both sizes on one kind of database, side by side, driven in turns; a result per size."""
    processes = Processes(work)
    sizes = (SMALL, args.bookings)
    path = f"/venues/{VENUE_ID}/availability?date={QUERY_DAY.isoformat()}"
    try:
        with ThreadPoolExecutor(len(sizes)) as pool:  # the two stations get ready side by side
            ports = list(pool.map(lambda plan: prepare(processes, f"{backend}-{plan[0]}", plan[1],
                                                       work / f"{backend}-{plan[0]}", plan[0]),
                                  zip(sizes, databases)))
        runs = {total: [] for total in sizes}
        for port in ports:
            drive(port, "GET", lambda: (path, None, auth), min(2, args.seconds), args.connections)  # warm up
        for _ in range(ROUNDS):
            for total, port in zip(sizes, ports):
                runs[total].append(drive(port, "GET", lambda: (path, None, auth), args.seconds / ROUNDS,
                                         args.connections)["run"])
        results = []
        for total in sizes:
            result = summarise(runs[total])
            if set(result["statuses"]) != {200}:
                raise SystemExit(f"{backend} with {total} bookings answered {result['statuses']}")
            result.update(backend=backend, bookings=total)
            results.append(result)
            print(f"{backend:10} {total:>7} bookings  {result['rps']:7.1f} req/s  p50 {result['p50_ms']:6.1f} ms  "
                  f"p99 {result['p99_ms']:6.1f} ms", flush=True)
        return results
    finally:
        processes.stop_all()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=6, help="seconds of load per run")
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--bookings", type=int, default=100_000, help="bookings in the table for the second run")
    parser.add_argument("--output", type=Path, default=None, help="append the table as Markdown to this file")
    args = parser.parse_args()
    if args.bookings <= SMALL:
        parser.error(f"--bookings must be more than {SMALL}")

    stop_on_sigterm()
    token = issue_token(SECRET, "resident", "bench")
    auth = {"Authorization": f"Bearer {token}"}
    results, baseline = [], None
    work = Path(tempfile.mkdtemp(prefix="yizhan-scale-bench-"))
    try:
        processes = Processes(work)
        try:
            env = station_env(work)
            port = processes.api("bare-api", "bench.bare_app:create_app()", env)
            drive(port, "GET", lambda: ("/bare", None, {}), min(2, args.seconds), args.connections)  # warm up
            baseline = drive(port, "GET", lambda: ("/bare", None, {}), args.seconds, args.connections)
            print(f"bare Flask GET /bare        {baseline['rps']:7.1f} req/s  p99 {baseline['p99_ms']:6.1f} ms", flush=True)
        finally:
            processes.stop_all()
        results += measure("SQLite", [None, None], work, args, auth)
        first = PostgresDatabases.create(["booking"])
        postgres = [first, first and PostgresDatabases.create(["booking"])]
        try:
            if None not in postgres:
                results += measure("PostgreSQL", [db.env() for db in postgres], work, args, auth)
        finally:
            for db in postgres:
                if db is not None:
                    db.drop()
    finally:
        shutil.rmtree(work, ignore_errors=True)

    publish(render(results, baseline, args), "Scale: availability as bookings grow", args.output)
    return 0


def render(results: list[dict], baseline: dict, args) -> str:
    lines = [f"`bench/scale_bench.py`: GET /venues/{VENUE_ID}/availability for one day that holds 8 bookings, "
             f"{args.connections} keep-alive connections, {args.seconds:g} s per size in {ROUNDS} turns alternating "
             f"between two stations, one with {SMALL} and one with {args.bookings:,} bookings in its table (about two years of every bookable venue's hours, written "
             "straight into the table, no ANALYZE). Booking API under gunicorn with shared/gunicorn_conf.py "
             f"({os.environ.get('YIZHAN_API_WORKERS', '2')} workers × {os.environ.get('YIZHAN_API_THREADS', '4')} "
             f"threads), client on the same {os.cpu_count()}-core machine. Baseline: a bare Flask GET served the "
             f"same way in the same run, {baseline['rps']:.0f} req/s, p99 {baseline['p99_ms']:.1f} ms.",
             "",
             "| database | bookings | req/s | p50 ms | p99 ms | p99 ÷ p99 at 100 | req/s ÷ bare Flask |",
             "| --- | ---: | ---: | ---: | ---: | ---: | ---: |"]
    small = {r["backend"]: r for r in results if r["bookings"] == SMALL}
    for r in results:
        lines.append(f"| {r['backend']} | {r['bookings']:,} | {r['rps']:.0f} | {r['p50_ms']:.1f} | {r['p99_ms']:.1f} | "
                     f"{r['p99_ms'] / small[r['backend']]['p99_ms']:.2f} | {r['rps'] / baseline['rps']:.2f} |")
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    run(main)
