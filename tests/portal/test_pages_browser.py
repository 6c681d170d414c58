"""The portal in a real browser: Debian's Chromium driven by Playwright, on a phone-sized
screen, against the real portal, booking and notify processes. axe-core checks every page
visited (no serious or critical violation); the main pages are photographed into
docs/screenshots/ for the README."""

import re
from datetime import date, datetime, timedelta

import pytest
import requests

from services.portal.i18n import month_day
from shared.timefmt import STATION_TZ
from tests.conftest import auth, make_booking
from tests.portal.browser import PHONE_SCREEN, accessible, needs_chromium, photograph
from tests.portal.conftest import next_code, portal_station, sms_lines

pytestmark = [pytest.mark.e2e, needs_chromium]


@pytest.fixture(scope="module")
def station(work_dir, redis_server):
    with portal_station("sqlite", work_dir, redis_server) as station:
        # A pending booking on the earliest bookable day, so the week shows busy time beside free.
        day = earliest_bookable_date(station)
        answer = station.http("booking", "POST", "/bookings", json=make_booking(
            venue_id=3, start=f"{day.isoformat()}T14:00:00+08:00", end=f"{day.isoformat()}T16:00:00+08:00"))
        assert answer.status_code == 201, answer.text
        yield station


def sign_in(page, station, phone: str) -> None:
    before = len(sms_lines(station, phone))
    page.goto("/sign-in")
    accessible(page)
    page.get_by_label("手机号").fill(phone)
    page.get_by_role("button", name="获取验证码").click()
    page.wait_for_url("**/sign-in/code")
    accessible(page)
    page.get_by_label("6位验证码").fill(next_code(station, phone, before))
    page.get_by_role("button", name="登录", exact=True).click()


def test_a_resident_signs_in_with_the_code_from_the_sms_log(page, station):
    page.goto("/sign-in")
    photograph(page, "sign-in")
    sign_in(page, station, "13900000201")
    page.wait_for_url("**/account")
    assert "您已登录：139****0201" in page.locator("#signed-in").inner_text()
    accessible(page)
    photograph(page, "account")


def test_an_organisations_contact_signs_in_as_its_contact(page, station):
    sign_in(page, station, "13800000001")
    page.wait_for_url("**/account")
    assert page.locator("#role").inner_text() == "身份：华垦社区党支部的联系人"
    accessible(page)
    photograph(page, "account-org")


def test_a_wrong_code_is_named_next_to_its_field_in_both_languages(page, station):
    before = len(sms_lines(station, "13900000202"))
    page.goto("/sign-in")
    page.get_by_label("手机号").fill("13900000202")
    page.get_by_role("button", name="获取验证码").click()
    code = next_code(station, "13900000202", before)
    page.get_by_label("6位验证码").fill(f"{(int(code) + 1) % 1_000_000:06d}")
    page.get_by_role("button", name="登录", exact=True).click()
    error = page.locator("#code-error-1")
    assert "验证码不正确，还可以再试4次" in error.inner_text() and "That code is wrong; 4 tries left" in error.inner_text()
    assert page.get_by_label("6位验证码").get_attribute("aria-invalid") == "true"
    accessible(page)
    photograph(page, "sign-in-wrong-code")


def test_a_number_that_is_not_a_mobile_is_refused_next_to_the_field(page, station):
    page.goto("/sign-in")
    page.get_by_label("手机号").fill("12345")
    page.get_by_role("button", name="获取验证码").click()
    assert "请输入正确的11位手机号" in page.locator("#phone-error-1").inner_text()
    accessible(page)


def test_sign_out_ends_the_session(page, station):
    sign_in(page, station, "13900000203")
    page.wait_for_url("**/account")
    page.get_by_role("button", name="退出登录").click()
    page.wait_for_url("**/signed-out")
    accessible(page)
    page.goto("/account")
    assert page.url == f"{station.portal.url}/sign-in?next=/account"


@pytest.mark.parametrize("language", ["zh-CN", "en"])
def test_the_public_pages_in_each_language(page, station, language):
    page.goto("/")
    if language == "en":
        page.get_by_role("link", name="Switch to English").click()
        page.wait_for_load_state()
    heading = page.get_by_role("heading", level=1).inner_text()
    assert heading == ("Welcome to the Huaken community service station" if language == "en" else "欢迎来到华垦社区党群服务驿站")
    assert page.locator("html").get_attribute("lang") == language
    accessible(page)
    photograph(page, f"home-{language}")

    page.get_by_role("link", name="See the venues and when they are free" if language == "en" else "查看场地和空闲时间").click()
    page.wait_for_url("**/venues")
    accessible(page)
    photograph(page, f"venues-{language}")

    page.get_by_role("link", name="Party–citizen meeting room" if language == "en" else "党群会议室").click()
    page.wait_for_url("**/venues/3")
    earliest = page.locator("#earliest").inner_text()
    if language == "en":
        assert re.fullmatch(r"Earliest booking: \w{3} \d{1,2} \w{3} \(3 working days' notice\)", earliest), earliest
    else:
        assert re.fullmatch(r"最早可预约 \d{1,2}月\d{1,2}日（周[一二三四五六日]），需提前3个工作日", earliest), earliest
    days = page.locator(".day")
    assert days.count() == 7
    accessible(page)
    photograph(page, f"venue-{language}")
    # The page opens on the week of the earliest bookable date; the days before it are not offered.
    today, earliest = datetime.now(STATION_TZ).date(), earliest_bookable_date(station)
    monday = earliest - timedelta(days=earliest.weekday())
    for n in range((earliest - monday).days):
        day = monday + timedelta(days=n)
        assert (("This day has passed" if language == "en" else "已过去") if day < today else
                ("Too soon to book" if language == "en" else "太近了，不能预约")) in days.nth(n).inner_text()
    first_day = page.locator(".day", has=page.get_by_role("heading", name=month_day(earliest, language), exact=True))
    assert [line.split() for line in first_day.locator(".slot").all_inner_texts()] == [
        ["08:30–14:00", "Free" if language == "en" else "空闲"], ["14:00–16:00", "Busy" if language == "en" else "已占用"],
        ["16:00–21:00", "Free" if language == "en" else "空闲"]]
    # With htmx the pager swaps the grid in place and pushes its link's address: wait for that one.
    if monday > today - timedelta(days=today.weekday()):
        link = page.get_by_role("link", name="← Previous week" if language == "en" else "← 上一周")
        address = link.get_attribute("href")
        link.click()
        page.wait_for_url(f"**{address}")
        accessible(page)
    link = page.get_by_role("link", name="Next week →" if language == "en" else "下一周 →")
    address = link.get_attribute("href")
    link.click()
    page.wait_for_url(f"**{address}")
    assert ("Free" if language == "en" else "空闲") in page.locator(".week").inner_text()
    accessible(page)


def earliest_bookable_date(station) -> date:
    api = requests.get(f"{station.urls['booking']}/venues/3/availability", params={"date": "2027-01-04"},
                       headers=auth("resident"), timeout=10).json()
    return date.fromisoformat(api["earliest_bookable_date"])


def test_the_earliest_date_on_the_page_is_the_one_the_api_names(page, station):
    earliest = earliest_bookable_date(station)
    page.goto("/venues/3")
    assert f"{earliest.month}月{earliest.day}日" in page.locator("#earliest").inner_text()


def test_a_missing_page_is_a_bilingual_page_not_a_traceback(page, station):
    response = page.goto("/venues/999")
    assert response.status == 404
    assert "找不到这个页面 Page not found" in page.get_by_role("heading", level=1).inner_text()
    accessible(page)


def test_the_pages_work_at_200_percent_zoom(browser, station):
    """WCAG 1.4.10 reflow: at 200 % a phone screen is 195 CSS pixels wide; nothing scrolls sideways."""
    context = browser.new_context(viewport=PHONE_SCREEN, device_scale_factor=2, is_mobile=True, base_url=station.portal.url)
    page = context.new_page()
    try:
        for path in ("/", "/venues", "/venues/3", "/sign-in"):
            page.goto(path)
            page.set_viewport_size({"width": PHONE_SCREEN["width"] // 2, "height": PHONE_SCREEN["height"] // 2})
            overflow = page.evaluate("document.documentElement.scrollWidth - document.documentElement.clientWidth")
            assert overflow <= 0, (path, overflow)
            page.set_viewport_size(PHONE_SCREEN)
    finally:
        context.close()


def test_body_text_and_tap_targets_are_large_enough(page, station):
    page.goto("/sign-in")
    size = page.evaluate("parseFloat(getComputedStyle(document.body).fontSize)")
    assert size >= 18
    for locator in (page.get_by_role("button", name="获取验证码"), page.get_by_label("手机号"),
                    page.get_by_role("link", name="场地预约")):
        box = locator.bounding_box()
        assert box["height"] >= 44, locator


def test_the_pages_carry_the_security_headers(station):
    for path in ("/", "/venues", "/venues/3", "/sign-in", "/nowhere"):
        response = requests.get(station.portal.url + path, timeout=10)
        policy = response.headers["Content-Security-Policy"]
        assert "script-src 'self'" in policy and "unsafe-inline" not in policy and "frame-ancestors 'none'" in policy
        assert response.headers["X-Frame-Options"] == "DENY"
        assert response.headers["Referrer-Policy"] == "same-origin"
        assert response.headers["X-Content-Type-Options"] == "nosniff"
        assert response.raw.headers.getlist("Content-Security-Policy") == [policy]


def test_no_page_has_an_inline_script_or_style(station):
    for path in ("/", "/venues", "/venues/3", "/sign-in"):
        html = requests.get(station.portal.url + path, timeout=10).text
        # The one script is the vendored htmx, by address (tests/portal/test_htmx.py); none is inline.
        assert all(" src=" in tag for tag in re.findall(r"<script[^>]*>", html)), path
        assert re.findall(r"<script[^>]*>\s*</script>", html) == re.findall(r"<script[^>]*>.*?</script>", html, re.S), path
        assert "style=" not in html and "<style" not in html, path
        assert not re.search(r"<[^>]+\son[a-z]+=", html) and "hx-on" not in html, path


def test_the_menu_says_where_you_are(page, station):
    page.goto("/venues/3")
    assert page.get_by_role("link", name="场地预约").get_attribute("aria-current") == "page"
    assert page.get_by_role("link", name="首页").get_attribute("aria-current") is None
