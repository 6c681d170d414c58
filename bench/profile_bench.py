"""Where a request's time goes: cProfile of GET /venues/11/availability and POST /bookings in the running booking API.

    .venv/bin/python bench/profile_bench.py [--seconds 5] [--output docs/benchmarks.md]

For SQLite, and for PostgreSQL when one answers (YIZHAN_BENCH_POSTGRES_URL, as in
bench/http_bench.py): a fresh booking database and the booking API under gunicorn with
bench/profiled_gunicorn_conf.py (the services' settings plus a cProfile per endpoint),
one worker with one thread, so that a profile follows one request at a time and no
time goes to waiting for another. One keep-alive connection drives each endpoint for
a fixed time, after a warm-up the profile leaves out. The profile covers gunicorn's
handling of each request, from its pre_request hook to its post_request hook.

Two views of the same profile: self time (time in a function's own code) summed by
where the code lives — a package, yizhan's own modules, the database driver, waiting
on a socket — which adds up to the whole request; and the project functions that take
the most time including what they call (shares overlap where one calls another).
cProfile's own overhead inflates the many small calls, so the shares matter, not the
milliseconds.
"""

import argparse
import json
import pstats
import shutil
import sys
import tempfile
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.common import (ROOT, PostgresDatabases, Processes, add_bench_organizations, drive, http_answers,  # noqa: E402
                          migrate_and_seed, publish, run, station_env, stop_on_sigterm)
from bench.http_bench import AVAILABILITY, BOOKING, scenarios  # noqa: E402
from shared.settings import Settings  # noqa: E402
from yizhan.processes import BIN, free_port, wait_until  # noqa: E402

TOP_GROUPS = 6
TOP_FUNCTIONS = 6
# Project functions that only hand a request on (shared/auth.py `requires`, the WSGI middleware of
# shared/security_headers.py), left out of the list of project functions: they would head it, saying nothing.
WRAPPERS = {"wrapper", "__call__"}


def profiled(make):
    """The same requests, asking the API to profile them (bench/profiled_gunicorn_conf.py)."""
    def make_profiled():
        path, body, headers = make()
        return path, body, {**headers, "X-Profile": "1"}
    return make_profiled


def start_station(processes: Processes, work: Path, database: str, urls: dict) -> tuple[int, Path]:
    """A migrated, seeded booking database and the profiling API on it: its port and where it writes profiles."""
    profile_dir = work / database / "profiles"
    profile_dir.mkdir(parents=True)
    env = station_env(work / database, **urls, YIZHAN_API_WORKERS="1", YIZHAN_API_THREADS="1",
                      YIZHAN_PROFILE_DIR=str(profile_dir))
    env["REDIS_URL"] = processes.redis(env, name=f"{database}-redis")
    migrate_and_seed(env, ["booking"])
    add_bench_organizations(Settings.from_env(env).database_url("booking"))  # http_bench's bookings name them
    port = free_port()
    name = f"booking-api-{database}"
    processes.start(name, [str(BIN / "gunicorn"), "--config", "python:bench.profiled_gunicorn_conf",
                           "--bind", f"127.0.0.1:{port}", "services.booking:create_app()"], env)
    wait_until(lambda: processes.alive(name) and http_answers(port, "/healthz"), 60, 0.2, f"{name} on port {port}")
    return port, profile_dir


def profile_station(processes: Processes, database: str, port: int, profile_dir: Path, seconds: float) -> dict:
    """Drive each endpoint on one database's API, stop it, and read its profiles, by endpoint."""
    counts = {}
    for endpoint, _, method, make, rule in scenarios(port, port, port):
        if rule is None:
            continue  # the bare endpoints and the floors: nothing to profile
        drive(port, method, make, min(1, seconds), 1)  # warm up, unprofiled
        result = drive(port, method, profiled(make), seconds, 1)
        counts[endpoint] = (method, result["requests"])
        print(f"{database:10} {endpoint:30} {result['requests']} requests profiled {result['statuses']}", flush=True)
    processes.stop(f"booking-api-{database}")  # its worker dumps its profiles as it exits
    files = {f.name: f for f in profile_dir.glob("*.prof")}
    profiles = {}
    for endpoint, (method, requests) in counts.items():
        mine = [f for name, f in files.items() if name.startswith(method)
                and ("availability" in name) == (endpoint == AVAILABILITY)]
        if not mine:
            raise SystemExit(f"no profile written for {endpoint}: {sorted(files)}")
        profiles[endpoint] = analyse(pstats.Stats(*map(str, mine)), requests)
    return profiles


def where(filename: str, function: str) -> str:
    """The group a function's self time counts under."""
    if filename == "~":  # a built-in
        if "sqlite3" in function:
            return "sqlite3 (the statements in SQLite itself)"
        if any(word in function for word in ("socket", "recv", "send", "select", "poll")):
            return "socket I/O (the HTTP client, PostgreSQL, Redis)"
        return "built-in functions"
    path = Path(filename)
    if not path.is_absolute():  # code a library generates at run time, e.g. "<sqlalchemy generated ...>"
        return filename.strip("<>").split()[0]
    if "site-packages" in path.parts:
        return path.parts[path.parts.index("site-packages") + 1].removesuffix(".py")
    if not path.is_relative_to(ROOT):
        return f"standard library: {path.parent.name if path.name == '__init__.py' else path.stem}"
    return "yizhan: " + "/".join(path.relative_to(ROOT).parts[:2]).removesuffix(".py")


def analyse(stats: pstats.Stats, requests: int) -> dict:
    total = stats.total_tt
    groups = {}
    project = []
    for (filename, line, function), (_, _, self_time, cumulative, _) in stats.stats.items():
        group = where(filename, function)
        groups[group] = groups.get(group, 0) + self_time
        if group.startswith("yizhan: ") and function not in WRAPPERS:
            project.append((cumulative, f"{Path(filename).relative_to(ROOT)}:{function}"))
    return {"ms_per_request": total * 1000 / requests, "requests": requests,
            "groups": sorted(((t / total, g) for g, t in groups.items()), reverse=True)[:TOP_GROUPS],
            "functions": [(c / total, f) for c, f in sorted(project, reverse=True)[:TOP_FUNCTIONS]]}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=5, help="seconds of profiled requests per endpoint")
    parser.add_argument("--output", type=Path, default=None, help="append the table as Markdown to this file")
    args = parser.parse_args()

    stop_on_sigterm()
    work = Path(tempfile.mkdtemp(prefix="yizhan-profile-bench-"))
    processes = Processes(work)
    postgres = PostgresDatabases.create(["booking"])
    databases = {"SQLite": {}, **({"PostgreSQL": postgres.env()} if postgres else {})}
    try:
        with ThreadPoolExecutor(len(databases)) as pool:  # the stations get ready side by side
            stations = dict(zip(databases, pool.map(lambda item: start_station(processes, work, *item),
                                                    databases.items())))
        results = {database: profile_station(processes, database, *stations[database], args.seconds)
                   for database in databases}
    finally:
        processes.stop_all()
        if postgres:
            postgres.drop()
        shutil.rmtree(work, ignore_errors=True)
    print(json.dumps(results, indent=1, ensure_ascii=False))
    publish(render(results, args), "Profile: where a request's time goes", args.output)
    return 0


def render(results: dict, args) -> str:
    lines = [f"`bench/profile_bench.py`: cProfile in the running booking API (gunicorn with "
             f"bench/profiled_gunicorn_conf.py, one worker, one thread), one connection, {args.seconds:g} s per "
             "endpoint after an unprofiled warm-up. Self time by where the code lives adds up to the whole request; "
             "project functions are counted with what they call (shares overlap; decorators that only hand on are left out). Profiling slows many small calls most, so compare shares, not milliseconds.",
             "",
             "| database | endpoint | requests | ms per request, profiled | self time by where the code lives "
             "| project functions, with what they call |",
             "| --- | --- | ---: | ---: | --- | --- |"]
    for database, by_endpoint in results.items():
        for endpoint in (AVAILABILITY, BOOKING):
            r = by_endpoint[endpoint]
            groups = "; ".join(f"{group} {share:.0%}" for share, group in r["groups"])
            functions = "; ".join(f"`{function}` {share:.0%}" for share, function in r["functions"])
            lines.append(f"| {database} | {endpoint} | {r['requests']} | {r['ms_per_request']:.1f} | {groups} | "
                         f"{functions} |")
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    run(main)
