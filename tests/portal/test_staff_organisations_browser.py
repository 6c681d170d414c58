"""Staff look after organisations in a real browser (Debian's Chromium, Playwright, a phone-sized
screen) against real portal, booking, desk and notify processes (issue 13): staff wang.fang
registers an organisation, adds a contact phone, takes 10 points with a reason and sees the
score and the ledger change; lifts a suspension the integrity rules imposed; axe-core on every
page; the pages photographed. Then what a browser without JavaScript, a wrong role or a wrong
id gets: plain refusals beside the fields, 403, 404, never a traceback."""

from datetime import datetime, timedelta

import pytest
import requests
from playwright.sync_api import expect

from services.booking.domain import lifecycle
from shared.timefmt import STATION_TZ
from tests.booking.conftest import BookingDesk
from tests.booking.test_lifecycle import decide
from tests.portal.back_office import back_office_station, signed_in_page
from tests.portal.browser import PHONE_SCREEN, accessible, needs_chromium, photograph
from tests.portal.conftest import csrf_token
from tests.portal.test_sign_in import new_phone, sign_in_over_http

pytestmark = [pytest.mark.e2e, needs_chromium]

NEW_NAME, NEW_PHONE, EXTRA_PHONE = "垦家大院合唱团", "13700001301", "13900001351"


@pytest.fixture(scope="module")
def station(work_dir, redis_server):
    with back_office_station(work_dir, redis_server) as station:
        yield station


@pytest.fixture(scope="module")
def staff_page(browser, station):
    page = signed_in_page(browser, station, "wang.fang")
    yield page
    page.context.close()


def organisation_id_of(page) -> int:
    return int(page.url.split("/staff/organisations/")[1].split("?")[0].split("/")[0])


def test_staff_register_an_organisation_add_a_phone_and_take_ten_points(staff_page, station):
    page = staff_page
    page.goto("/staff")
    page.get_by_role("link", name="组织与诚信记录").click()
    page.wait_for_url("**/staff/organisations")
    assert "华垦社区党支部" in page.locator("#organisations").inner_text()  # the seed's organisations
    accessible(page)
    photograph(page, "staff-organisations")

    page.get_by_role("link", name="登记新组织").click()
    page.wait_for_url("**/staff/organisations/new")
    accessible(page)
    page.get_by_role("button", name="登记", exact=True).click()
    assert "请填写此项" in page.locator("#name-error-1").inner_text()
    assert page.get_by_label("组织名称").get_attribute("aria-invalid") == "true"
    accessible(page)

    page.get_by_label("组织名称").fill(NEW_NAME)
    page.get_by_label("英文名称（可不填）").fill("Kenjia choir")
    page.get_by_label("社会团体", exact=True).check()
    page.get_by_label("联系人姓名").fill("黄春梅")
    page.get_by_label("联系人手机号").fill("137 0000 130")  # a digit short
    page.get_by_role("button", name="登记", exact=True).click()
    assert "请输入正确的11位手机号" in page.locator("#contact_phone-error-1").inner_text()
    accessible(page)
    photograph(page, "staff-organisation-refused")
    page.get_by_label("联系人手机号").fill("137 0000 1301")
    page.get_by_role("button", name="登记", exact=True).click()
    page.wait_for_url("**/staff/organisations/*?done=created")
    organization_id = organisation_id_of(page)
    assert "已登记这个组织" in page.locator("#done").inner_text()
    assert "黄春梅，137 0000 1301" in page.locator("#details").inner_text()

    page.get_by_label("添加手机号").fill("+86 139-0000-1351")
    page.get_by_role("button", name="添加", exact=True).click()
    page.wait_for_url(f"**/staff/organisations/{organization_id}?done=phone_added")
    assert "139 0000 1351" in page.locator("#phones").inner_text()
    accessible(page)
    photograph(page, "staff-organisation")
    found = station.http("booking", "GET", "/organizations", role="system", params={"contact_phone": EXTRA_PHONE})
    assert [o["id"] for o in found.json()["items"]] == [organization_id]
    page.get_by_label("添加手机号").fill("13900001352")
    page.get_by_role("button", name="添加", exact=True).click()
    page.get_by_role("button", name="删除手机号 139 0000 1352").click()
    page.wait_for_url(f"**/staff/organisations/{organization_id}?done=phone_removed")
    assert "139 0000 1352" not in page.locator("#phones").inner_text()
    assert "139 0000 1351" in page.locator("#phones").inner_text()

    page.get_by_role("link", name="查看诚信记录、调整诚信分").click()
    page.wait_for_url(f"**/staff/organisations/{organization_id}/credit")
    assert "诚信分：100分" in page.locator("#score").inner_text()
    accessible(page)
    page.get_by_label("扣分", exact=True).check()
    page.get_by_label("分数", exact=True).fill("10")
    page.get_by_role("button", name="确认调整").click()
    assert "请写明原因" in page.locator("#reason-error-1").inner_text()
    accessible(page)
    page.get_by_label("原因", exact=True).fill("损坏音响 Broke the speakers")
    page.get_by_role("button", name="确认调整").click()
    page.wait_for_url(f"**/staff/organisations/{organization_id}/credit?done=adjusted")
    assert "诚信分：90分" in page.locator("#score").inner_text()
    ledger = page.locator("#ledger").inner_text()
    assert "工作人员调整 · -10分" in ledger and "原因：损坏音响 Broke the speakers" in ledger
    assert "经办人：wang.fang" in ledger
    accessible(page)
    photograph(page, "staff-credit")
    events = station.http("booking", "GET", f"/organizations/{organization_id}/credit-events").json()["items"]
    assert [(e["kind"], e["points"], e["note"]) for e in events] == [("adjustment", -10, "损坏音响 Broke the speakers")]


def test_staff_edit_an_organisation_and_find_it_by_name(staff_page, station):
    page = staff_page
    page.goto("/staff/organisations?name=合唱")
    assert page.locator("#organisations li").count() == 1
    page.get_by_role("link", name=NEW_NAME).click()
    page.get_by_role("link", name="修改组织信息").click()
    page.wait_for_url("**/edit")
    assert page.get_by_label("联系人手机号").input_value() == "137 0000 1301"
    accessible(page)
    page.get_by_label("组织名称").fill("华垦社区党支部")  # another organisation's name: the API's 409, beside the field
    page.get_by_role("button", name="保存修改").click()
    assert "已有同名组织" in page.locator("#name-error-1").inner_text()
    page.get_by_label("组织名称").fill("垦家大院合唱队")
    page.get_by_label("单位", exact=True).check()
    page.get_by_role("button", name="保存修改").click()
    page.wait_for_url("**?done=saved")
    assert "类型：单位" in page.locator("#details").inner_text()
    assert page.locator("h1").inner_text().startswith("垦家大院合唱队")


def suspended_by_three_no_shows(station) -> int:
    """An organisation the integrity rules suspended: three approved bookings nobody came to."""
    answer = station.http("booking", "POST", "/organizations", json={
        "name": "垦家大院门球爱好者", "kind": "social_group", "contact": {"name": "云德明", "phone": "13700001302"}})
    assert answer.status_code == 201, answer.text
    desk = BookingDesk(station)
    desk.organization_id = answer.json()["id"]
    today = datetime.now(STATION_TZ).date()
    for days in (14, 15, 16):
        start = today + timedelta(days=days)
        booking = desk.request(f"{today} 10:00", f"{start} 09:00").first.id
        decide(desk, booking)
        with desk.database.transaction() as session:
            lifecycle.sweep_attendance(session, datetime.combine(start, datetime.min.time(), STATION_TZ)
                                       + timedelta(hours=11), desk.policy)
    assert station.http("booking", "GET", f"/organizations/{desk.organization_id}").json()["suspended_until"]
    return desk.organization_id


def test_staff_lift_a_suspension_with_a_reason(staff_page, station):
    organization_id = suspended_by_three_no_shows(station)
    page = staff_page
    page.goto(f"/staff/organisations/{organization_id}/credit")
    assert "预约资格暂停至" in page.locator("#suspension").inner_text()
    assert "诚信分：70分" in page.locator("#score").inner_text()
    page.get_by_role("button", name="解除暂停").click()
    assert "请写明原因" in page.locator("#lift_reason-error-1").inner_text()
    accessible(page)
    page.get_by_label("解除原因").fill("已当面说明，场地系误登记 Explained in person")
    page.get_by_role("button", name="解除暂停").click()
    page.wait_for_url(f"**/staff/organisations/{organization_id}/credit?done=lifted")
    assert "没有暂停" in page.locator("#suspension").inner_text()
    assert "工作人员解除暂停" in page.locator("#ledger").inner_text()
    assert page.get_by_role("button", name="解除暂停").count() == 0
    accessible(page)
    standing = station.http("booking", "GET", f"/organizations/{organization_id}").json()
    assert standing["suspended_until"] is None and standing["recent_violations"] == 0


def test_the_pages_reflow_at_200_percent_zoom(staff_page, station):
    """WCAG 1.4.10: nothing scrolls sideways at 200 % (half the phone's width in CSS pixels)."""
    page = staff_page
    mine = station.http("booking", "GET", "/organizations", params={"name": "合唱队"}).json()["items"][0]["id"]
    for path in ("/staff/organisations", "/staff/organisations/new", f"/staff/organisations/{mine}",
                 f"/staff/organisations/{mine}/edit", f"/staff/organisations/{mine}/credit"):
        page.goto(path)
        page.set_viewport_size({"width": PHONE_SCREEN["width"] // 2, "height": PHONE_SCREEN["height"] // 2})
        overflow = page.evaluate("document.documentElement.scrollWidth - document.documentElement.clientWidth")
        page.set_viewport_size(PHONE_SCREEN)
        assert overflow <= 0, (path, overflow)


# --- without a browser: what the forms refuse, and who may open the pages ---------------------

def post_form(page, path: str, data: dict):
    """A form sent as a browser without JavaScript sends it, with the page's CSRF token."""
    token = csrf_token(page.request.get("/staff/organisations/new").text())  # one token per session
    return page.request.post(path, form={**data, "csrf_token": token}, max_redirects=0)


def test_the_api_refusals_are_shown_plainly_beside_the_fields(staff_page, station):
    page = staff_page
    other = station.http("booking", "GET", "/organizations", params={"name": "党支部"}).json()["items"][0]
    mine = station.http("booking", "GET", "/organizations", params={"name": "合唱队"}).json()["items"][0]["id"]
    taken = post_form(page, f"/staff/organisations/{mine}/phones", {"phone": other["contact"]["phone"]})
    assert taken.status == 422 and "该号码已是组织" in taken.text() and 'id="phone-error-1"' in taken.text()
    odd = post_form(page, f"/staff/organisations/{mine}/phones", {"phone": "02066668888"})
    assert odd.status == 422 and "请输入正确的11位手机号" in odd.text()
    missing = post_form(page, f"/staff/organisations/{mine}/phones/remove", {"phone": "13900009999"})
    assert missing.status == 422 and "没有这个联系电话" in missing.text()
    too_many = post_form(page, f"/staff/organisations/{mine}/credit/adjust",
                         {"direction": "give", "points": "50", "reason": "表现好"})
    assert too_many.status == 422 and "调整后诚信分须在0至100分之间" in too_many.text()
    assert 'id="points-error-1"' in too_many.text()
    words = post_form(page, f"/staff/organisations/{mine}/credit/adjust",
                      {"direction": "take", "points": "ten", "reason": "迟还钥匙"})
    assert words.status == 422 and "请填写1到100之间的整数" in words.text()
    not_suspended = post_form(page, f"/staff/organisations/{mine}/credit/lift", {"lift_reason": "无"})
    assert not_suspended.status == 422 and "没有被暂停" in not_suspended.text()
    assert "Traceback" not in not_suspended.text()
    for path in ("/staff/organisations/999999", "/staff/organisations/999999/credit",
                 "/staff/organisations/999999/edit"):
        assert page.request.get(path).status == 404, path
    gone = post_form(page, "/staff/organisations/999999/credit/adjust",
                     {"direction": "take", "points": "5", "reason": "没有这个组织"})
    assert gone.status == 404


def test_the_pages_read_in_english_too(staff_page, station):
    page = staff_page
    page.context.add_cookies([{"name": "yizhan_lang", "value": "en", "url": station.portal.url}])
    try:
        page.goto("/staff/organisations")
        assert page.locator("h1").inner_text() == "Organisations and integrity records"
        page.get_by_role("link", name="Kenjia choir").click()
        # Waits for the page the click opens: content() read mid-navigation is empty (seen on a slow machine).
        expect(page.get_by_text("Phones that sign in for this organisation")).to_be_visible()
        accessible(page)
        page.get_by_role("link", name="See the credit record, adjust the credit").click()
        assert "Credit score: 90 (out of 100)" in page.locator("#score").inner_text()
        assert "Adjusted by the station's staff · -10 points" in page.locator("#ledger").inner_text()
        accessible(page)
    finally:
        page.context.add_cookies([{"name": "yizhan_lang", "value": "zh-CN", "url": station.portal.url}])


def test_the_organisation_sees_the_adjustment_on_its_own_credit_page(station):
    client, answer = sign_in_over_http(station, NEW_PHONE)
    assert answer.url.endswith("/account"), answer.text
    credit = client.get(f"{station.portal.url}/org/credit", timeout=10)
    assert credit.status_code == 200 and "工作人员调整" in credit.text and "诚信分：90分" in credit.text
    assert "原因：损坏音响 Broke the speakers" in credit.text


PAGES = ("/staff/organisations", "/staff/organisations/new", "/staff/organisations/1",
         "/staff/organisations/1/edit", "/staff/organisations/1/credit")
FORMS = ("/staff/organisations/new", "/staff/organisations/1/edit", "/staff/organisations/1/phones",
         "/staff/organisations/1/phones/remove", "/staff/organisations/1/credit/adjust",
         "/staff/organisations/1/credit/lift")


def test_only_staff_open_the_pages_or_send_the_forms(station):
    url = station.portal.url
    for path in PAGES:
        answer = requests.get(url + path, allow_redirects=False, timeout=10)
        assert answer.status_code == 302 and answer.headers["Location"].endswith("/staff/sign-in"), path
    resident, _ = sign_in_over_http(station, new_phone())
    token = csrf_token(resident.get(f"{url}/account", timeout=10).text)
    for path in PAGES:
        assert resident.get(url + path, timeout=10).status_code == 403, path
    for path in FORMS:
        assert resident.post(url + path, data={"csrf_token": token, "points": "5", "direction": "take",
                                               "reason": "x", "phone": "13900001352"}, timeout=10).status_code == 403
    assert station.http("booking", "GET", "/organizations/1/contact-phones").json()["items"] == []
    assert station.http("booking", "GET", "/organizations/1/credit-events").json()["items"] == []
