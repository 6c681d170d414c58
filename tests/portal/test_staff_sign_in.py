"""Staff and admin sign-in (issue 12): username, password (argon2) and a TOTP code; lockout with
back-off; the 30-minute idle timeout; the `yizhan users` commands. Against the real portal
processes, and, where time matters, the portal in-process with a clock the test moves."""

import itertools
import logging
import os
import re
import subprocess
import sys
from datetime import timedelta
from pathlib import Path

import pyotp
import pytest
import requests
from sqlalchemy import select

from services.portal.clients import Caller
from services.portal.domain import staff_sign_in as staff
from services.portal.domain.sessions import COOKIE_NAME
from services.portal.models import Account, WebSession
from services.portal.views.helpers import booking_client
from shared.auth import decode_token
from shared.db import utcnow
from tests.portal.conftest import csrf_token

pytestmark = pytest.mark.e2e

PASSWORD = "correct horse battery"
YIZHAN = str(Path(sys.executable).parent / "yizhan")
_numbers = itertools.count(1)


def new_username() -> str:
    return f"staff-{os.getpid()}-{next(_numbers)}"


def new_address() -> str:
    """Each test signs in from an address of its own, so one test's failures do not lock another."""
    return f"198.51.100.{next(_numbers) % 250 + 1}"


def database_of(portal_app):
    return portal_app.extensions["yizhan"].database


def make_staff(portal_app, role="staff", enrolled=True) -> tuple[str, str]:
    """A new account; returns its username and TOTP secret."""
    username, secret = new_username(), pyotp.random_base32()
    with database_of(portal_app).transaction() as db:
        staff.create_account(db, username, PASSWORD, role, utcnow(), totp_secret=secret, enrolled=enrolled)
    return username, secret


def grouped(secret: str) -> str:
    return " ".join(secret[i:i + 4] for i in range(0, len(secret), 4))


def account_named(portal_app, username) -> Account:
    with database_of(portal_app).reader() as db:
        return db.scalar(select(Account).where(Account.username == username))


# --- over HTTP, the real processes -------------------------------------------------------------

def give_password(client, url, username, password):
    token = csrf_token(client.get(f"{url}/staff/sign-in", timeout=10).text)
    return client.post(f"{url}/staff/sign-in", data={"username": username, "password": password, "csrf_token": token},
                       timeout=10)


def give_code(client, url, code, path="/staff/sign-in/code"):
    token = csrf_token(client.get(f"{url}{path}", timeout=10).text)
    return client.post(f"{url}{path}", data={"code": code, "csrf_token": token}, timeout=10)


def sign_in_over_http(url, username, secret):
    client = requests.Session()
    answer = give_password(client, url, username, PASSWORD)
    assert answer.url == f"{url}/staff/sign-in/code", answer.text
    return client, give_code(client, url, pyotp.TOTP(secret).now())


def test_the_right_password_and_code_sign_a_staff_member_in_and_the_session_rotates(running_portal, portal_app):
    url = running_portal.portal.url
    username, secret = make_staff(portal_app)
    client = requests.Session()
    client.get(f"{url}/staff/sign-in", timeout=10)
    anonymous_id = client.cookies.get(COOKIE_NAME)
    answer = give_password(client, url, username, PASSWORD)
    assert answer.url == f"{url}/staff/sign-in/code"
    answer = give_code(client, url, pyotp.TOTP(secret).now())
    assert answer.url == f"{url}/staff" and f"您已登录：{username}" in answer.text and "驿站工作人员" in answer.text
    assert client.cookies.get(COOKIE_NAME) not in (None, anonymous_id)
    planted = requests.get(f"{url}/staff", cookies={COOKIE_NAME: anonymous_id}, allow_redirects=False, timeout=10)
    assert planted.status_code == 302 and planted.headers["Location"] == "/staff/sign-in"


def test_an_admin_signs_in_as_admin(running_portal, portal_app):
    username, secret = make_staff(portal_app, role="admin")
    _, answer = sign_in_over_http(running_portal.portal.url, username, secret)
    assert "身份：管理员" in answer.text


def test_a_wrong_password_is_refused_next_to_the_password(running_portal, portal_app):
    url = running_portal.portal.url
    username, _ = make_staff(portal_app)
    answer = give_password(requests.Session(), url, username, "wrong password!")
    assert answer.status_code == 422 and answer.url == f"{url}/staff/sign-in"
    assert 'id="password-error-1"' in answer.text and "用户名或密码不对" in answer.text
    assert "wrong password!" not in answer.text


def without_csrf(html: str) -> str:
    return re.sub(r'name="csrf_token" value="[^"]+"', "", html)


def test_an_unknown_username_gets_the_same_answer_as_a_wrong_password(running_portal, portal_app):
    url = running_portal.portal.url
    known, _ = make_staff(portal_app)
    wrong = give_password(requests.Session(), url, known, "not the password")
    stranger = new_username()
    unknown = give_password(requests.Session(), url, stranger, "not the password")
    assert (unknown.status_code, unknown.url) == (wrong.status_code, wrong.url) == (422, f"{url}/staff/sign-in")
    assert without_csrf(unknown.text).replace(stranger, "") == without_csrf(wrong.text).replace(known, "")


def test_a_wrong_code_is_refused_next_to_the_code(running_portal, portal_app):
    url = running_portal.portal.url
    username, secret = make_staff(portal_app)
    client = requests.Session()
    give_password(client, url, username, PASSWORD)
    wrong = f"{(int(pyotp.TOTP(secret).now()) + 500000) % 1000000:06d}"
    answer = give_code(client, url, wrong)
    assert answer.status_code == 422 and 'id="code-error-1"' in answer.text and "验证码不对或已用过" in answer.text
    assert requests.get(f"{url}/staff", cookies=client.cookies, allow_redirects=False, timeout=10).status_code == 302


def test_the_code_page_needs_the_password_first(running_portal):
    answer = requests.get(f"{running_portal.portal.url}/staff/sign-in/code", allow_redirects=False, timeout=10)
    assert answer.status_code == 302 and answer.headers["Location"] == "/staff/sign-in"


@pytest.mark.parametrize("path", ["/staff/sign-in", "/staff/sign-in/code", "/staff/sign-in/enrol"])
def test_a_staff_form_posted_without_its_csrf_token_is_refused(running_portal, path):
    client = requests.Session()
    client.get(f"{running_portal.portal.url}/staff/sign-in", timeout=10)
    answer = client.post(f"{running_portal.portal.url}{path}",
                         data={"username": "demo-staff", "password": PASSWORD, "code": "123456"}, timeout=10)
    assert answer.status_code == 400 and "页面已过期" in answer.text and "Traceback" not in answer.text


def test_nothing_about_a_password_or_code_reaches_the_portals_log(running_portal, portal_app):
    url = running_portal.portal.url
    username, secret = make_staff(portal_app)
    give_password(requests.Session(), url, username, "a-mistyped-secret-9817")
    # A password typed into the username field must not be logged either.
    give_password(requests.Session(), url, "typed-in-the-wrong-box-5521", PASSWORD)
    client, answer = sign_in_over_http(url, username, secret)
    code = pyotp.TOTP(secret).now()
    assert answer.url == f"{url}/staff"
    portal_process = running_portal.portal.processes[0]
    log = portal_process.log_text()
    assert f"staff account {account_named(portal_app, username).id} signed in as staff" in log  # the right log
    for secret_text in ("a-mistyped-secret-9817", "typed-in-the-wrong-box-5521", PASSWORD, code, secret):
        assert secret_text not in log


def run_yizhan(running_portal, *args, stdin="", env=None):
    return subprocess.run([YIZHAN, *args], input=stdin, capture_output=True, text=True, timeout=120,
                          env={**running_portal.portal.env, **(env or {})})


def test_yizhan_users_create_makes_an_account_that_enrols_at_its_first_sign_in(running_portal, portal_app):
    url, username = running_portal.portal.url, new_username()
    made = run_yizhan(running_portal, "users", "create", "--role", "staff", username, stdin=PASSWORD + "\n")
    assert made.returncode == 0, made.stderr
    uri = re.search(r"otpauth://totp/\S+", made.stdout).group(0)
    secret = pyotp.parse_uri(uri).secret
    account = account_named(portal_app, username)
    assert account.role == "staff" and account.password_hash.startswith("$argon2id$") and PASSWORD not in made.stdout
    client = requests.Session()
    answer = give_password(client, url, username, PASSWORD)
    assert answer.url == f"{url}/staff/sign-in/enrol" and "<svg" in answer.text and grouped(secret) in answer.text
    answer = give_code(client, url, pyotp.TOTP(secret).now(), "/staff/sign-in/enrol")
    assert answer.url == f"{url}/staff" and f"您已登录：{username}" in answer.text
    assert account_named(portal_app, username).totp_confirmed_at is not None


def test_yizhan_users_create_refuses_a_short_password_and_a_taken_name(running_portal, portal_app):
    username = new_username()
    short = run_yizhan(running_portal, "users", "create", "--role", "staff", username, stdin="elevenchars\n")
    assert short.returncode != 0 and "至少12个字符" in short.stderr and account_named(portal_app, username) is None
    taken, _ = make_staff(portal_app)
    again = run_yizhan(running_portal, "users", "create", "--role", "admin", taken, stdin=PASSWORD + "\n")
    assert again.returncode != 0 and "taken" in again.stderr


def test_yizhan_users_disable_ends_the_accounts_sessions_at_once(running_portal, portal_app):
    url = running_portal.portal.url
    username, secret = make_staff(portal_app)
    client, answer = sign_in_over_http(url, username, secret)
    assert answer.url == f"{url}/staff"
    disabled = run_yizhan(running_portal, "users", "disable", username)
    assert disabled.returncode == 0, disabled.stderr
    assert client.get(f"{url}/staff", allow_redirects=False, timeout=10).status_code == 302
    with database_of(portal_app).reader() as db:
        assert not db.scalars(select(WebSession).where(
            WebSession.account_id == account_named(portal_app, username).id)).all()
    again = give_password(requests.Session(), url, username, PASSWORD)
    assert again.status_code == 422 and "用户名或密码不对" in again.text


def test_yizhan_users_reset_2fa_shows_a_new_qr_code_at_the_next_sign_in(running_portal, portal_app):
    url = running_portal.portal.url
    username, old_secret = make_staff(portal_app)
    client, _ = sign_in_over_http(url, username, old_secret)
    reset = run_yizhan(running_portal, "users", "reset-2fa", username)
    assert reset.returncode == 0, reset.stderr
    assert client.get(f"{url}/staff", allow_redirects=False, timeout=10).status_code == 302
    account = account_named(portal_app, username)
    assert account.totp_confirmed_at is None and account.totp_secret != old_secret
    answer = give_password(requests.Session(), url, username, PASSWORD)
    assert answer.url == f"{url}/staff/sign-in/enrol" and grouped(account.totp_secret) in answer.text


def test_yizhan_users_totp_prints_the_code_in_development_only(running_portal, portal_app):
    username, secret = make_staff(portal_app)
    refused = run_yizhan(running_portal, "users", "totp", username)
    assert refused.returncode != 0 and "YIZHAN_ENV=development" in refused.stderr
    printed = run_yizhan(running_portal, "users", "totp", username, env={"YIZHAN_ENV": "development"})
    assert printed.returncode == 0, printed.stderr
    assert pyotp.TOTP(secret).verify(printed.stdout.strip(), valid_window=1)


# --- in-process, with a clock the test moves ------------------------------------------------

@pytest.fixture
def clock(portal_app):
    clock = portal_app.extensions["portal"].clock
    clock.now += timedelta(minutes=1)  # past the TOTP steps other tests used
    return clock


@pytest.fixture
def browser_client(portal_app):
    client = portal_app.test_client()
    client.environ_base["REMOTE_ADDR"] = new_address()
    return client


def post_password(client, username, password):
    token = csrf_token(client.get("/staff/sign-in").text)
    return client.post("/staff/sign-in", data={"username": username, "password": password, "csrf_token": token})


def post_code(client, code, path="/staff/sign-in/code"):
    token = csrf_token(client.get(path).text)
    return client.post(path, data={"code": code, "csrf_token": token})


def code_at(secret, clock) -> str:
    return pyotp.TOTP(secret).at(clock.now)


def sign_in_in_process(client, username, secret, clock):
    assert post_password(client, username, PASSWORD).headers["Location"] == "/staff/sign-in/code"
    answer = post_code(client, code_at(secret, clock))
    assert answer.status_code == 302 and answer.headers["Location"] == "/staff", answer.text
    return answer


def test_five_wrong_passwords_lock_the_username_for_a_minute_then_two(portal_app, clock, browser_client):
    username, secret = make_staff(portal_app)
    for _ in range(5):
        assert "用户名或密码不对" in post_password(browser_client, username, "wrong").text
    locked = post_password(browser_client, username, PASSWORD)  # even the right password, while locked
    assert locked.status_code == 422 and "请1分钟后再试" in locked.text
    clock.now += timedelta(seconds=61)
    for _ in range(5):
        post_password(browser_client, username, "wrong")
    assert "请2分钟后再试" in post_password(browser_client, username, PASSWORD).text  # doubled
    clock.now += timedelta(seconds=61)
    assert "请1分钟后再试" in post_password(browser_client, username, PASSWORD).text
    clock.now += timedelta(seconds=60)
    sign_in_in_process(browser_client, username, secret, clock)


def test_an_unknown_username_locks_the_same_way(portal_app, clock, browser_client):
    username = new_username()
    answers = [post_password(browser_client, username, "wrong") for _ in range(6)]
    assert all("用户名或密码不对" in a.text for a in answers[:5]) and "请1分钟后再试" in answers[5].text


def test_five_wrong_codes_lock_the_account(portal_app, clock, browser_client):
    username, secret = make_staff(portal_app)
    post_password(browser_client, username, PASSWORD)
    wrong = f"{(int(code_at(secret, clock)) + 500000) % 1000000:06d}"
    for _ in range(5):
        assert "验证码不对" in post_code(browser_client, wrong).text
    assert "请1分钟后再试" in post_code(browser_client, code_at(secret, clock)).text
    clock.now += timedelta(seconds=61)
    sign_in_in_process(browser_client, username, secret, clock)


def test_one_address_guessing_at_many_usernames_is_locked(portal_app, clock, browser_client):
    config = portal_app.extensions["portal"].config
    username, secret = make_staff(portal_app)
    for _ in range(config.staff_address_failures_before_lock):
        post_password(browser_client, new_username(), "guess")
    assert "分钟后再试" in post_password(browser_client, username, PASSWORD).text
    elsewhere = portal_app.test_client()
    elsewhere.environ_base["REMOTE_ADDR"] = new_address()
    clock.now += timedelta(seconds=1)
    sign_in_in_process(elsewhere, username, secret, clock)


def test_a_code_is_good_once(portal_app, clock, browser_client):
    username, secret = make_staff(portal_app)
    sign_in_in_process(browser_client, username, secret, clock)
    again = portal_app.test_client()
    again.environ_base["REMOTE_ADDR"] = new_address()
    post_password(again, username, PASSWORD)
    answer = post_code(again, code_at(secret, clock))  # the same step's code, a second time
    assert answer.status_code == 422 and "验证码不对或已用过" in answer.text
    clock.now += timedelta(seconds=30)
    assert post_code(again, code_at(secret, clock)).headers["Location"] == "/staff"


def test_the_code_of_the_step_before_or_after_is_accepted_but_not_two_away(portal_app, clock, browser_client):
    username, secret = make_staff(portal_app)
    post_password(browser_client, username, PASSWORD)
    assert post_code(browser_client, pyotp.TOTP(secret).at(clock.now - timedelta(seconds=60))).status_code == 422
    assert post_code(browser_client, pyotp.TOTP(secret).at(clock.now + timedelta(seconds=30))).status_code == 302


def test_enrolment_shows_the_qr_code_and_is_confirmed_by_a_first_code(portal_app, clock, browser_client):
    username, secret = make_staff(portal_app, enrolled=False)
    assert post_password(browser_client, username, PASSWORD).headers["Location"] == "/staff/sign-in/enrol"
    assert browser_client.get("/staff/sign-in/code").headers["Location"] == "/staff/sign-in/enrol"
    page = browser_client.get("/staff/sign-in/enrol").text
    assert '<svg' in page and grouped(secret) in page and "两步验证二维码" in page
    assert post_code(browser_client, "000000" if code_at(secret, clock) != "000000" else "111111",
                     "/staff/sign-in/enrol").status_code == 422
    assert account_named(portal_app, username).totp_confirmed_at is None
    assert post_code(browser_client, code_at(secret, clock), "/staff/sign-in/enrol").headers["Location"] == "/staff"
    assert account_named(portal_app, username).totp_confirmed_at is not None


def test_the_password_step_is_good_for_five_minutes(portal_app, clock, browser_client):
    username, secret = make_staff(portal_app)
    post_password(browser_client, username, PASSWORD)
    clock.now += timedelta(minutes=5, seconds=1)
    assert browser_client.get("/staff/sign-in/code").headers["Location"] == "/staff/sign-in"


def test_a_staff_session_ends_after_thirty_idle_minutes(portal_app, clock, browser_client):
    username, secret = make_staff(portal_app)
    sign_in_in_process(browser_client, username, secret, clock)
    clock.now += timedelta(minutes=29)
    assert browser_client.get("/staff").status_code == 200  # and this visit counts as activity
    clock.now += timedelta(minutes=29)
    assert browser_client.get("/staff").status_code == 200
    clock.now += timedelta(minutes=30, seconds=1)
    assert browser_client.get("/staff").headers["Location"] == "/staff/sign-in"


def test_a_disabled_staff_accounts_session_ends_at_once(portal_app, clock, browser_client):
    username, secret = make_staff(portal_app)
    sign_in_in_process(browser_client, username, secret, clock)
    with database_of(portal_app).transaction() as db:
        db.scalar(select(Account).where(Account.username == username)).disabled = True
    assert browser_client.get("/staff").headers["Location"] == "/staff/sign-in"


def test_a_resident_session_is_refused_the_staff_home(portal_app, clock, browser_client):
    with database_of(portal_app).transaction() as db:
        resident = Account(role="resident", phone=f"+8613{next(_numbers):09d}")
        db.add(resident)
        db.flush()
        resident_id = resident.id
    browser_client.get("/staff/sign-in")
    with browser_client.session_transaction() as session:
        session.sign_in(resident_id)
    assert browser_client.get("/staff").status_code == 403


def test_the_api_tokens_minted_for_staff_carry_the_staff_role_and_subject(portal_app):
    username, _ = make_staff(portal_app, role="admin")
    account = account_named(portal_app, username)
    secret = portal_app.extensions["yizhan"].settings.secret_key
    with portal_app.test_request_context():
        headers = booking_client(Caller.of(account))._headers()
    principal = decode_token(secret, headers["Authorization"].removeprefix("Bearer "))
    assert (principal.role, principal.sub) == ("admin", account.subject)


def test_passwords_are_kept_as_argon2id_hashes(portal_app):
    username, _ = make_staff(portal_app)
    account = account_named(portal_app, username)
    assert account.password_hash.startswith("$argon2id$") and PASSWORD not in account.password_hash


def test_the_in_process_log_has_no_password_or_code(portal_app, clock, browser_client, caplog):
    caplog.set_level(logging.DEBUG)
    username, secret = make_staff(portal_app)
    post_password(browser_client, username, "some-wrong-password-4471")
    code = code_at(secret, clock)
    sign_in_in_process(browser_client, username, secret, clock)
    assert "signed in as staff" in caplog.text
    for secret_text in ("some-wrong-password-4471", PASSWORD, code, secret):
        assert secret_text not in caplog.text


def test_make_runs_demo_staff_member_signs_in_as_its_banner_says(running_portal):
    """What `make run` prints: seed (development only), `yizhan users totp demo-staff`, sign in."""
    from services.portal.seed import DEMO_ADMIN_PASSWORD, DEMO_ADMIN_USERNAME, DEMO_STAFF_PASSWORD, DEMO_STAFF_USERNAME
    from shared.settings import Settings
    from yizhan.local_station import banner

    text = banner(Settings.from_env(running_portal.portal.env), {"REDIS_URL": "redis://x"}, own_redis=False)
    assert "/staff/sign-in" in text and "yizhan users totp <username>" in text
    assert f"username {DEMO_STAFF_USERNAME}, password {DEMO_STAFF_PASSWORD}" in text
    assert f"username {DEMO_ADMIN_USERNAME}, password {DEMO_ADMIN_PASSWORD}" in text
    assert "demo_staff" not in run_yizhan(running_portal, "seed", "portal").stderr  # not in a test station
    development = {"YIZHAN_ENV": "development"}
    seeded = run_yizhan(running_portal, "seed", "portal", env=development)
    assert seeded.returncode == 0, seeded.stderr
    code = run_yizhan(running_portal, "users", "totp", DEMO_STAFF_USERNAME, env=development).stdout.strip()
    url, client = running_portal.portal.url, requests.Session()
    assert give_password(client, url, DEMO_STAFF_USERNAME, DEMO_STAFF_PASSWORD).url == f"{url}/staff/sign-in/code"
    assert give_code(client, url, code).url == f"{url}/staff"
    code = run_yizhan(running_portal, "users", "totp", DEMO_ADMIN_USERNAME, env=development).stdout.strip()
    client = requests.Session()
    assert give_password(client, url, DEMO_ADMIN_USERNAME, DEMO_ADMIN_PASSWORD).url == f"{url}/staff/sign-in/code"
    assert give_code(client, url, code).url == f"{url}/staff"
    assert "管理员" in client.get(f"{url}/staff", timeout=10).text
