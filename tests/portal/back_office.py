"""What the tests of the staff pages (issue 13) share: a station with all three APIs and the
portal, one staff and one admin account with known second-factor secrets, and browser contexts
already signed in as either (signed in once per module through the real pages, then reused,
since a TOTP code is accepted only once)."""

from contextlib import contextmanager

import pyotp
import requests

from services.portal import create_app
from services.portal.domain import staff_sign_in as staff
from shared.db import utcnow
from shared.settings import Settings
from tests.portal.browser import phone_page
from tests.portal.conftest import csrf_token, portal_station
from tests.processes import wait_until

SERVICES = ("booking", "desk", "notify")
PASSWORD = "yizhan-back-office-test"
ACCOUNTS = {"wang.fang": ("staff", "YIZHANBACKOFFICESTAFFSECRET23456"),
            "li.admin": ("admin", "YIZHANBACKOFFICEADMINSECRET23456")}


@contextmanager
def back_office_station(work_dir, redis_server, backend="sqlite"):
    """portal_station with booking, desk and notify, and the accounts in ACCOUNTS, enrolled."""
    with portal_station(backend, work_dir, redis_server, services=SERVICES) as station:
        app = create_app(Settings.from_env(station.portal.env))
        database = app.extensions["yizhan"].database
        with database.transaction() as db:
            for username, (role, secret) in ACCOUNTS.items():
                staff.create_account(db, username, PASSWORD, role, utcnow(), totp_secret=secret, enrolled=True)
        database.dispose()
        station.signed_in_states = {}
        yield station


def fresh_code(station, username: str) -> str:
    """A code the portal has not yet accepted for this account: a code is good once, so wait for the next step."""
    totp = pyotp.TOTP(ACCOUNTS[username][1])
    used = station.signed_in_states.setdefault("_used_codes", set())
    wait_until(lambda: totp.now() not in used, 35, 0.5, f"a new TOTP step for {username}")
    code = totp.now()
    used.add(code)
    return code


def signed_in_page(browser, station, username: str, language: str = "zh-CN"):
    """A phone-sized page signed in as this staff account; the first call per module signs in through
    the pages, later calls reuse that browser state (cookies) in a new context."""
    state = station.signed_in_states.get((username, language))
    if state is None:
        page = phone_page(browser, station.portal.url, language)
        page.goto("/staff/sign-in")
        page.locator("input[name=username]").fill(username)
        page.locator("input[name=password]").fill(PASSWORD)
        page.locator("form button[type=submit]").click()
        page.wait_for_url("**/staff/sign-in/code")
        page.locator("input[name=code]").fill(fresh_code(station, username))
        page.locator("form button[type=submit]").click()
        page.wait_for_url("**/staff")
        station.signed_in_states[(username, language)] = page.context.storage_state()
        return page
    page = phone_page(browser, station.portal.url, language, storage_state=state)
    return page


def signed_in_session(station, username: str) -> requests.Session:
    """A requests session signed in as this staff account over HTTP (for tests that need no browser)."""
    client = requests.Session()
    url = station.portal.url
    token = csrf_token(client.get(f"{url}/staff/sign-in", timeout=10).text)
    answer = client.post(f"{url}/staff/sign-in", data={"username": username, "password": PASSWORD, "csrf_token": token},
                         timeout=10)
    assert answer.url.endswith("/staff/sign-in/code"), answer.url
    answer = client.post(answer.url, data={"code": fresh_code(station, username), "csrf_token": csrf_token(answer.text)},
                         timeout=10)
    assert answer.url.endswith("/staff"), answer.url
    return client
