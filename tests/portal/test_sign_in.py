"""Sign-in by phone and SMS code (issue 12): against the real portal, booking and notify
processes, and, where time matters, the portal in-process with a clock the test moves."""

import logging
import re
from datetime import timedelta

import pytest
import requests
from sqlalchemy import select

from services.portal.domain import sign_in as codes
from services.portal.domain.sessions import COOKIE_NAME
from services.portal.models import Account, SignInCode, WebSession
from tests.portal.conftest import csrf_token, next_code, request_code_over_http, sms_lines

pytestmark = pytest.mark.e2e

_phones = iter(range(13900000100, 13900000999))


def new_phone() -> str:
    return str(next(_phones))


def sign_in_over_http(station, phone: str, next_path: str | None = None, client: requests.Session | None = None):
    """A full sign-in as a browser without JavaScript would do it; returns the session and the last answer."""
    url = station.portal.url
    before = len(sms_lines(station, phone))
    client = client or requests.Session()
    page = client.get(f"{url}/sign-in", params={"next": next_path} if next_path else None, timeout=10)
    client.post(f"{url}/sign-in", data={"phone": phone, "csrf_token": csrf_token(page.text)}, timeout=10)
    code_page = client.get(f"{url}/sign-in/code", timeout=10)
    answer = client.post(f"{url}/sign-in/code", data={"code": next_code(station, phone, before),
                                                      "csrf_token": csrf_token(code_page.text)}, timeout=10)
    return client, answer


def submit_code(client, url: str, code: str):
    token = csrf_token(client.get(f"{url}/sign-in/code", timeout=10).text)
    return client.post(f"{url}/sign-in/code", data={"code": code, "csrf_token": token}, timeout=10)


# --- over HTTP, the real processes -------------------------------------------------------------

def test_a_resident_signs_in_with_the_code_from_the_sms_and_the_session_id_rotates(running_portal):
    url, phone = running_portal.portal.url, new_phone()
    client = requests.Session()
    client.get(f"{url}/sign-in", timeout=10)
    anonymous_id = client.cookies.get(COOKIE_NAME)
    assert anonymous_id  # the CSRF token lives in a server-side session from the first form on
    client, answer = sign_in_over_http(running_portal, phone, client=client)
    assert answer.url == f"{url}/account" and "您已登录" in answer.text and "身份：居民" in answer.text
    signed_in_id = client.cookies.get(COOKIE_NAME)
    assert signed_in_id and signed_in_id != anonymous_id
    # An id planted before sign-in (session fixation) is worth nothing after it.
    planted = requests.get(f"{url}/account", cookies={COOKIE_NAME: anonymous_id}, allow_redirects=False, timeout=10)
    assert planted.status_code == 302


def test_the_session_cookie_is_httponly_and_samesite_lax(running_portal):
    client, answer = sign_in_over_http(running_portal, new_phone())
    cookie = next(c for c in answer.history[-1].raw.headers.getlist("Set-Cookie") if c.startswith(COOKIE_NAME))
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie


def test_an_organisations_contact_signs_in_as_that_organisation(running_portal):
    _, answer = sign_in_over_http(running_portal, "13800000002")
    assert "身份：海南农垦机关物业党支部的联系人" in answer.text


def test_the_session_dies_at_sign_out_and_its_id_is_worthless_after(running_portal):
    url = running_portal.portal.url
    client, answer = sign_in_over_http(running_portal, new_phone())
    session_id = client.cookies.get(COOKIE_NAME)
    client.post(f"{url}/sign-out", data={"csrf_token": csrf_token(answer.text)}, timeout=10)
    replay = requests.get(f"{url}/account", cookies={COOKIE_NAME: session_id}, allow_redirects=False, timeout=10)
    assert replay.status_code == 302 and replay.headers["Location"].startswith("/sign-in")


@pytest.mark.parametrize("path", ["/sign-in", "/sign-in/code", "/sign-out"])
def test_a_form_posted_without_its_csrf_token_is_refused(running_portal, path):
    client = requests.Session()
    client.get(f"{running_portal.portal.url}/sign-in", timeout=10)
    answer = client.post(f"{running_portal.portal.url}{path}", data={"phone": "13900000001", "code": "123456"}, timeout=10)
    assert answer.status_code == 400
    assert "页面已过期" in answer.text and "This page has expired" in answer.text and "Traceback" not in answer.text


@pytest.mark.parametrize("target", ["https://evil.example/", "//evil.example/x", "/\\evil.example", "http:/evil.example",
                                    "javascript:alert(1)", "/%0d%0aLocation: https://evil.example"])
def test_next_cannot_send_a_user_off_site(running_portal, target):
    _, answer = sign_in_over_http(running_portal, new_phone(), next_path=target)
    for response in [*answer.history, answer]:
        location = response.headers.get("Location", "")
        assert not location or (location.startswith("/") and not location.startswith(("//", "/\\"))), location
    assert answer.url.startswith(running_portal.portal.url + "/")


def test_next_on_this_site_is_followed(running_portal):
    _, answer = sign_in_over_http(running_portal, new_phone(), next_path="/venues/3?week=2027-01-04")
    assert answer.url == f"{running_portal.portal.url}/venues/3?week=2027-01-04"


def test_a_known_and_an_unknown_phone_get_the_same_answer(running_portal):
    url = running_portal.portal.url
    answers = {}
    for phone in ("13800000003", new_phone()):  # an organisation's contact, and a number nobody has
        client, answer = request_code_over_http(url, phone)
        answers[phone] = (answer.status_code, [r.status_code for r in answer.history],
                          answer.text.replace(f"{phone[:3]}****{phone[-4:]}", "PHONE").replace(csrf_token(answer.text), "T"))
    first, second = answers.values()
    assert first == second


def test_five_wrong_codes_end_the_code(running_portal):
    url, phone = running_portal.portal.url, new_phone()
    before = len(sms_lines(running_portal, phone))
    client, _ = request_code_over_http(url, phone)
    code = next_code(running_portal, phone, before)
    wrong = f"{(int(code) + 1) % 1_000_000:06d}"
    messages = [submit_code(client, url, wrong).text for _ in range(5)]
    assert "还可以再试4次" in messages[0] and "还可以再试1次" in messages[3] and "错误次数过多" in messages[4]
    answer = submit_code(client, url, code)
    assert answer.status_code == 422 and "验证码已失效" in answer.text


def test_a_new_code_comes_no_sooner_than_a_minute_after_the_last(running_portal):
    url, phone = running_portal.portal.url, new_phone()
    request_code_over_http(url, phone)
    _, answer = request_code_over_http(url, phone)
    assert answer.status_code == 422 and re.search(r"请等\d+秒后再获取新验证码", answer.text)


@pytest.mark.parametrize("phone", ["", "12345", "1380000000x", "+1 202 555 0143", "\u0000"])
def test_a_number_that_is_no_mainland_mobile_is_refused_next_to_its_field(running_portal, phone):
    _, answer = request_code_over_http(running_portal.portal.url, phone)
    assert answer.status_code in (400, 422) and "Traceback" not in answer.text
    if answer.status_code == 422:
        assert 'class="error-message" id="phone-error-1"' in answer.text


def test_nothing_about_a_code_reaches_a_log(running_portal):
    phone = new_phone()
    client, answer = sign_in_over_http(running_portal, phone)
    code = re.search(r"\d{6}", sms_lines(running_portal, phone)[-1]["body"]).group(0)
    for process in running_portal.portal.processes + list(running_portal.processes.values()):
        assert code not in process.log_text(), process.name


# --- in-process, with a clock the test moves ------------------------------------------------

@pytest.fixture
def rules(portal_app):
    runtime, context = portal_app.extensions["yizhan"], portal_app.extensions["portal"]
    return runtime.database, context.config, runtime.settings.secret_key, context.clock


def send(database, config, secret, clock, phone, address="192.0.2.1") -> str:
    """Ask for a code at the clock's time; return it, read from the outbox (the SMS's payload)."""
    with database.transaction() as session:
        _, key = codes.request_code(session, codes.parse_phone(phone), address, clock(), config, secret)
    with database.reader() as session:
        outbox = session.scalars(select(database.infrastructure.outbox)).all()
    return next(o.payload["params"]["code"] for o in outbox if o.payload["idempotency_key"] == key)


def check(database, config, secret, clock, phone, code):
    with database.transaction() as session:
        return codes.check_code(session, codes.parse_phone(phone), code, clock(), config, secret)


def test_a_code_is_kept_only_as_a_keyed_hash(rules):
    database, config, secret, clock = rules
    phone = new_phone()
    code = send(*rules, phone)
    with database.reader() as session:
        row = session.scalars(select(SignInCode).where(SignInCode.phone == f"+86{phone}")).one()
    assert code not in str([getattr(row, c.key) for c in SignInCode.__table__.columns])
    assert row.code_hash == codes.code_hash(secret, codes.Phone(phone), code)


def test_a_code_expires_after_five_minutes(rules):
    database, config, secret, clock = rules
    phone = new_phone()
    code = send(*rules, phone)
    clock.now += timedelta(minutes=5, seconds=1)
    with pytest.raises(codes.SignInRefused) as refusal:
        check(*rules, phone, code)
    assert refusal.value.message_id == "code_expired"


def test_a_code_works_just_before_it_expires_and_only_once(rules):
    phone = new_phone()
    code = send(*rules, phone)
    rules[3].now += timedelta(minutes=4, seconds=59)
    assert check(*rules, phone, code).used_at == rules[3].now
    with pytest.raises(codes.SignInRefused):
        check(*rules, phone, code)


def test_after_a_minute_a_new_code_may_be_sent_and_it_ends_the_old_one(rules):
    database, config, secret, clock = rules
    phone = new_phone()
    old = send(*rules, phone)
    clock.now += timedelta(seconds=59)
    with pytest.raises(codes.SignInRefused) as refusal:
        send(*rules, phone)
    assert refusal.value.message_id == "code_too_soon"
    clock.now += timedelta(seconds=1)
    new = send(*rules, phone)
    if new != old:  # one chance in a million they are the same
        with pytest.raises(codes.SignInRefused):
            check(*rules, phone, old)
    assert check(*rules, phone, new)


def test_a_phone_gets_at_most_ten_codes_a_day(rules):
    database, config, secret, clock = rules
    phone = new_phone()
    for n in range(config.codes_per_phone_per_day):
        send(database, config, secret, clock, phone, address=f"192.0.2.{n + 10}")
        clock.now += timedelta(minutes=1)
    with pytest.raises(codes.SignInRefused) as refusal:
        send(database, config, secret, clock, phone, address="192.0.2.99")
    assert refusal.value.message_id == "code_daily_cap"
    clock.now += timedelta(days=1)
    assert send(database, config, secret, clock, phone, address="192.0.2.99")


def test_one_client_address_gets_at_most_fifty_codes_a_day(rules):
    from dataclasses import replace

    from services.portal.config import PortalConfig

    database, config, secret, clock = rules
    config = replace(config, codes_per_address_per_day=PortalConfig.codes_per_address_per_day)
    assert config.codes_per_address_per_day == 50
    for _ in range(config.codes_per_address_per_day):
        send(database, config, secret, clock, new_phone(), address="198.51.100.7")
    with pytest.raises(codes.SignInRefused) as refusal:
        send(database, config, secret, clock, new_phone(), address="198.51.100.7")
    assert refusal.value.message_id == "code_daily_cap"
    assert send(database, config, secret, clock, new_phone(), address="198.51.100.8")


def test_a_session_ends_after_seven_idle_days(portal_app, running_portal):
    """A real sign-in through the in-process portal (booking answers over HTTP), then the clock moves."""
    clock = portal_app.extensions["portal"].clock
    client, phone = portal_app.test_client(), new_phone()
    token = csrf_token(client.get("/sign-in").text)
    client.post("/sign-in", data={"phone": phone, "csrf_token": token})
    code = send_code_of_last_row(portal_app, phone)
    token = csrf_token(client.get("/sign-in/code").text)
    assert client.post("/sign-in/code", data={"code": code, "csrf_token": token}).status_code == 302
    clock.now += timedelta(days=6, hours=23)
    assert client.get("/account").status_code == 200  # seen: the idle time starts again
    clock.now += timedelta(days=6, hours=23)
    assert client.get("/account").status_code == 200
    clock.now += timedelta(days=7, seconds=61)
    assert client.get("/account").status_code == 302


def sign_in_in_process(portal_app, phone: str):
    """Sign in through the in-process portal a minute after the clock's last code (the resend rule)."""
    portal_app.extensions["portal"].clock.now += timedelta(minutes=1, seconds=1)
    client = portal_app.test_client()
    client.post("/sign-in", data={"phone": phone, "csrf_token": csrf_token(client.get("/sign-in").text)})
    token = csrf_token(client.get("/sign-in/code").text)
    answer = client.post("/sign-in/code", data={"code": send_code_of_last_row(portal_app, phone), "csrf_token": token})
    assert answer.status_code == 302 and answer.headers["Location"] == "/account"
    return client


def test_sign_out_everywhere_ends_the_other_browsers_session(portal_app, running_portal):
    phone = new_phone()
    first, second = sign_in_in_process(portal_app, phone), sign_in_in_process(portal_app, phone)
    assert first.get("/account").status_code == 200
    token = csrf_token(second.get("/account").text)
    assert second.post("/sign-out/everywhere", data={"csrf_token": token}).status_code == 302
    assert first.get("/account").status_code == 302 and second.get("/account").status_code == 302


def test_a_disabled_accounts_sessions_end_at_once(portal_app, running_portal):
    client, phone = portal_app.test_client(), new_phone()
    portal_app.extensions["portal"].clock.now += timedelta(minutes=2)
    token = csrf_token(client.get("/sign-in").text)
    client.post("/sign-in", data={"phone": phone, "csrf_token": token})
    token = csrf_token(client.get("/sign-in/code").text)
    client.post("/sign-in/code", data={"code": send_code_of_last_row(portal_app, phone), "csrf_token": token})
    assert client.get("/account").status_code == 200
    database = portal_app.extensions["yizhan"].database
    with database.transaction() as session:
        session.scalars(select(Account).where(Account.phone == f"+86{phone}")).one().disabled = True
    assert client.get("/account").status_code == 302
    with database.reader() as session:
        account_id = session.scalar(select(Account.id).where(Account.phone == f"+86{phone}"))
        assert session.scalars(select(WebSession).where(WebSession.account_id == account_id)).all() == []


def test_the_code_never_reaches_the_portals_log(portal_app, running_portal, caplog):
    caplog.set_level(logging.DEBUG)
    client, phone = portal_app.test_client(), new_phone()
    portal_app.extensions["portal"].clock.now += timedelta(minutes=2)
    token = csrf_token(client.get("/sign-in").text)
    client.post("/sign-in", data={"phone": phone, "csrf_token": token})
    code = send_code_of_last_row(portal_app, phone)
    token = csrf_token(client.get("/sign-in/code").text)
    client.post("/sign-in/code", data={"code": code, "csrf_token": token})
    assert "signed in by SMS code" in caplog.text
    leaks = [r.getMessage() for r in caplog.records if re.search(rf"(?<![0-9a-f]){code}(?![0-9a-f])", r.getMessage())]
    assert not leaks


def send_code_of_last_row(portal_app, phone: str) -> str:
    database = portal_app.extensions["yizhan"].database
    outbox = database.infrastructure.outbox
    with database.reader() as session:
        # In order of writing: without ORDER BY, PostgreSQL returns rows as they lie, and the outbox's
        # mark after publishing (an UPDATE) moves a row.
        rows = session.scalars(select(outbox).order_by(outbox.created_at)).all()
    return [o.payload["params"]["code"] for o in rows if o.payload["recipient"] == phone][-1]


def test_ended_sessions_and_old_codes_are_purged(portal_app, running_portal):
    from services.portal.domain.sessions import purge_ended

    database, config = portal_app.extensions["yizhan"].database, portal_app.extensions["portal"].config
    phone = new_phone()
    sign_in_in_process(portal_app, phone)
    clock = portal_app.extensions["portal"].clock
    later = clock.now + timedelta(days=7, minutes=2)
    assert purge_ended(database, config, later) >= 1
    with database.transaction() as session:
        assert codes.purge_old_codes(session, clock.now + timedelta(days=2, minutes=1)) >= 1
    with database.reader() as session:
        assert session.scalars(select(SignInCode).where(SignInCode.phone == f"+86{phone}")).all() == []


def test_the_portals_relay_process_is_alive(running_portal):
    from tests.processes import wait_until

    heartbeat = running_portal.log_dir / "portal-relay.alive"
    wait_until(heartbeat.exists, 30, 0.2, "the portal relay's heartbeat")


@pytest.mark.parametrize("env, secure", [("test", True), ("production", True), ("development", False)])
def test_the_session_cookie_is_secure_outside_development(running_portal, env, secure):
    from services.portal import create_app
    from shared.settings import Settings

    environ = {k: v for k, v in running_portal.portal.env.items() if k != "PORTAL_COOKIE_SECURE"}
    app = create_app(Settings.from_env({**environ, "YIZHAN_ENV": env}))
    try:
        cookie = app.test_client().get("/sign-in").headers["Set-Cookie"]
    finally:
        app.extensions["yizhan"].database.dispose()
    assert cookie.startswith(f"{COOKIE_NAME}=") and "HttpOnly" in cookie and "SameSite=Lax" in cookie
    assert ("; Secure" in cookie) is secure


def test_a_signed_in_visitor_asking_to_sign_in_goes_on_to_the_page(running_portal):
    client, _ = sign_in_over_http(running_portal, new_phone())
    answer = client.get(f"{running_portal.portal.url}/sign-in", params={"next": "//evil.example"}, allow_redirects=False,
                        timeout=10)
    assert answer.status_code == 302 and answer.headers["Location"] == "/"


def test_a_code_after_a_purge_is_a_new_message_for_notify(rules):
    """SQLite hands a purged row's id out again: the SMS's idempotency key must not follow it."""
    database, config, secret, clock = rules
    with database.reader() as session:
        keys_before = {o.payload["idempotency_key"] for o in session.scalars(select(database.infrastructure.outbox))}
    clock.now += timedelta(days=3)
    with database.transaction() as session:
        codes.purge_old_codes(session, clock.now)
    send(*rules, new_phone())
    with database.reader() as session:
        keys_after = [o.payload["idempotency_key"] for o in session.scalars(select(database.infrastructure.outbox))]
    assert len(set(keys_after)) == len(keys_after) and len(set(keys_after) - keys_before) == 1


def test_two_requests_for_one_phone_at_once_send_one_code(rules):
    """Two portal replicas asked at the same moment: the resend rule still holds."""
    from concurrent.futures import ThreadPoolExecutor

    database, config, secret, clock = rules
    phone, now = new_phone(), clock()

    def ask(address):
        try:
            with database.transaction() as session:
                codes.request_code(session, codes.parse_phone(phone), address, now, config, secret)
            return "sent"
        except codes.SignInRefused as refusal:
            return refusal.message_id

    with ThreadPoolExecutor(4) as pool:
        answers = list(pool.map(ask, [f"203.0.113.{n}" for n in range(4)]))
    assert sorted(answers) == ["code_too_soon"] * 3 + ["sent"]
