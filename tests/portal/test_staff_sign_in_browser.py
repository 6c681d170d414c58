"""Staff sign-in in a real browser (Debian's Chromium, phone-sized), against the real portal
processes: the password, then the TOTP code pyotp computes from the account's secret, or the
first time the enrolment page's QR code and key. axe-core on every page; screenshots taken."""


import pyotp
import pytest

from services.portal import create_app
from services.portal.domain import staff_sign_in as staff
from shared.db import utcnow
from shared.settings import Settings
from tests.portal.conftest import portal_station
from tests.portal.browser import accessible, needs_chromium, photograph

pytestmark = [pytest.mark.e2e, needs_chromium]

PASSWORD = "yizhan-browser-staff"
SEEDED_SECRET = "YIZHANBROWSERTESTSTAFFSECRET2345"


@pytest.fixture(scope="module")
def station(work_dir, redis_server):
    with portal_station("sqlite", work_dir, redis_server) as station:
        app = create_app(Settings.from_env(station.portal.env))
        database = app.extensions["yizhan"].database
        with database.transaction() as db:
            staff.create_account(db, "wang.fang", PASSWORD, "staff", utcnow(), totp_secret=SEEDED_SECRET, enrolled=True)
            staff.create_account(db, "li.admin", PASSWORD, "admin", utcnow())
        database.dispose()
        yield station


def give_password(page, username: str) -> None:
    page.goto("/staff/sign-in")
    accessible(page)
    page.get_by_label("用户名").fill(username)
    page.get_by_label("密码").fill(PASSWORD)
    page.get_by_role("button", name="下一步").click()


def test_a_staff_member_signs_in_with_the_code_from_the_seeded_secret(page, station):
    page.goto("/staff/sign-in")
    photograph(page, "staff-sign-in")
    give_password(page, "wang.fang")
    page.wait_for_url("**/staff/sign-in/code")
    accessible(page)
    photograph(page, "staff-code")
    page.get_by_label("6位验证码").fill(pyotp.TOTP(SEEDED_SECRET).now())
    page.get_by_role("button", name="登录", exact=True).click()
    page.wait_for_url("**/staff")
    assert page.locator("#signed-in").inner_text() == "您已登录：wang.fang"
    assert page.locator("#role").inner_text() == "身份：驿站工作人员"
    accessible(page)
    photograph(page, "staff-home")
    page.get_by_role("button", name="退出登录").click()
    page.wait_for_url("**/signed-out")
    page.goto("/staff")
    assert page.url == f"{station.portal.url}/staff/sign-in"


def test_a_wrong_password_is_named_next_to_the_password(page, station):
    page.goto("/staff/sign-in")
    page.get_by_label("用户名").fill("nobody")
    page.get_by_label("密码").fill("not the password")
    page.get_by_role("button", name="下一步").click()
    assert "用户名或密码不对" in page.locator("#password-error-1").inner_text()
    assert page.get_by_label("密码").get_attribute("aria-invalid") == "true"
    assert page.get_by_label("密码").input_value() == ""  # never written back into the page
    accessible(page)
    photograph(page, "staff-sign-in-wrong-password")


def test_a_new_admin_enrols_by_the_qr_code_and_signs_in(page, station):
    give_password(page, "li.admin")
    page.wait_for_url("**/staff/sign-in/enrol")
    accessible(page)
    photograph(page, "staff-enrol")
    assert page.locator(".qr-code svg").is_visible()
    secret = page.locator("#totp-secret").inner_text().replace(" ", "").strip()
    page.get_by_label("6位验证码").fill(pyotp.TOTP(secret).now())
    page.get_by_role("button", name="完成设置并登录").click()
    page.wait_for_url("**/staff")
    assert page.locator("#role").inner_text() == "身份：管理员"
    accessible(page)


def test_the_staff_sign_in_in_english(page, station):
    page.goto("/staff/sign-in")
    page.get_by_role("link", name="Switch to English").click()
    page.wait_for_url("**/staff/sign-in")
    assert page.locator("h1").inner_text() == "Staff sign-in"
    page.get_by_label("Username").fill("wang.fang")
    page.get_by_label("Password").fill("wrong password")
    page.get_by_role("button", name="Continue").click()
    assert "The username or password is wrong" in page.locator("#password-error-1").inner_text()
    accessible(page)
    photograph(page, "staff-sign-in-en")
