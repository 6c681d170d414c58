"""An organisation contact books the meeting room in a real browser (Debian's Chromium,
Playwright, a phone-sized screen) against real portal, booking, desk and notify processes
and workers (issue 12): signs in with the code from the SMS log, is refused a day inside the
notice period with the earliest day named, books that day, sees it pending; staff approve it
through the desk API; the page then says approved and the SMS log holds the approval. In
zh-CN and in English; axe-core on every page; the pages photographed into docs/screenshots/."""

from datetime import date, timedelta

import pytest
import requests

from services.portal.i18n import month_day
from tests.conftest import auth
from tests.portal.conftest import next_code, portal_station, sms_lines
from tests.portal.test_org_pages import approved_booking, soon_slot
from tests.portal.browser import PHONE_SCREEN, accessible, needs_chromium, photograph
from tests.portal.browser import phone_page as new_phone_page
from tests.processes import wait_until

pytestmark = [pytest.mark.e2e, needs_chromium]

WORDS = {
    "zh-CN": {"phone": "手机号", "send": "获取验证码", "code": "6位验证码", "sign_in": "登录", "book": "我要预约",
              "venue": "场地", "date": "日期", "start": "开始时间", "end": "结束时间", "title": "活动名称",
              "attendees": "参加人数", "submit": "提交预约申请", "room": "党群会议室", "pending": "状态：等待审核",
              "approved": "状态：已通过", "mine": "查看我的预约", "cancel": "取消这个预约", "credit": "诚信分",
              "earliest": "最早可预约 {date}，需提前3个工作日", "no_cost": "现在取消不扣诚信分",
              "late": "诚信分将扣除5分（现为100分）", "confirm": "确认取消", "cancelled": "状态：已取消",
              "score": "诚信分：95分", "late_event": "临时取消预约 · -5分"},
    "en": {"phone": "Mobile number", "send": "Text me a code", "code": "6-digit code", "sign_in": "Sign in",
           "book": "Book a venue", "venue": "Venue", "date": "Date", "start": "Start time", "end": "End time",
           "title": "What the booking is for", "attendees": "Number of people", "submit": "Send the booking request",
           "room": "Party–citizen meeting room", "pending": "Status: Waiting for review", "approved": "Status: Approved",
           "mine": "See my bookings", "cancel": "Cancel this booking", "credit": "Credit",
           "earliest": "the earliest day you can book is {date} (3 working days' notice)",
           "no_cost": "Cancelling now costs no credit points", "late": "will lose 5 credit points (it has 100)",
           "confirm": "Yes, cancel it", "cancelled": "Status: Cancelled", "score": "Credit score: 95",
           "late_event": "Late cancellation · -5 points"},
}
CONTACTS = {"zh-CN": ("13700000301", "垦家大院合唱团"), "en": ("13700000302", "Kenjia choir")}


@pytest.fixture(scope="module")
def station(work_dir, redis_server):
    with portal_station("sqlite", work_dir, redis_server, services=("booking", "desk", "notify")) as station:
        yield station


def phone_page(browser, station, language: str):
    return new_phone_page(browser, station.portal.url, language)


def new_organisation(station, phone: str, name: str) -> int:
    """Staff register a new organisation with its contact's mobile (the desk's job, through the API)."""
    answer = station.http("booking", "POST", "/organizations", json={
        "name": name, "name_en": name, "kind": "social_group", "contact": {"name": "黄春梅", "phone": phone}})
    assert answer.status_code == 201, answer.text
    return answer.json()["id"]


def earliest_bookable_date(station) -> date:
    answer = requests.get(f"{station.urls['booking']}/venues/3/availability", params={"date": "2027-01-04"},
                          headers=auth("resident"), timeout=10).json()
    return date.fromisoformat(answer["earliest_bookable_date"])


def sign_in(page, station, phone: str, words: dict) -> None:
    before = len(sms_lines(station, phone))
    page.goto("/sign-in")
    page.get_by_label(words["phone"]).fill(phone)
    page.get_by_role("button", name=words["send"]).click()
    page.wait_for_url("**/sign-in/code")
    page.get_by_label(words["code"]).fill(next_code(station, phone, before))
    page.get_by_role("button", name=words["sign_in"], exact=True).click()
    page.wait_for_url("**/account")


def fill_booking(page, words: dict, day: date, start: str, end: str) -> None:
    page.get_by_label(words["venue"], exact=True).select_option(label=words["room"])
    page.get_by_label(words["date"], exact=True).fill(day.isoformat())
    page.get_by_label(words["start"]).fill(start)
    page.get_by_label(words["end"]).fill(end)
    page.get_by_label(words["title"]).fill("合唱排练 Choir practice")
    page.get_by_label(words["attendees"]).fill("20")


def open_reviews(station) -> list[dict]:
    answer = station.http("desk", "GET", "/reviews?status=open&per_page=100")
    assert answer.status_code == 200, answer.text  # say why, rather than a KeyError on "items"
    return answer.json()["items"]


def approve_at_the_desk(station, booking_id: int) -> None:
    review = wait_until(lambda: [r for r in open_reviews(station) if r["booking_id"] == booking_id],
                        30, 0.3, "the review at the desk")[0]
    answer = station.http("desk", "POST", f"/reviews/{review['id']}/decision", json={"decision": "approve"})
    assert answer.status_code in (200, 201), answer.text
    wait_until(lambda: station.http("booking", "GET", f"/bookings/{booking_id}").json()["status"] == "approved",
               30, 0.3, "the approval to reach booking")


@pytest.mark.parametrize("language", ["zh-CN", "en"])
def test_a_new_contact_books_the_meeting_room_and_sees_it_approved(browser, station, language):
    words, (phone, name) = WORDS[language], CONTACTS[language]
    shot = "" if language == "zh-CN" else "-en"
    organization_id = new_organisation(station, phone, name)
    page = phone_page(browser, station, language)
    sign_in(page, station, phone, words)

    page.get_by_role("link", name=words["book"]).click()
    page.wait_for_url("**/org/book")
    accessible(page)
    photograph(page, f"org-book{shot}")

    earliest = earliest_bookable_date(station)
    start, end = ("14:00", "16:00") if language == "zh-CN" else ("09:00", "11:00")
    fill_booking(page, words, earliest - timedelta(days=1), start, end)
    page.get_by_role("button", name=words["submit"]).click()
    error = page.locator("#date-error-1")
    assert words["earliest"].format(date=month_day(earliest, language)) in error.inner_text()
    assert page.get_by_label(words["date"], exact=True).get_attribute("aria-invalid") == "true"
    accessible(page)
    photograph(page, f"org-book-refused{shot}")

    page.get_by_label(words["date"], exact=True).fill(earliest.isoformat())
    page.get_by_role("button", name=words["submit"]).click()
    page.wait_for_url("**/org/bookings/*/requested")
    assert words["pending"] in page.locator("#status").inner_text()
    accessible(page)
    photograph(page, f"org-requested{shot}")
    booking_id = int(page.url.split("/")[-2])

    page.get_by_role("link", name=words["mine"]).click()
    page.wait_for_url("**/org/bookings")
    assert words["pending"] in page.locator("#bookings").inner_text()
    accessible(page)
    photograph(page, f"org-bookings{shot}")

    approve_at_the_desk(station, booking_id)
    page.get_by_role("link", name="合唱排练 Choir practice").click()
    page.wait_for_url(f"**/org/bookings/{booking_id}")
    assert words["approved"] in page.locator("#status").inner_text()
    assert len(page.locator("#history li").all()) == 2
    accessible(page)
    photograph(page, f"org-booking{shot}")
    approval = wait_until(lambda: [line for line in sms_lines(station, phone)
                                   if f"{booking_id}" in line["body"] and ("已通过审核" in line["body"] or "is approved" in line["body"])],
                          30, 0.3, "the approval SMS")
    assert approval

    page.get_by_role("link", name=words["cancel"]).click()
    page.wait_for_url(f"**/org/bookings/{booking_id}/cancel")
    assert words["no_cost"] in page.locator("#no-cost").inner_text()
    accessible(page)

    # An approved booking a few hours away: cancelling it now is late, and the page says what it costs first.
    soon = soon_slot() + (timedelta(minutes=30) if language == "en" else timedelta(0))
    late_id = approved_booking(station, organization_id, soon, soon - timedelta(days=10), hours=0.5)
    page.goto(f"/org/bookings/{late_id}/cancel")
    assert words["late"] in page.locator("#late-warning").inner_text()
    accessible(page)
    photograph(page, f"org-cancel-late{shot}")
    page.get_by_role("button", name=words["confirm"]).click()
    page.wait_for_url(f"**/org/bookings/{late_id}?cancelled=1")
    assert words["cancelled"] in page.locator("#status").inner_text()
    accessible(page)

    page.get_by_role("link", name=words["credit"], exact=True).click()
    page.wait_for_url("**/org/credit")
    assert words["score"] in page.locator("#score").inner_text()
    assert words["late_event"] in page.locator("#credit-events").inner_text()
    accessible(page)
    photograph(page, f"org-credit{shot}")
    page.context.close()


def test_the_org_pages_work_at_200_percent_zoom(browser, station):
    """WCAG 1.4.10 reflow on the org pages: nothing scrolls sideways at 200 %."""
    new_organisation(station, "13700000303", "垦家大院书法社")
    page = phone_page(browser, station, "zh-CN")
    sign_in(page, station, "13700000303", WORDS["zh-CN"])
    for path in ("/org/book", "/org/bookings", "/org/credit"):
        page.goto(path)
        page.set_viewport_size({"width": PHONE_SCREEN["width"] // 2, "height": PHONE_SCREEN["height"] // 2})
        overflow = page.evaluate("document.documentElement.scrollWidth - document.documentElement.clientWidth")
        assert overflow <= 0, (path, overflow)
        page.set_viewport_size(PHONE_SCREEN)
    page.context.close()


def test_a_series_is_previewed_and_its_taken_date_skipped(browser, station):
    words = WORDS["zh-CN"]
    new_organisation(station, "13700000304", "垦家大院太极队")
    first = earliest_bookable_date(station) + timedelta(days=7)
    taken = first + timedelta(weeks=1)
    blocker = station.http("booking", "POST", "/bookings", json={
        "venue_id": 3, "organization_id": 4, "start": f"{taken.isoformat()}T08:30:00+08:00",
        "end": f"{taken.isoformat()}T10:00:00+08:00", "title": "门球队例会", "attendees": 8,
        "contact": {"name": "云德明", "phone": "13800000004"}})
    assert blocker.status_code == 201, blocker.text
    page = phone_page(browser, station, "zh-CN")
    sign_in(page, station, "13700000304", words)
    page.goto("/org/book")
    fill_booking(page, words, first, "08:30", "09:30")
    page.get_by_label("每周一次").check()
    page.get_by_label("重复次数").fill("3")
    page.get_by_role("button", name=words["submit"]).click()
    preview = page.locator("#preview li")
    assert [item.inner_text().split()[-1] for item in preview.all()] == ["有空", "已被占用或不开放", "有空"]
    accessible(page)
    photograph(page, "org-series-preview")
    page.get_by_label("跳过已被占用的日期，只预约有空的日期").check()
    page.get_by_role("button", name="提交重复预约申请").click()
    page.wait_for_url("**/org/bookings/*/requested")
    page.get_by_role("link", name=words["mine"]).click()
    assert page.locator("#bookings li").count() == 2
    page.context.close()
