"""Shared fixtures: a real Redis, fresh databases on SQLite and PostgreSQL,
the three services in-process, and the whole station as real processes."""

import itertools
import os
import uuid
from contextlib import contextmanager
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
import redis
import requests
from sqlalchemy import create_engine, text

from shared.auth import issue_token
from shared.migrations import upgrade
from shared.settings import DATABASE_SERVICES, SERVICE_PACKAGES, SERVICES, Settings
from tests.processes import RedisServer, api_process, free_port, stop_together, wait_healthy, worker_process
from yizhan.smtp_sink import start_sink

TEST_SECRET = "test-secret-0123456789abcdef0123456789"
POSTGRES_ADMIN_URL = os.environ.get("YIZHAN_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")
_slots = itertools.count()
# Stations sharing the test Redis must not hear each other's tasks: each running
# station gets a database number of its own; in-process stations publish to 15, which no worker reads.
_redis_databases = itertools.cycle(range(1, 15))
UNREAD_REDIS_DATABASE = 15


def redis_database(url: str, number: int) -> str:
    return f"{url.rsplit('/', 1)[0]}/{number}"


def isolated_redis_url(url: str) -> str:
    """A Redis database for one running station, apart from every other station's.

    The numbers come round again after 14 stations; what an earlier station left queued is flushed.
    """
    isolated = redis_database(url, next(_redis_databases))
    client = redis.Redis.from_url(isolated)
    client.flushdb()
    client.close()
    return isolated


# --- infrastructure ---------------------------------------------------------------------------

# The files that take a minute or more (tests/test_bench.py and tests/faults/), measured on a 2-core machine.
LONGEST_FIRST = ("test_bench.py", "faults/")


def pytest_collection_modifyitems(items):
    """The longest files first, then the others that start processes (marked e2e), then the rest.

    `make test` runs two pytest workers that each take whole files; starting the long
    files early lets the short ones fill in at the end, so both workers finish together.
    The sort is stable, so each module's tests stay together and in their order.
    """
    def weight(item):
        path = item.nodeid.split("::")[0]
        if any(part in path for part in LONGEST_FIRST):
            return 0
        return 1 if item.get_closest_marker("e2e") else 2
    items.sort(key=weight)


@pytest.fixture(scope="session")
def work_dir(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("yizhan")


@pytest.fixture(scope="session")
def redis_server(work_dir):
    server = RedisServer(work_dir).start()
    yield server
    server.stop()


def postgres_reachable() -> bool:
    try:
        engine = create_engine(POSTGRES_ADMIN_URL, connect_args={"connect_timeout": 2})
        with engine.connect() as conn:
            conn.execute(text("SELECT 1"))
        engine.dispose()
        return True
    except Exception:
        return False


@pytest.fixture(scope="session", params=["sqlite", "postgresql"])
def backend(request):
    """Every database test runs on SQLite, and again on PostgreSQL when one answers."""
    if request.param == "postgresql" and not postgres_reachable():
        pytest.skip(f"PostgreSQL not reachable at {POSTGRES_ADMIN_URL} (set YIZHAN_TEST_POSTGRES_URL)")
    return request.param


@contextmanager
def database_at_revision(service: str, revision: str, backend: str, directory: Path):
    """One new database of a service, migrated only up to `revision` (to test the next migration); dropped after."""
    name = f"yz_{uuid.uuid4().hex[:10]}_{service}_{revision}"
    if backend == "sqlite":
        url = f"sqlite:///{directory / name}.db"
    else:
        url = f"{POSTGRES_ADMIN_URL.rsplit('/', 1)[0]}/{name}"
        postgres_admin(f'CREATE DATABASE "{name}"')
    try:
        upgrade(service, url, revision)
        yield url
    finally:
        if backend != "sqlite":
            postgres_admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def postgres_admin(*statements):
    engine = create_engine(POSTGRES_ADMIN_URL, isolation_level="AUTOCOMMIT")
    with engine.connect() as conn:
        for statement in statements:
            conn.execute(text(statement))
    engine.dispose()


class FreshDatabases:
    """One new, migrated database per service (the portal's too); dropped afterwards."""

    def __init__(self, backend: str, directory: Path):
        self.backend = backend
        self.names = {s: f"yz_{uuid.uuid4().hex[:10]}_{s}" for s in DATABASE_SERVICES}
        if backend == "sqlite":
            self.urls = {s: f"sqlite:///{directory / name}.db" for s, name in self.names.items()}
        else:
            base = POSTGRES_ADMIN_URL.rsplit("/", 1)[0]
            self.urls = {s: f"{base}/{name}" for s, name in self.names.items()}
            self._admin(*(f'CREATE DATABASE "{name}"' for name in self.names.values()))
        for service, url in self.urls.items():
            upgrade(service, url)

    def _admin(self, *statements):
        postgres_admin(*statements)

    def drop(self):
        if self.backend == "postgresql":
            self._admin(*(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)' for name in self.names.values()))


def station_environment(redis_url: str, database_urls: dict, var_dir: Path, smtp_port: int) -> dict:
    env = dict(os.environ)
    env.update({
        "YIZHAN_ENV": "test",
        "YIZHAN_SECRET_KEY": TEST_SECRET,
        "REDIS_URL": redis_url,
        "YIZHAN_VAR_DIR": str(var_dir),
        "SMTP_HOST": "127.0.0.1",
        "SMTP_PORT": str(smtp_port),
        "SMS_LOG_PATH": str(var_dir / "sms.log"),
        "YIZHAN_OUTBOX_INTERVAL": "0.2",
        "YIZHAN_LOG_LEVEL": "INFO",
        # Most tests book often for one organisation; the quota tests set their own.
        "BOOKING_MONTHLY_QUOTA": "10000",
        "BOOKING_MONTHLY_HOURS": "100000",
        # next_slot() moves a day ahead every four bookings and series run a year: over a whole run that
        # passes the 180-day default horizon. tests/booking/test_horizon_and_extreme_dates.py tests it.
        "BOOKING_HORIZON_DAYS": "3650",
        # Tests run at any hour: no quiet hours unless a test sets them (then with its own clock).
        "NOTIFY_QUIET_START": "00:00",
        "NOTIFY_QUIET_END": "00:00",
        "NOTIFY_SMS_DAILY_CAP": "1000",
        "NOTIFY_RETRY_BASE_SECONDS": "0.5",
        # Tests call far faster than any person; tests/security/test_rate_limits.py sets a real limit.
        "YIZHAN_RATE_LIMIT_PER_MINUTE": "0",
        "PYTHONUNBUFFERED": "1",
    })
    env.update({f"{s.upper()}_DATABASE_URL": url for s, url in database_urls.items()})
    return env


class Station:
    """The three services' settings and apps, in-process; seeded databases."""

    def __init__(self, env: dict, databases: FreshDatabases, smtp=None):
        import importlib

        self.env, self.databases, self.smtp = env, databases, smtp
        self.settings = Settings.from_env(env)
        self.apps = {s: importlib.import_module(SERVICE_PACKAGES[s]).create_app(self.settings) for s in SERVICES}
        for service, app in self.apps.items():
            seed = importlib.import_module(f"{SERVICE_PACKAGES[service]}.seed").seed
            with self.database(service).transaction() as session:
                seed(session)

    def database(self, service: str):
        return self.apps[service].extensions["yizhan"].database

    def client(self, service: str):
        return self.apps[service].test_client()

    def dispose(self):
        for service in SERVICES:
            # Its marks of published tasks first: made later, they would meet a dropped database.
            relay = self.apps[service].extensions["yizhan"].relay
            if relay is not None:
                relay.marks.flush()
            self.database(service).dispose()


@pytest.fixture(scope="module")
def station(backend, work_dir, redis_server):
    """In-process apps over fresh databases, publishing to the test Redis."""
    directory = work_dir / uuid.uuid4().hex[:8]
    directory.mkdir()
    databases = FreshDatabases(backend, directory)
    redis_url = redis_database(redis_server.url, UNREAD_REDIS_DATABASE)
    station = Station(station_environment(redis_url, databases.urls, directory, free_port()), databases)
    yield station
    station.dispose()
    station.databases.drop()


# --- the whole station as real processes ------------------------------------------------------

class RunningStation(Station):
    """Adds three gunicorn APIs and three Celery workers as real processes."""

    def start_processes(self, services=SERVICES, workers=SERVICES, api_workers=1):
        self.log_dir = Path(self.env["YIZHAN_VAR_DIR"])
        self.ports = {s: free_port() for s in services}
        self.urls = {s: f"http://127.0.0.1:{p}" for s, p in self.ports.items()}
        self.processes = {f"{s}-api": api_process(s, self.ports[s], self.env, self.log_dir, api_workers).start() for s in services}
        self.processes.update({f"{s}-worker": worker_process(s, self.env, self.log_dir).start() for s in workers})
        for service in services:
            wait_healthy(self.urls[service])
        for service in workers:
            self.processes[f"{service}-worker"].wait_for_log("ready.")
        return self

    def http(self, service: str, method: str, path: str, role="staff", org=None, **kwargs):
        headers = {**auth(role, org), **kwargs.pop("headers", {})}
        return requests.request(method, self.urls[service] + path, headers=headers, timeout=10, **kwargs)

    def stop_processes(self):
        stop_together(list(self.processes.values()))

    def logs(self) -> str:
        return "\n".join(f"===== {name}\n{p.log_text()[-4000:]}" for name, p in self.processes.items())


@contextmanager
def launched_station(backend, work_dir, redis_url, services=SERVICES, extra_env=None, api_workers=1):
    """A RunningStation with its own databases and SMTP sink, stopped on exit."""
    smtp_port = free_port()
    controller, sink = start_sink(smtp_port)
    directory = work_dir / uuid.uuid4().hex[:8]
    directory.mkdir()
    databases = FreshDatabases(backend, directory)
    env = {**station_environment(redis_url, databases.urls, directory, smtp_port), **(extra_env or {})}
    station = RunningStation(env, databases, sink)
    try:
        station.start_processes(services, services, api_workers)
        yield station
    finally:
        station.stop_processes()
        controller.stop()
        station.dispose()
        databases.drop()


@pytest.fixture(scope="module")
def running_station(backend, work_dir, redis_server):
    with launched_station(backend, work_dir, isolated_redis_url(redis_server.url)) as station:
        yield station


# --- builders ---------------------------------------------------------------------------------

def auth(role: str = "staff", org: int | None = None, **kwargs) -> dict:
    token = issue_token(TEST_SECRET, role, kwargs.get("sub", f"test-{role}"), org, kwargs.get("ttl", 600))
    return {"Authorization": f"Bearer {token}"}


def next_slot(hours: int = 2) -> tuple[str, str]:
    """A two-hour slot nobody else in the test run has asked for, weeks ahead: 09:00, 12:00, 15:00 or
    18:00 for two hours, so a test that picks its own time picks 11:00, 14:00, 17:00 or 20:00 for an hour
    and never meets one of these, however many slots the tests before it took."""
    n = next(_slots)
    day = datetime.now(timezone(timedelta(hours=8))).date() + timedelta(days=30 + n // 4)
    start = datetime(day.year, day.month, day.day, 9 + (n % 4) * 3, 0, tzinfo=timezone(timedelta(hours=8)))
    return start.isoformat(), (start + timedelta(hours=hours)).isoformat()


def make_booking(**overrides) -> dict:
    start, end = next_slot()
    body = {
        "venue_id": 3, "organization_id": 1, "start": start, "end": end,
        "title": "支部主题党日 Party day", "attendees": 12,
        "contact": {"name": "林海燕", "phone": "13800000001", "email": "lin@example.org"},
    }
    body.update(overrides)
    return body
