"""The counter workbench (issue 13, page 2) against real portal, booking, desk and notify processes
and workers: in a real browser (Debian's Chromium, a phone-sized screen) staff `wang.fang` takes in
a walk-in resident's elderly-subsidy errand with its document checklist, sets it to waiting for two
named documents, takes it up again and marks it done; the resident's SMS log shows each step; the
ID number is shown masked until revealed on purpose, and the reveal is in the history; the resident
signing in with that mobile sees the ticket, another resident does not. Then the refusals over HTTP.
axe-core on every page; screenshots for the README."""

import re

import pytest
import requests

from tests.portal.back_office import back_office_station, signed_in_page, signed_in_session
from tests.portal.browser import accessible, needs_chromium, photograph
from tests.portal.conftest import csrf_token, next_code, sms_lines
from tests.portal.resident_station import signed_in
from tests.processes import wait_until

pytestmark = [pytest.mark.e2e]

WALK_IN = {"name": "赵桂兰", "phone": "13900000611", "id_number": "11010519491231002X"}
OTHER_RESIDENT = "13900000612"


@pytest.fixture(scope="module")
def station(work_dir, redis_server):
    with back_office_station(work_dir, redis_server) as station:
        yield station


@pytest.fixture(scope="module")
def staff(station):
    """wang.fang signed in over HTTP once for the module (each sign-in needs a new TOTP step)."""
    return signed_in_session(station, "wang.fang")


def sms_saying(station, phone: str, *words: str) -> list[dict]:
    """The SMS to this phone that hold all these words; waits for the workers (they are asynchronous)."""
    return wait_until(lambda: [line for line in sms_lines(station, phone) if all(w in line["body"] for w in words)],
                      30, 0.3, f"an SMS to {phone} saying {words}")


def desk_ticket(station, ticket_id: int) -> dict:
    return station.http("desk", "GET", f"/tickets/{ticket_id}").json()


@needs_chromium
def test_staff_take_in_a_walk_in_errand_and_see_it_through_while_the_resident_is_told(browser, station):
    page = signed_in_page(browser, station, "wang.fang")
    page.goto("/staff")
    page.get_by_role("link", name="代办柜台").click()
    page.wait_for_url("**/staff/counter")
    accessible(page)

    page.get_by_role("link", name="接待新的代办事项").click()
    page.wait_for_url("**/staff/counter/new")
    accessible(page)
    page.get_by_role("link", name="高龄老人补贴").click()
    page.wait_for_url("**/staff/counter/new/elderly_subsidy")
    page.get_by_label("姓名").fill(WALK_IN["name"])
    page.get_by_label("手机号").fill(WALK_IN["phone"])
    page.get_by_label("身份证号").fill(WALK_IN["id_number"])
    page.get_by_label("老人身份证").check()
    page.get_by_label("代办人身份证").check()
    accessible(page)
    photograph(page, "staff-counter-intake")
    page.get_by_role("button", name="登记并受理").click()
    page.wait_for_url("**/staff/counter/tickets/*?opened=1")
    ticket_id = int(re.search(r"/tickets/(\d+)", page.url).group(1))
    assert page.locator("#status").inner_text() == "已受理"
    assert page.locator("#assignee").inner_text() == "wang.fang"
    assert page.locator("#resident-id").inner_text() == "1101**********002X"
    assert WALK_IN["phone"] not in page.content() and WALK_IN["id_number"] not in page.content()
    assert "已收材料 Received: 老人身份证、代办人身份证" in page.locator(".ctr-details").inner_text()
    accessible(page)
    sms_saying(station, WALK_IN["phone"], f"工单{ticket_id}", "已受理")
    page.get_by_role("link", name="返回代办柜台").click()
    page.wait_for_url("**/staff/counter")
    assert f"第{ticket_id}号" in page.locator("#tickets").inner_text()
    accessible(page)
    photograph(page, "staff-counter")
    page.get_by_role("link", name=f"第{ticket_id}号 · 高龄老人补贴").click()
    page.wait_for_url(f"**/staff/counter/tickets/{ticket_id}")

    page.get_by_role("button", name="开始办理").click()
    page.wait_for_url(f"**/staff/counter/tickets/{ticket_id}*")
    assert page.locator("#status").inner_text() == "正在办理"
    page.locator("#waiting").get_by_label("户口簿").check()
    page.locator("#waiting").get_by_label("老人本人银行卡或存折").check()
    page.get_by_role("button", name="通知居民补材料").click()
    page.wait_for_url(f"**/staff/counter/tickets/{ticket_id}*")
    assert page.locator("#status").inner_text() == "等居民补材料"
    assert "户口簿" in page.locator("#missing").inner_text()
    assert "老人本人银行卡或存折" in page.locator("#missing").inner_text()
    accessible(page)
    photograph(page, "staff-ticket")
    sms_saying(station, WALK_IN["phone"], f"工单{ticket_id}", "户口簿", "老人本人银行卡或存折")

    page.get_by_role("button", name="材料已补齐，继续办理").click()
    page.wait_for_url(f"**/staff/counter/tickets/{ticket_id}*")
    sms_saying(station, WALK_IN["phone"], f"工单{ticket_id}", "材料已收到")
    page.get_by_label("新备注（居民看不到）").fill("已电话联系家属")
    page.get_by_role("button", name="添加备注").click()
    page.wait_for_url(f"**/staff/counter/tickets/{ticket_id}*")
    assert "已电话联系家属" in page.locator("#history").inner_text()
    page.get_by_role("button", name="办结").click()
    page.wait_for_url(f"**/staff/counter/tickets/{ticket_id}*")
    assert page.locator("#status").inner_text() == "已办结"
    accessible(page)
    sms_saying(station, WALK_IN["phone"], f"工单{ticket_id}", "已办结")

    page.get_by_role("button", name="显示完整号码").click()
    assert page.locator("#resident-id").inner_text() == WALK_IN["id_number"]
    assert "wang.fang" in page.locator("#history").inner_text() and "查看了完整号码" in page.locator("#history").inner_text()
    accessible(page)
    page.goto(f"/staff/counter/tickets/{ticket_id}")
    assert page.locator("#resident-id").inner_text() == "1101**********002X"
    page.context.add_cookies([{"name": "yizhan_lang", "value": "en", "url": station.portal.url}])
    page.goto(f"/staff/counter/tickets/{ticket_id}")
    assert page.locator("#status").inner_text() == "Done"
    assert "Moved to “Waiting for the resident's documents”" in page.locator("#history").inner_text()
    accessible(page)
    page.goto("/staff/counter?list=unassigned")
    assert "Unassigned" in page.locator("[aria-current=page]").inner_text()
    accessible(page)
    page.context.close()

    # The resident signs in with that mobile and finds the errand theirs; someone else does not.
    resident = signed_in(station, WALK_IN["phone"])
    errands = resident.get(f"{station.portal.url}/errands", timeout=10)
    assert f"/errands/{ticket_id}" in errands.text
    assert resident.get(f"{station.portal.url}/errands/{ticket_id}", timeout=10).status_code == 200
    other = signed_in(station, OTHER_RESIDENT)
    assert f"/errands/{ticket_id}" not in other.get(f"{station.portal.url}/errands", timeout=10).text
    assert other.get(f"{station.portal.url}/errands/{ticket_id}", timeout=10).status_code == 404


@needs_chromium
def test_the_resident_sees_a_counter_ticket_on_their_errands_page(browser, station, staff):
    ticket_id = take_in_over_http(staff, station, "13900000613")
    from tests.portal.browser import phone_page

    page = phone_page(browser, station.portal.url)
    before = len(sms_lines(station, "13900000613"))
    page.goto("/sign-in?next=/errands")
    page.get_by_label("手机号").fill("13900000613")
    page.get_by_role("button", name="获取验证码").click()
    page.wait_for_url("**/sign-in/code")
    page.get_by_label("6位验证码").fill(next_code(station, "13900000613", before))
    page.get_by_role("button", name="登录", exact=True).click()
    page.wait_for_url("**/errands")
    assert "已受理" in page.locator("#errands").inner_text()
    page.goto(f"/errands/{ticket_id}")
    assert page.locator("#status").inner_text() == "已受理"
    accessible(page)
    page.context.close()


# --- refusals, over HTTP ----------------------------------------------------------------------

def take_in_over_http(client: requests.Session, station, phone: str, code: str = "consultation") -> int:
    url = f"{station.portal.url}/staff/counter/new/{code}"
    form = client.get(url, timeout=10)
    key = re.search(r'name="key" value="([^"]+)"', form.text).group(1)
    answer = client.post(url, data={"csrf_token": csrf_token(form.text), "key": key, "name": "钱大爷", "phone": phone},
                         timeout=10)
    assert answer.ok and "/staff/counter/tickets/" in answer.url, answer.url
    return int(re.search(r"/tickets/(\d+)", answer.url).group(1))


def test_the_same_intake_form_sent_twice_opens_and_accepts_one_ticket(station, staff):
    url = f"{station.portal.url}/staff/counter/new/consultation"
    form = staff.get(url, timeout=10)
    data = {"csrf_token": csrf_token(form.text), "name": "孙奶奶", "phone": "13900000621",
            "key": re.search(r'name="key" value="([^"]+)"', form.text).group(1)}
    first, second = (staff.post(url, data=data, timeout=10) for _ in range(2))
    assert first.url == second.url
    ticket_id = int(re.search(r"/tickets/(\d+)", first.url).group(1))
    sms_saying(station, "13900000621", f"工单{ticket_id}", "已受理")
    history = desk_ticket(station, ticket_id)["history"]
    assert [h["to_status"] for h in history if h["kind"] == "transition"] == ["accepted"]


def test_an_unknown_ticket_is_not_found(station, staff):
    client = staff
    page = client.get(f"{station.portal.url}/staff/counter/tickets/987654", timeout=10)
    token = csrf_token(client.get(f"{station.portal.url}/staff", timeout=10).text)
    moved = client.post(f"{station.portal.url}/staff/counter/tickets/987654/move",
                        data={"csrf_token": token, "status": "done"}, timeout=10)
    assert page.status_code == moved.status_code == 404


def test_an_illegal_step_is_refused_in_plain_words(station, staff):
    client = staff
    ticket_id = take_in_over_http(client, station, "13900000614")
    page = client.get(f"{station.portal.url}/staff/counter/tickets/{ticket_id}", timeout=10)
    # An accepted ticket cannot be done before work starts (a stale page, or a hand-made form).
    answer = client.post(f"{station.portal.url}/staff/counter/tickets/{ticket_id}/move",
                         data={"csrf_token": csrf_token(page.text), "status": "done"}, timeout=10)
    assert answer.status_code == 409
    assert "这个工单现在不能这样改：它现在是“已受理”。" in answer.text
    assert "This ticket cannot take that step: it is now “Accepted”." in answer.text
    assert "Traceback" not in answer.text
    assert desk_ticket(station, ticket_id)["status"] == "accepted"


def test_waiting_without_a_named_document_is_refused(station, staff):
    client = staff
    ticket_id = take_in_over_http(client, station, "13900000615")
    page = client.get(f"{station.portal.url}/staff/counter/tickets/{ticket_id}", timeout=10)
    client.post(f"{station.portal.url}/staff/counter/tickets/{ticket_id}/move",
                data={"csrf_token": csrf_token(page.text), "status": "in_progress"}, timeout=10)
    answer = client.post(f"{station.portal.url}/staff/counter/tickets/{ticket_id}/move",
                         data={"csrf_token": csrf_token(page.text), "status": "waiting_on_resident"}, timeout=10)
    assert answer.status_code == 422 and "请至少勾选或填写一项缺少的材料" in answer.text
    assert desk_ticket(station, ticket_id)["status"] == "in_progress"


def test_a_bad_mobile_at_intake_is_refused_beside_the_field(station, staff):
    client = staff
    url = f"{station.portal.url}/staff/counter/new/elderly_subsidy"
    form = client.get(url, timeout=10)
    answer = client.post(url, data={"csrf_token": csrf_token(form.text), "name": "孙", "phone": "12345",
                                    "id_number": "110105194912310021"}, timeout=10)
    assert answer.status_code == 422 and "请输入11位手机号" in answer.text and 'id="phone-error-1"' in answer.text
    fixed = client.post(url, data={"csrf_token": csrf_token(form.text), "name": "孙", "phone": "13900000616",
                                   "id_number": "110105194912310021"}, timeout=10)
    assert fixed.status_code == 422 and 'id="id_number-error-1"' in fixed.text  # the check digit is wrong


def test_the_reveal_is_recorded_with_who_asked(station, staff):
    client = staff
    ticket_id = take_in_over_http(client, station, "13900000617")
    page = client.get(f"{station.portal.url}/staff/counter/tickets/{ticket_id}", timeout=10)
    assert "139****0617" in page.text and "13900000617" not in page.text
    assert page.headers["Cache-Control"] == "no-store"
    assert [h for h in desk_ticket(station, ticket_id)["history"] if h["kind"] == "viewed"] == []
    revealed = client.post(f"{station.portal.url}/staff/counter/tickets/{ticket_id}/reveal",
                           data={"csrf_token": csrf_token(page.text)}, timeout=10)
    assert revealed.status_code == 200 and "13900000617" in revealed.text
    assert revealed.headers["Cache-Control"] == "no-store"
    viewed = [h for h in desk_ticket(station, ticket_id)["history"] if h["kind"] == "viewed"]
    assert len(viewed) == 1 and viewed[0]["actor"].startswith("portal:")


def test_residents_and_organisations_get_403_and_strangers_the_sign_in(station):
    resident = signed_in(station, "13900000618")
    station.http("booking", "POST", "/organizations", json={
        "name": "柜台测试社团", "kind": "social_group", "contact": {"name": "周", "phone": "13900000619"}})
    contact = signed_in(station, "13900000619")
    paths = ["/staff/counter", "/staff/counter/new", "/staff/counter/new/consultation", "/staff/counter/tickets/1",
             "/staff/counter/find?number=1"]
    for client in (resident, contact):
        for path in paths:
            assert client.get(f"{station.portal.url}{path}", timeout=10).status_code == 403, path
        token = csrf_token(client.get(f"{station.portal.url}/account", timeout=10).text)
        for action in ("move", "assign", "notes", "reveal"):
            answer = client.post(f"{station.portal.url}/staff/counter/tickets/1/{action}",
                                 data={"csrf_token": token, "status": "done"}, timeout=10)
            assert answer.status_code == 403, action
    stranger = requests.get(f"{station.portal.url}/staff/counter", timeout=10, allow_redirects=False)
    assert stranger.status_code == 302 and stranger.headers["Location"].endswith("/staff/sign-in")


def test_the_account_made_for_a_walk_in_is_in_the_portals_audit_log(station, staff):
    from sqlalchemy import select

    from services.portal import create_app
    from services.portal.models import Account
    from shared.settings import Settings

    take_in_over_http(staff, station, "13900000620")
    take_in_over_http(staff, station, "13900000620")  # the same resident again: the same account, made once
    database = create_app(Settings.from_env(station.portal.env)).extensions["yizhan"].database
    try:
        with database.reader() as session:
            account = session.scalar(select(Account).where(Account.phone == "+8613900000620"))
            entries = session.scalars(select(database.infrastructure.audit_entry).where(
                database.infrastructure.audit_entry.subject == f"account:{account.id}")).all()
            assert account.role == "resident"
            assert [(e.action, e.changes) for e in entries] == [
                ("account.create", {"phone": [None, "139****0620"], "role": [None, "resident"]})]
            assert entries[0].actor.startswith("staff:portal:")
    finally:
        database.dispose()


def test_a_rejection_needs_a_reason_and_the_resident_is_told_it(station, staff):
    ticket_id = take_in_over_http(staff, station, "13900000622")
    url = f"{station.portal.url}/staff/counter/tickets/{ticket_id}"
    token = csrf_token(staff.get(url, timeout=10).text)
    refused = staff.post(f"{url}/move", data={"csrf_token": token, "status": "rejected", "reason": " "}, timeout=10)
    assert refused.status_code == 422 and "请写明不予办理的理由" in refused.text
    assert '<details class="ctr-panel" open>' in refused.text  # the form that was refused is unfolded
    reason = "不属于本社区 Not in this community"
    rejected = staff.post(f"{url}/move", data={"csrf_token": token, "status": "rejected", "reason": reason}, timeout=10)
    assert rejected.ok and "不予办理" in rejected.text
    sms_saying(station, "13900000622", f"工单{ticket_id}", "无法办理", "不属于本社区")
