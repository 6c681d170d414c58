"""The portal as real processes (gunicorn and its outbox relay) beside real booking and
notify APIs and workers, and the same portal in-process, whose clock a test can move."""

import json
import re
import sys
from contextlib import contextmanager
from datetime import datetime, timezone
from pathlib import Path

import pytest
import requests

from services.portal import create_app
from shared.settings import Settings
from tests.conftest import isolated_redis_url, launched_station
from tests.portal.browser import launch_browser, phone_page
from tests.processes import ManagedProcess, api_process, free_port, stop_together, wait_healthy, wait_until

APIS = ("booking", "notify")
CSRF_FIELD = re.compile(r'name="csrf_token" value="([^"]+)"')


def portal_env(station) -> dict:
    desk = {"PORTAL_DESK_URL": station.urls["desk"]} if "desk" in station.urls else {}
    return {**station.env, **desk, "PORTAL_BOOKING_URL": station.urls["booking"], "PORTAL_NOTIFY_URL": station.urls["notify"],
            # The browser reaches the portal over plain http on 127.0.0.1.
            "PORTAL_COOKIE_SECURE": "0",
            # Every test signs in from 127.0.0.1; the address cap is tested with its default in-process.
            "PORTAL_CODES_PER_ADDRESS_PER_DAY": "100000"}


class PortalProcesses:
    def __init__(self, station):
        self.station = station
        self.env = portal_env(station)
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        log_dir = Path(station.env["YIZHAN_VAR_DIR"])
        self.processes = [api_process("portal", self.port, self.env, log_dir),
                          ManagedProcess("portal-relay", [sys.executable, "-m", "services.portal.relay"], self.env, log_dir)]

    def start(self):
        for process in self.processes:
            process.start()
        wait_healthy(self.url)
        return self

    def stop(self):
        stop_together(self.processes)


@contextmanager
def portal_station(backend, work_dir, redis_server, services=APIS):
    with launched_station(backend, work_dir, isolated_redis_url(redis_server.url), services=services) as station:
        portal = PortalProcesses(station).start()
        station.portal = portal
        try:
            yield station
        finally:
            portal.stop()


def pytest_collection_modifyitems(config, items):
    """A module that sets PAGES_ON_SQLITE_ONLY runs once, on SQLite: its pages act the same on either
    database, whose own behaviour the APIs' tests and the portal's sign-in tests check on both.
    Each run on PostgreSQL would start a second station of real processes for nothing new."""
    dropped = [item for item in items if getattr(item.module, "PAGES_ON_SQLITE_ONLY", False)
               and getattr(item, "callspec", None) is not None and item.callspec.params.get("backend") == "postgresql"]
    if dropped:
        config.hook.pytest_deselected(items=dropped)
        items[:] = [item for item in items if item not in set(dropped)]


@pytest.fixture(scope="module")
def browser():
    with launch_browser() as browser:
        yield browser


@pytest.fixture
def page(browser, station):
    """A phone-sized page on the module's `station`, in zh-CN."""
    page = phone_page(browser, station.portal.url)
    yield page
    page.context.close()


class MovableClock:
    def __init__(self):
        self.now = datetime.now(timezone.utc)

    def __call__(self):
        return self.now


@pytest.fixture(scope="module")
def portal_app(running_portal):
    """The portal in-process over the running station's portal database, with a clock a test moves."""
    app = create_app(Settings.from_env(running_portal.portal.env))
    app.extensions["portal"].clock = MovableClock()
    yield app
    app.extensions["yizhan"].database.dispose()


@pytest.fixture(scope="module")
def running_portal(backend, work_dir, redis_server):
    with portal_station(backend, work_dir, redis_server) as station:
        yield station


# --- reading what the station sent ------------------------------------------------------------

def sms_lines(station, national: str) -> list[dict]:
    """The SMS sent to this mobile; notify hands providers the E.164 form (+86…)."""
    path = Path(station.env["SMS_LOG_PATH"])
    if not path.exists():
        return []
    lines = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
    return [line for line in lines if line["to"] == f"+86{national}"]


def next_code(station, national: str, already: int) -> str:
    """The code in the next SMS to this phone (the one after `already` of them)."""
    wait_until(lambda: len(sms_lines(station, national)) > already, 30, 0.2, f"a sign-in SMS to {national}")
    return re.search(r"\d{6}", sms_lines(station, national)[already]["body"]).group(0)


def csrf_token(html: str) -> str:
    return CSRF_FIELD.search(html).group(1)


def http_session() -> requests.Session:
    return requests.Session()


def request_code_over_http(portal_url: str, phone: str, client: requests.Session | None = None):
    client = client or requests.Session()
    token = csrf_token(client.get(f"{portal_url}/sign-in", timeout=10).text)
    return client, client.post(f"{portal_url}/sign-in", data={"phone": phone, "csrf_token": token}, timeout=10)
