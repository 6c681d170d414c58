"""What every benchmark script needs: ports, processes, a private Redis, databases, a load driver.

Each script starts its own processes, each in its own session (so a worker's pool
children stop with it), logs them under a temporary directory, and stops them all
on the way out, on Ctrl-C and on SIGTERM too.
"""

import http.client
import os
import shutil
import signal
import statistics
import subprocess
import sys
import threading
import time
import urllib.request
import uuid
from dataclasses import dataclass
from datetime import date, datetime, timedelta, timezone
from pathlib import Path

import redis
from prometheus_client.parser import text_string_to_metric_families
from sqlalchemy import create_engine, func, make_url, select, text

from yizhan.processes import BIN, free_port, start_process, stop_together, wait_until

ROOT = Path(__file__).resolve().parent.parent
SECRET = "bench-secret-0123456789abcdef0123456789"
MARKS_UNIT = "outbox marks"  # shared.outbox.MARKS_UNIT; not imported, as SERVICES below
SERVICES = ("booking", "desk", "notify")  # shared.settings.SERVICES; not imported, so no app settings load here
POSTGRES_ADMIN_URL = os.environ.get("YIZHAN_BENCH_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")


def stop_on_sigterm() -> None:
    """A SIGTERM (make interrupted, a CI timeout) unwinds like Ctrl-C, through each script's clean-up."""
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))


def run(main) -> None:
    """A script's entry point: its exit status, or the line saying what it waited for in vain."""
    try:
        sys.exit(main())
    except TimeoutError as exc:
        sys.exit(str(exc))


def publish(table: str, heading: str, output: Path | None) -> None:
    """Print a script's table and append it, under its heading, to the Markdown file (docs/benchmarks.md)."""
    print("\n" + table)
    if output:
        with output.open("a", encoding="utf-8") as out:
            out.write(f"\n## {heading}\n\n" + table)


# Outdoor venues open 06:00–22:00 every day (services/booking/seed_data.py): the culture square and three courts.
BENCH_VENUES = (11, 8, 9, 10)


# A station's quota lets an organisation book 4 times a month (services/booking/policy.py). The benchmark's
# 60 bookings a day (four venues, 15 hours each) keep to that only when spread over this many organisations,
# each booking once every 8 days; with the demo's 4 each would hold about 450 a month, and the quota's
# check would read them all at every request (issue 14).
BENCH_ORGANIZATIONS = 480


def booking_request(n: int, title: str, organizations: int = 4) -> dict:
    """The body of the n-th benchmark booking: a different free hour for each n, on one of four outdoor
    venues in turn, from a month ahead (so the notice rule never refuses it) to the 180-day horizon:
    9,000 requests before one is refused. The organisations 1 to `organizations` take turns; beyond the
    demo's four they must first be made (add_bench_organizations)."""
    venue, slot = BENCH_VENUES[n % len(BENCH_VENUES)], n // len(BENCH_VENUES)
    day = date.today() + timedelta(days=30 + slot // 15)
    hour = 6 + slot % 15
    return {"venue_id": venue, "organization_id": 1 + n % organizations, "title": title, "attendees": 10,
            "start": f"{day}T{hour:02d}:00:00+08:00", "end": f"{day}T{hour + 1:02d}:00:00+08:00",
            "contact": {"name": "测试", "phone": "13800000000"}}


def email_payload(key: str, n: int, title: str) -> dict:
    """The n-th `notify.send_message` e-mail of a benchmark (template booking_approved), idempotency key `key`."""
    return {"v": 1, "idempotency_key": key, "channel": "email", "recipient": f"bench{n}@example.org",
            "template": "booking_approved", "locale": "zh-CN",
            "params": {"title": f"{title} {n}", "venue": "文化广场", "start": "2030-01-01 09:00", "booking_id": n}}


def quantile_cuts(values: list[float], method: str = "exclusive") -> list[float]:
    """The 99 cut points of values; a single value is every cut (statistics.quantiles wants two)."""
    if not values:
        raise ValueError("no values to take percentiles of")
    if len(values) == 1:
        return values * 99
    return statistics.quantiles(values, n=100, method=method)


def percentiles(values: list[float]) -> dict:
    cuts = quantile_cuts(values, method="inclusive")
    return {"p50": cuts[49], "p90": cuts[89], "p99": cuts[98], "max": max(values), "n": len(values)}


# --- CPU time by process, read from /proc (Linux; elsewhere nothing is measured) ------------------

CLOCK_TICKS = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100


def _stat_fields(pid: int) -> list[str] | None:
    """/proc/<pid>/stat after the command name (which may hold spaces): state is [0], ppid [1]."""
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except (OSError, IndexError):
        return None


def cpu_seconds(pid: int) -> float:
    """CPU time the process's threads have used so far, to the nanosecond from each thread's schedstat
    (a run of a few tasks uses less than one clock tick in some processes); from /proc/<pid>/stat's
    user and system ticks where the kernel keeps no schedstat; 0.0 once the process is gone. For this
    very process, its clock (CLOCK_PROCESS_CPUTIME_ID), which also holds threads that have ended: a
    benchmark's client threads end before it reads the figure."""
    if pid == os.getpid():
        return time.process_time()
    try:
        return sum(int((thread / "schedstat").read_text().split()[0])
                   for thread in Path(f"/proc/{pid}/task").iterdir()) / 1e9
    except (OSError, ValueError, IndexError):
        fields = _stat_fields(pid)
        return (int(fields[11]) + int(fields[12])) / CLOCK_TICKS if fields else 0.0


def _pids() -> list[int]:
    return [int(name) for name in os.listdir("/proc") if name.isdigit()] if os.path.isdir("/proc") else []


def child_pids(parent: int) -> list[int]:
    return [pid for pid in _pids() if (fields := _stat_fields(pid)) and fields[1] == str(parent)]


def postgres_backends(database: str) -> list[int]:
    """The PostgreSQL server processes serving connections to `database` ("postgres: … <database> …")."""
    found = []
    for pid in _pids():
        try:
            title = Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
        except OSError:
            continue
        if title.startswith("postgres: ") and f" {database} " in title:
            found.append(pid)
    return found


def database_processes(database_url: str):
    """A CpuMeter role: the PostgreSQL server's processes for the database at `database_url`; none for
    SQLite, which runs inside the processes that use it."""
    url = make_url(database_url)
    return (lambda: postgres_backends(url.database)) if url.get_backend_name() == "postgresql" else list


class CpuMeter:
    """The CPU time each role's processes use between start and stop. A role is a function that
    names its processes' pids at that moment, so processes that appear during the run (a database
    connection opened by a worker) count from zero; one that ends before stop is not counted."""

    def __init__(self, roles: dict):
        self.roles = roles
        self.started = self._read()

    def _read(self) -> dict:
        return {role: {pid: cpu_seconds(pid) for pid in pids()} for role, pids in self.roles.items()}

    def stop(self) -> dict[str, float]:
        """CPU seconds by role; empty where /proc cannot be read."""
        if not os.path.isdir("/proc"):
            return {}
        ended = self._read()
        return {role: sum(max(seconds - self.started[role].get(pid, 0.0), 0.0) for pid, seconds in ended[role].items())
                for role in self.roles}

    def stop_per(self, n: int) -> dict[str, float]:
        """As stop(), in milliseconds per request or task of the `n` the run served, with their sum as "all"."""
        per = {role: seconds * 1000 / n for role, seconds in self.stop().items()}
        return {**per, "all": sum(per.values())} if per else {}


@dataclass(frozen=True)
class GoalBudget:
    """What issue 14's goal for one path leaves to the code that runs the path, in CPU per request (or
    task), from figures measured in one run. The goal asks for `goal` × the baseline's rate; no run goes
    faster than its cores allow (cores × 1000 ÷ its CPU in all), so the goal allows at most `allowed` ms
    in all. The processes that are not the path's own code (the client, the database server, Redis, and
    for a task Celery's main process and the SMTP sink) spent `outside` of that in this run, which leaves
    `left` to the path's own processes: where that is less than the baseline's own processes spend
    (`bare`), no code there could meet the goal while the others spend what they spend now; where it is
    less than the floor's own processes spend (`floor`, the least the path's work costs on this stack with
    no rule in it), the path's code could not meet it even if it cost no more than the floor's."""

    goal: float
    allowed: float
    outside: float
    bare: float
    floor: float
    now: float

    @classmethod
    def of(cls, goal: float, baseline_rate: float, cpu: dict, own: str, baseline_cpu: dict,
           floor_cpu: dict) -> "GoalBudget":
        allowed = (os.cpu_count() or 1) * 1000 / (goal * baseline_rate)
        return cls(goal, allowed, cpu["all"] - cpu[own], baseline_cpu[own], floor_cpu[own], cpu[own])

    @property
    def left(self) -> float:
        return self.allowed - self.outside

    def cells(self) -> str:
        """Its Markdown cells, from the goal to the path's own processes now."""
        return (f"{self.goal:g} | {self.allowed:.2f} | {self.outside:.2f} | {self.left:.2f} | {self.bare:.2f} | "
                f"{self.floor:.2f} | {self.now:.2f}")


def goal_budget_table(own: str, others: str, first_columns: list[str],
                      rows: list[tuple[list[str], GoalBudget]]) -> list[str]:
    """The lines of a section's table of what the goals leave (GoalBudget), after a blank line: `own` names
    the path's own processes, `others` the rest; each row is its first cells and its budget."""
    cores = os.cpu_count() or 1
    return [
        "",
        f"What the goals leave to {own} (issue 14): a goal asks for a share of its baseline's rate, and no run goes "
        f"faster than {cores} × 1000 ÷ `all`, so the goal allows at most the CPU in all of the column after it. "
        f"{others} spent the next column in this run, which leaves the one after it to {own}. Where that is "
        "less than the baseline's own processes spend, no code there could meet the goal while the others spend "
        "what they spend now; where it is less than the floor's own processes spend, the path could not meet it "
        "even if its rules cost nothing.",
        "",
        "| " + " | ".join(first_columns) + " | goal, ratio to the baseline | CPU the goal allows in all, ms | spent "
        "outside the path's own processes, ms | left to them, ms | the baseline's own processes spend, ms | the "
        "floor's own processes spend, ms | the path's own processes spend now, ms |",
        "| " + " | ".join("---" for _ in first_columns) + " |" + " ---: |" * 7,
        *(f"| {' | '.join(cells)} | {budget.cells()} |" for cells, budget in rows)]


class Processes:
    """Every process a run started, each in its own session so a worker's pool children go with it."""

    def __init__(self, work: Path):
        self.work = work
        self.running: dict[str, subprocess.Popen] = {}

    def start(self, name: str, argv: list[str], env: dict) -> subprocess.Popen:
        process = start_process(argv, env, self.work / f"{name}.log", cwd=ROOT)
        self.running[name] = process
        return process

    def log(self, name: str) -> str:
        path = self.work / f"{name}.log"
        return path.read_text(errors="replace") if path.exists() else ""

    def alive(self, name: str) -> bool:
        process = self.running[name]
        if process.poll() is not None:
            raise SystemExit(f"{name} exited ({process.returncode}):\n{self.log(name)[-3000:]}")
        return True

    def stop(self, *names: str, timeout: float = 20) -> None:
        """SIGTERM to each (its whole session), a wait of up to `timeout` for all of them, then SIGKILL."""
        stop_together([p for p in (self.running.pop(name, None) for name in names) if p is not None], timeout)

    def stop_all(self) -> None:
        """Everything together, then the redis-servers, which the others may need to shut down cleanly."""
        self.stop(*[name for name in self.running if not name.endswith("redis")])
        self.stop(*list(self.running))

    # --- the kinds of process a benchmark starts ---

    def redis(self, env: dict, name: str = "redis") -> str:
        """A private redis-server that keeps nothing; its URL, once it answers."""
        port = free_port()
        url = f"redis://127.0.0.1:{port}/0"
        self.start(name, ["redis-server", "--port", str(port), "--bind", "127.0.0.1", "--save", "",
                             "--appendonly", "no", "--dir", str(self.work)], env)
        client = redis.Redis.from_url(url, socket_connect_timeout=1)

        def answers():
            self.alive(name)
            try:
                return client.ping()
            except redis.ConnectionError:
                return False
        try:
            wait_until(answers, 10, 0.05, "redis-server")
        finally:
            client.close()
        return url

    def api(self, name: str, app: str, env: dict) -> int:
        return self.apis([(name, app, env)])[0]

    def apis(self, specs: list[tuple[str, str, dict]]) -> list[int]:
        """Apps (name, app, env) under gunicorn with the services' settings (shared/gunicorn_conf.py),
        started together; their ports, once each answers."""
        ports = []
        for name, app, env in specs:
            ports.append(free_port())
            self.start(name, [str(BIN / "gunicorn"), "--config", "python:shared.gunicorn_conf",
                              "--bind", f"127.0.0.1:{ports[-1]}", app], env)
        for (name, *_), port in zip(specs, ports):
            wait_until(lambda: self.alive(name) and http_answers(port, "/healthz"), 60, 0.2, f"{name} on port {port}")
        return ports

    def worker(self, name: str, app: str, queue: str, env: dict, concurrency: int | None = None) -> None:
        self.workers([(name, app, queue, env)], concurrency)

    def workers(self, specs: list[tuple[str, str, str, dict]], concurrency: int | None = None) -> None:
        """Celery workers (name, app, queue, env) with the options the local station and compose use,
        started together on one redis-server; returns once every one consumes."""
        client = redis.Redis.from_url(specs[0][3]["REDIS_URL"], decode_responses=True)
        try:
            before = {c.get("id") for c in client.client_list()}
            for name, app, queue, env in specs:
                argv = [str(BIN / "celery"), "-A", app, "worker", "-Q", queue, "--hostname", f"{name}@%h",
                        "--loglevel", "WARNING", "--without-gossip", "--without-mingle", "--without-heartbeat"]
                if concurrency:
                    argv += ["--concurrency", str(concurrency)]
                self.start(name, argv, env)

            def consuming():
                # "ready." is an INFO line and benchmarks log WARNING, so: one new client blocked in BLMOVE
                # (shared.broker; BRPOP under kombu's own transport) per worker, which a consumer issues
                # only once its pool is up.
                for name, *_ in specs:
                    self.alive(name)
                blocked = [c for c in client.client_list() if c.get("cmd") in ("blmove", "brpop") and c.get("id") not in before]
                return len(blocked) >= len(specs)
            wait_until(consuming, 90, 0.1, f"{', '.join(s[0] for s in specs)} to consume")
        finally:
            client.close()


def with_metrics_dir(env: dict, work: Path, name: str) -> dict:
    """`env` for a process whose several children (gunicorn workers, a Celery pool) must merge their
    figures on /metrics: a fresh PROMETHEUS_MULTIPROC_DIR of its own (shared/observability.py `_registry`,
    prometheus_client "Multiprocess Mode"), as yizhan/local_station.py gives each API."""
    metrics_dir = work / "prometheus" / name
    shutil.rmtree(metrics_dir, ignore_errors=True)
    metrics_dir.mkdir(parents=True)
    return {**env, "PROMETHEUS_MULTIPROC_DIR": str(metrics_dir)}


def scrape(url: str) -> list:
    """Every sample a Prometheus /metrics endpoint shows now."""
    with urllib.request.urlopen(url, timeout=10) as response:
        body = response.read().decode("utf-8")
    return [sample for family in text_string_to_metric_families(body) for sample in family.samples]


def sample_sum(samples: list, name: str, **labels) -> float:
    """The sum of the samples called `name` whose labels include `labels` (over every other label)."""
    return sum(s.value for s in samples if s.name == name and all(s.labels.get(k) == v for k, v in labels.items()))


def work_done(samples: list, service: str, unit: str) -> dict:
    """What shared/work_counts.py has counted for one unit (a route rule or a task name): SQL statements
    and Redis round trips."""
    return {"sql": sample_sum(samples, "yizhan_sql_statements_total", service=service, unit=unit),
            "redis": sample_sum(samples, "yizhan_redis_round_trips_total", service=service, unit=unit)}


def request_work(port: int, service: str, endpoint: str) -> dict:
    """A running API's counts for one endpoint (its route rule): requests answered, statements, round trips,
    and the statements of the outbox's batched marks (shared/outbox.py PublishedMarks, its own unit)."""
    samples = scrape(f"http://127.0.0.1:{port}/metrics")
    return {"requests": sample_sum(samples, "yizhan_http_requests_total", service=service, endpoint=endpoint),
            **work_done(samples, service, endpoint),
            "marks": work_done(samples, service, MARKS_UNIT)["sql"]}


def work_per_request(before: dict, after: dict) -> dict:
    """Statements and round trips per request between two readings of request_work(); the statements
    include the request's share of the outbox marks made meanwhile (one run drives one endpoint)."""
    requests = after["requests"] - before["requests"]
    if requests <= 0:
        raise SystemExit(f"no request counted between two readings of /metrics: {before} → {after}")
    work = {key: (after[key] - before[key]) / requests for key in ("sql", "redis")}
    work["sql"] += (after.get("marks", 0) - before.get("marks", 0)) / requests
    return work


def http_answers(port: int, path: str) -> bool:
    try:
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
        connection.request("GET", path)
        return connection.getresponse().status < 500
    except OSError:
        return False


def station_env(work: Path, **overrides) -> dict:
    """The environment of a benchmark's station: test mode, its own directory, no caps that load would trip."""
    env = {**os.environ, "YIZHAN_ENV": "test", "YIZHAN_SECRET_KEY": SECRET, "YIZHAN_VAR_DIR": str(work),
           "YIZHAN_LOG_LEVEL": "WARNING", "PYTHONUNBUFFERED": "1",
           "BOOKING_MONTHLY_QUOTA": "1000000", "BOOKING_MONTHLY_HOURS": "1000000",
           "NOTIFY_QUIET_START": "00:00", "NOTIFY_QUIET_END": "00:00", "NOTIFY_SMS_DAILY_CAP": "1000000",
           # e2e_bench texts one booker 200 times for organisations whose contact is someone else.
           "NOTIFY_ON_BEHALF_DAILY_CAP": "1000000",
           "YIZHAN_RATE_LIMIT_PER_MINUTE": "0"}
    for service in SERVICES:  # the SQLite files under <work>, unless a caller names other databases
        env.pop(f"{service.upper()}_DATABASE_URL", None)
    env.update(overrides)
    return env


def migrate_and_seed(env: dict, services=SERVICES) -> None:
    for command in ("migrate", "seed"):
        done = subprocess.run([str(BIN / "yizhan"), command, *services], env=env, cwd=ROOT,
                              capture_output=True, text=True)
        if done.returncode:
            raise SystemExit(f"yizhan {command} failed:\n{done.stdout}{done.stderr}")


def add_bench_organizations(database_url: str, count: int = BENCH_ORGANIZATIONS) -> None:
    """Organisations up to id `count` in a seeded booking database, each named for the benchmark."""
    from services.booking.models import Organization

    table = Organization.__table__
    engine = create_engine(database_url)
    try:
        with engine.begin() as connection:
            have = connection.scalar(select(func.max(table.c.id))) or 0
            rows = [{"name": f"压测组织 bench organisation {i}", "name_en": f"Bench organisation {i}",
                     "kind": "social_group", "contact_name": "测试", "contact_phone": "13800000000",
                     "created_at": datetime.now(timezone.utc)} for i in range(have + 1, count + 1)]
            if rows:
                connection.execute(table.insert(), rows)
            # booking_request names the organisations 1 to count.
            if connection.scalar(select(func.count()).select_from(table)) != count:
                raise SystemExit(f"the benchmark's organisations are not numbered 1 to {count}")
    finally:
        engine.dispose()


class PostgresDatabases:
    """New, empty PostgreSQL databases for one run, dropped afterwards; None when PostgreSQL does not answer."""

    def __init__(self, services=SERVICES):
        self.names = {s: f"yz_bench_{uuid.uuid4().hex[:8]}_{s}" for s in services}
        base = POSTGRES_ADMIN_URL.rsplit("/", 1)[0]
        self.urls = {s: f"{base}/{name}" for s, name in self.names.items()}

    @classmethod
    def create(cls, services=SERVICES):
        databases = cls(services)
        try:
            databases._admin(*(f'CREATE DATABASE "{name}"' for name in databases.names.values()))
        except Exception as exc:  # no server, no rights: the caller reports and carries on without
            print(f"PostgreSQL at {POSTGRES_ADMIN_URL} not usable ({type(exc).__name__}); "
                  "set YIZHAN_BENCH_POSTGRES_URL to measure on it", flush=True)
            return None
        return databases

    def env(self) -> dict:
        return {f"{s.upper()}_DATABASE_URL": url for s, url in self.urls.items()}

    def drop(self) -> None:
        self._admin(*(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)' for name in self.names.values()))

    @staticmethod
    def _admin(*statements):
        engine = create_engine(POSTGRES_ADMIN_URL, isolation_level="AUTOCOMMIT", connect_args={"connect_timeout": 3})
        try:
            with engine.connect() as conn:
                for statement in statements:
                    conn.execute(text(statement))
        finally:
            engine.dispose()


def drive(port: int, method: str, make_request, seconds: float, connections: int) -> dict:
    """N threads, each on one keep-alive connection, for a fixed time; latencies of every request.
    Each connection sends at least one request, however late its thread starts on a loaded machine."""
    latencies, statuses, stop = [], {}, time.monotonic() + seconds
    lock = threading.Lock()

    def worker():
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        mine, codes = [], {}
        while not mine or time.monotonic() < stop:
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
    return summarise([(latencies, time.monotonic() - began, statuses)])


def summarise(runs: list[tuple[list[float], float, dict]]) -> dict:
    """Rate and percentiles over one or more runs of drive() (latencies, seconds, statuses)."""
    latencies = [latency for run in runs for latency in run[0]]
    elapsed = sum(run[1] for run in runs)
    statuses = {}
    for _, _, codes in runs:
        for code, n in codes.items():
            statuses[code] = statuses.get(code, 0) + n
    cuts = quantile_cuts(latencies)
    return {"requests": len(latencies), "rps": len(latencies) / elapsed, "p50_ms": cuts[49] * 1000,
            "p99_ms": cuts[98] * 1000, "statuses": statuses, "run": (latencies, elapsed, statuses)}
