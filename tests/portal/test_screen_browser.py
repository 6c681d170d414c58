"""The big screen and the door (issue 13), in a real browser (Debian's Chromium, Playwright)
against real portal, booking, desk and notify processes and workers.

An admin makes the screen's signed link; the wall screen (1920×1080, no sign-in) lists today's
bookings by venue with the organisation's name and no contact's name or phone, and redraws itself
(htmx polling; without JavaScript a meta refresh reloads it); a forged or voided link is 404. The
door's QR poster opens /check-in/<venue>: the organisation's contact signs in, and inside the
check-in window checks in with one button; outside it, or with no booking there, a plain message.

Bookings that start now are written straight into the booking database: the booking API rightly
refuses to take one less than three working days ahead (SPEC §5), and no rule here is loosened.
"""

import re
from dataclasses import replace
from datetime import datetime, timedelta, timezone

import pytest
import requests
from sqlalchemy import select

from services.booking.models import Booking, BookingStatusChange
from services.portal import create_app
from services.portal.domain import screen
from services.portal.models import Account
from shared.settings import Settings
from shared.timefmt import STATION_TZ
from tests.portal.back_office import back_office_station, signed_in_page, signed_in_session
from tests.portal.browser import accessible, needs_chromium, phone_page, photograph
from tests.portal.conftest import csrf_token, next_code, request_code_over_http, sms_lines
from tests.processes import free_port

pytestmark = [pytest.mark.e2e, needs_chromium]

WALL_SCREEN = {"width": 1920, "height": 1080}
CONTACT_NAME, CONTACT_PHONE = "黄春梅", "13700000601"
OTHER_NAME, OTHER_PHONE = "符德明", "13700000602"
REFRESH = 5  # seconds, by ?refresh= (the screen's default is a minute)


@pytest.fixture(scope="module")
def station(work_dir, redis_server):
    with back_office_station(work_dir, redis_server) as station:
        station.venue_ids = {v["code"]: v["id"] for v in station.http("booking", "GET", "/venues?per_page=100").json()["items"]}
        station.org_id = new_organisation(station, "垦家大院合唱团", "Kenjia choir", CONTACT_NAME, CONTACT_PHONE)
        station.other_org_id = new_organisation(station, "垦家大院书法社", "Kenjia calligraphy club", OTHER_NAME,
                                                OTHER_PHONE)
        yield station


def new_organisation(station, name: str, name_en: str, contact: str, phone: str) -> int:
    answer = station.http("booking", "POST", "/organizations", json={
        "name": name, "name_en": name_en, "kind": "social_group", "contact": {"name": contact, "phone": phone}})
    assert answer.status_code == 201, answer.text
    return answer.json()["id"]


def booked_now(station, organization_id: int, venue: str, start: datetime, title: str, minutes: int = 60) -> int:
    """An approved booking at this time, written beside the API (see the module's docstring)."""
    with station.database("booking").transaction() as session:
        booking = Booking(venue_id=station.venue_ids[venue], organization_id=organization_id, start=start,
                          end=start + timedelta(minutes=minutes), title=title, attendees=12, contact_name=CONTACT_NAME,
                          contact_phone=CONTACT_PHONE, contact_email="choir@example.org", status="approved",
                          created_by="test")
        session.add(booking)
        session.flush()
        session.add(BookingStatusChange(booking_id=booking.id, from_status=None, to_status="approved", actor="test"))
        return booking.id


def now() -> datetime:
    return datetime.now(timezone.utc).replace(microsecond=0)


def wall_page(browser, station, javascript: bool = True):
    """The station's wall screen: a landscape 1920×1080 browser that nobody signs in to."""
    context = browser.new_context(viewport=WALL_SCREEN, device_scale_factor=1, locale="zh-CN",
                                  base_url=station.portal.url, java_script_enabled=javascript)
    page = context.new_page()
    page.csp_violations = []
    page.on("console", lambda m: "Content Security Policy" in m.text and page.csp_violations.append(m.text))
    return page


def screen_link(browser, station) -> str:
    """The admin makes the screen's link on their page (once per module) and reads it there."""
    if getattr(station, "screen_link", None):
        return station.screen_link
    page = signed_in_page(browser, station, "li.admin")
    page.goto("/staff")
    page.get_by_role("link", name="电子大屏和场地二维码").click()
    page.wait_for_url("**/admin/screen")
    assert "还没有大屏链接" in page.locator("#no-link").inner_text()
    page.get_by_role("button", name="生成大屏链接").click()
    page.wait_for_url("**/admin/screen?renewed=1")
    station.screen_link = page.locator("#screen-link").input_value()
    assert station.screen_link.startswith(f"{station.portal.url}/screen/")
    accessible(page)
    photograph(page, "screen-manage")
    page.context.close()
    return station.screen_link


def admin_http(browser, station) -> requests.Session:
    """The admin over HTTP with the browser's signed-in cookies: a second sign-in would wait for the
    next TOTP step (a code is good once), up to 30 s."""
    signed_in_page(browser, station, "li.admin").context.close()
    client = requests.Session()
    for cookie in station.signed_in_states[("li.admin", "zh-CN")]["cookies"]:
        client.cookies.set(cookie["name"], cookie["value"])
    return client


def test_the_big_screen_lists_todays_bookings_without_anyone_personal_and_redraws_itself(browser, station):
    on_now = booked_now(station, station.org_id, "meeting-room", now() - timedelta(minutes=5), "合唱排练 Choir practice")
    later_start = now() + timedelta(minutes=10)
    later = booked_now(station, station.other_org_id, "reading-area", later_start, "书法课 Calligraphy")
    link = screen_link(browser, station)
    page = wall_page(browser, station)
    navigations = []
    page.on("framenavigated", lambda frame: frame == page.main_frame and navigations.append(frame.url))
    page.goto(f"{link}?refresh={REFRESH}")
    board = page.locator("#board")
    venue = page.locator("li.screen-venue", has_text="党群会议室")
    assert "合唱排练 Choir practice" in venue.inner_text() and "垦家大院合唱团" in venue.inner_text()
    assert "进行中" in page.locator(f"#booking-{on_now}").inner_text()
    if later_start.astimezone(STATION_TZ).date() == now().astimezone(STATION_TZ).date():  # not tomorrow already
        assert "未开始" in page.locator(f"#booking-{later}").inner_text()
    html = page.content()
    for personal in (CONTACT_NAME, CONTACT_PHONE, OTHER_NAME, OTHER_PHONE, "choir@example.org"):
        assert personal not in html
    accessible(page)
    photograph(page, "big-screen")

    # A booking made while the screen is up appears on it with no reload by anyone (htmx polls the board).
    added = booked_now(station, station.org_id, "gateball-court", now() - timedelta(minutes=1), "门球友谊赛 Gateball match")
    page.locator(f"#booking-{added}").wait_for(timeout=4 * REFRESH * 1000)
    assert "门球友谊赛 Gateball match" in board.inner_text()
    assert navigations == [f"{link}?refresh={REFRESH}"]
    accessible(page)
    page.context.close()


def test_without_javascript_the_screen_reloads_itself(browser, station):
    page = wall_page(browser, station, javascript=False)
    address = f"{screen_link(browser, station)}?refresh={REFRESH}"
    page.goto(address)
    assert page.locator("#board").count() == 1
    with page.expect_request(lambda r: r.url == address and r.is_navigation_request(), timeout=4 * REFRESH * 1000):
        pass
    page.context.close()


def test_a_forged_or_tampered_screen_link_is_404_and_a_new_link_voids_the_old(browser, station):
    link = screen_link(browser, station)
    token = link.rsplit("/", 1)[1]
    payload, signature = token.split(".")
    for forged in ("forged", f"{payload}.{signature[:-2]}xx", "eyJzY3JlZW4iOjF9.AAAA", "", f"{token}x", "%00", "x" * 5000):
        answer = requests.get(f"{station.portal.url}/screen/{forged}", timeout=10)
        assert answer.status_code == 404, forged
        assert "合唱排练" not in answer.text
    admin = admin_http(browser, station)
    manage = admin.get(f"{station.portal.url}/admin/screen", timeout=10)
    renewed = admin.post(f"{station.portal.url}/admin/screen/link", data={"csrf_token": csrf_token(manage.text)},
                         timeout=10)
    assert renewed.status_code == 200 and "以前的链接都已失效" in renewed.text
    new_link = re.search(r'id="screen-link" type="text" value="([^"]+)"', renewed.text).group(1)
    assert new_link != link
    assert requests.get(link, timeout=10).status_code == 404
    assert requests.get(new_link, timeout=10).status_code == 200
    for odd in ("²", "-1", "1e9", "99999999", "%00"):  # an odd ?refresh= is the default minute, never a 500
        assert requests.get(f"{new_link}?refresh={odd}", timeout=10).status_code == 200
    station.screen_link = new_link
    # The admin's audit log says who gave the screen a new address and which one it voided.
    made = [(e.actor, e.subject, e.changes) for e in portal_audit(station, "screen_link.create")]
    assert len(made) == 2 and all(actor.startswith("admin:portal:") for actor, _, _ in made)
    first_id = int(made[0][1].split(":")[1])
    assert made[1][2] == {"voided_links": [[], [first_id]]}


def portal_audit(station, action: str) -> list:
    app = create_app(Settings.from_env(station.portal.env))
    database = app.extensions["yizhan"].database
    try:
        with database.reader() as db:
            model = database.infrastructure.audit_entry
            return db.scalars(select(model).where(model.action == action).order_by(model.id)).all()
    finally:
        database.dispose()


def test_only_an_admin_reaches_the_screen_page_and_the_posters(browser, station):
    url = station.portal.url
    nobody = requests.get(f"{url}/admin/screen", timeout=10, allow_redirects=False)
    assert nobody.status_code == 302 and "/staff/sign-in" in nobody.headers["Location"]
    staff = signed_in_session(station, "wang.fang")
    for path in ("/admin/screen", "/admin/screen/venues/meeting-room/poster"):
        assert staff.get(f"{url}{path}", timeout=10).status_code == 403
    token = csrf_token(staff.get(f"{url}/staff", timeout=10).text)
    assert staff.post(f"{url}/admin/screen/link", data={"csrf_token": token}, timeout=10).status_code == 403
    admin = admin_http(browser, station)
    assert admin.get(f"{url}/admin/screen/venues/no-such-venue/poster", timeout=10).status_code == 404


def test_the_venue_poster_holds_a_qr_code_of_the_venues_check_in_page(browser, station):
    page = signed_in_page(browser, station, "li.admin")
    page.goto("/admin/screen")
    page.get_by_role("link", name="党群会议室 的二维码").click()
    page.wait_for_url("**/admin/screen/venues/meeting-room/poster")
    assert page.locator("#poster-address").inner_text() == f"{station.portal.url}/check-in/meeting-room"
    assert page.locator("#poster .poster-qr svg path").count() >= 1
    assert "扫码签到" in page.locator("#poster").inner_text() and "Scan to check in" in page.locator("#poster").inner_text()
    accessible(page)
    photograph(page, "venue-poster")
    page.context.close()


def sign_in_at_the_door(page, station, path: str, phone: str) -> None:
    """Scanning the poster: the door page asks for sign-in, then comes back to itself."""
    before = len(sms_lines(station, phone))
    page.goto(path)
    page.wait_for_url(lambda url: "/sign-in?next=" in url)
    page.get_by_label("手机号").fill(phone)
    page.get_by_role("button", name="获取验证码").click()
    page.wait_for_url("**/sign-in/code")
    page.get_by_label("6位验证码").fill(next_code(station, phone, before))
    page.get_by_role("button", name="登录", exact=True).click()
    page.wait_for_url(f"**{path}")


def signed_in_contact(station, phone: str) -> requests.Session:
    """A phone signed in over HTTP: an organisation's contact, or a resident if no organisation has it."""
    before = len(sms_lines(station, phone))
    client, _ = request_code_over_http(station.portal.url, phone)
    code_page = client.get(f"{station.portal.url}/sign-in/code", timeout=10)
    answer = client.post(f"{station.portal.url}/sign-in/code", data={
        "code": next_code(station, phone, before), "csrf_token": csrf_token(code_page.text)}, timeout=10)
    assert answer.url.endswith("/account"), answer.url
    return client


def test_the_contact_scans_the_door_and_checks_in_inside_the_window(browser, station):
    booking_id = booked_now(station, station.org_id, "party-activity-area", now() - timedelta(minutes=5),
                            "党课 Party lecture")
    # Another organisation's contact cannot check it in, by naming its id at the door.
    other = signed_in_contact(station, OTHER_PHONE)
    door = other.get(f"{station.portal.url}/check-in/party-activity-area", timeout=10)
    assert door.status_code == 200 and "您的组织现在在这个场地没有预约" in door.text
    refused = other.post(f"{station.portal.url}/check-in/party-activity-area",
                         data={"booking_id": booking_id,
                               "csrf_token": csrf_token(other.get(f"{station.portal.url}/account", timeout=10).text)},
                         timeout=10)
    assert refused.status_code == 404
    token = csrf_token(other.get(f"{station.portal.url}/account", timeout=10).text)
    for odd in ("²", "", "-3", "1" * 13, "x"):
        answer = other.post(f"{station.portal.url}/check-in/party-activity-area",
                            data={"booking_id": odd, "csrf_token": token}, timeout=10)
        assert answer.status_code == 400, odd
    assert other.get(f"{station.portal.url}/check-in/%00", timeout=10).status_code == 404
    other.cookies.set("yizhan_lang", "en")
    english = other.get(f"{station.portal.url}/check-in/party-activity-area", timeout=10).text
    assert "Check in at the venue" in english and "Your organisation has no booking at this venue now." in english
    assert station.http("booking", "GET", f"/bookings/{booking_id}").json()["status"] == "approved"

    page = phone_page(browser, station.portal.url)
    sign_in_at_the_door(page, station, "/check-in/party-activity-area", CONTACT_PHONE)
    assert "党课 Party lecture" in page.locator("#door-booking").inner_text()
    assert "现在可以签到" in page.locator("#door-message").inner_text()
    accessible(page)
    page.get_by_role("button", name="签到").click()
    page.wait_for_url("**/check-in/party-activity-area?done=1")
    assert "签到成功" in page.locator("#done").inner_text()
    assert "已签到" in page.locator("#door-message").inner_text()
    accessible(page)
    photograph(page, "check-in")
    assert station.http("booking", "GET", f"/bookings/{booking_id}").json()["status"] == "checked_in"

    # Too early: the page says when check-in opens. No booking at a venue: it says so.
    booked_now(station, station.org_id, "reading-area", now() + timedelta(hours=2), "读书会 Reading club")
    page.goto("/check-in/reading-area")
    message = page.locator("#door-message").inner_text()
    assert "还没到签到时间" in message and "签到时间：" in message
    assert page.locator("#check-in-button").count() == 0
    accessible(page)
    photograph(page, "check-in-too-early")
    page.goto("/check-in/basketball-court")
    assert "您的组织现在在这个场地没有预约" in page.locator("#door-message").inner_text()
    accessible(page)
    assert page.goto("/check-in/no-such-venue").status == 404
    page.context.close()


def test_a_resident_at_the_door_is_told_it_is_for_booking_contacts(station):
    client = signed_in_contact(station, "13700000699")
    door = client.get(f"{station.portal.url}/check-in/meeting-room", timeout=10)
    assert door.status_code == 403 and "这个二维码供预约了场地的组织联系人签到" in door.text


def test_when_the_booking_api_is_away_the_screen_keeps_what_it_showed_or_says_so_plainly(station):
    """The portal in-process over the station's portal database; the booking API "goes away" by
    pointing the portal at a port where nothing listens."""
    booked_now(station, station.org_id, "culture-square", now() - timedelta(minutes=2), "广场舞 Square dance")
    app = create_app(Settings.from_env(station.portal.env))
    database = app.extensions["yizhan"].database
    with database.transaction() as db:
        admin = db.scalar(select(Account).where(Account.username == "li.admin"))
        token = screen.link_token(app.extensions["yizhan"].settings.secret_key, screen.make_new_link(db, admin, now()))
    context = app.extensions["portal"]
    away = replace(context.config, api_urls={**context.config.api_urls, "booking": f"http://127.0.0.1:{free_port()}"})
    try:
        with app.test_client() as client:
            shown = client.get(f"/screen/{token}")
            assert shown.status_code == 200 and "广场舞 Square dance" in shown.text
            assert "screen-dense" not in shown.text
            for n, venue in enumerate(("banyan-classroom", "culture-exhibition", "fitness-area", "basketball-court") * 2):
                booked_now(station, station.other_org_id, venue, now() - timedelta(minutes=1), f"活动 {n}")
            busy = client.get(f"/screen/{token}")
            assert 'class="screen-venues screen-dense"' in busy.text  # a busy day is set in three columns
            context.config = away
            for headers in ({}, {"HX-Request": "true"}):
                kept = client.get(f"/screen/{token}", headers=headers)
                assert kept.status_code == 200 and "广场舞 Square dance" in kept.text
                assert "暂时无法更新，显示的是" in kept.text and "Cannot update just now" in kept.text
        fresh = create_app(Settings.from_env(station.portal.env))
        fresh.extensions["portal"].config = away
        with fresh.test_client() as client:
            nothing = client.get(f"/screen/{token}")
            assert nothing.status_code == 200 and "暂时无法取得今天的安排，大屏会自动再试" in nothing.text
            assert 'hx-trigger="every 60s"' in nothing.text  # and it keeps trying
        fresh.extensions["yizhan"].database.dispose()
    finally:
        database.dispose()
