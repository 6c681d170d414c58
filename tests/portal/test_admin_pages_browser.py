"""The administration pages (issue 13) in Debian's Chromium against real portal, booking, desk and
notify processes and workers: admin `li.admin` edits a template with the live preview (the text
and its SMS segment count follow the typing), saves it, and finds the change in the audit log;
adds and retires an errand type; makes, resets and disables a staff account; sees a message the
desk's worker refused and replays it. Staff `wang.fang` gets 403 on every admin page. axe-core
on every page; the pages photographed into docs/screenshots/."""

import re
import uuid

import pytest
import redis
import requests
from playwright.sync_api import expect

from shared import contracts
from tests.portal.back_office import back_office_station, signed_in_page, signed_in_session
from tests.portal.browser import PHONE_SCREEN, accessible, needs_chromium, phone_page, photograph
from tests.portal.conftest import csrf_token
from tests.processes import wait_until
from tests.raw_tasks import post_task

pytestmark = [pytest.mark.e2e, needs_chromium]

ADMIN_PAGES = ("/admin/errand-types", "/admin/errand-types/new", "/admin/errand-types/consultation", "/admin/templates",
               "/admin/templates/booking_approved/zh-CN", "/admin/accounts", "/admin/dead-letters", "/admin/audit-log")
ADMIN_POSTS = ("/admin/errand-types/new", "/admin/errand-types/consultation", "/admin/templates/booking_approved/zh-CN",
               "/admin/templates/booking_approved/zh-CN/preview", "/admin/accounts", "/admin/accounts/1/disable",
               "/admin/accounts/1/reset-second-factor", "/admin/dead-letters/desk/1/replay")
# 15 characters more than the seeded approval's 56 (with the sample values): 71, two UCS-2 parts.
ADDED = "请带好身份证，提前十分钟到场。"


@pytest.fixture(scope="module")
def station(work_dir, redis_server):
    with back_office_station(work_dir, redis_server) as station:
        yield station


@pytest.fixture
def admin(browser, station):
    page = signed_in_page(browser, station, "li.admin")
    yield page
    page.context.close()


def open_area(page, name: str, path: str) -> None:
    page.goto("/staff")
    page.locator("#areas").get_by_role("link", name=name, exact=True).click()
    page.wait_for_url(f"**{path}")


def test_staff_get_403_on_every_admin_page_and_no_one_signed_in_goes_to_sign_in(station):
    url = station.portal.url
    staff = signed_in_session(station, "wang.fang")
    home = staff.get(f"{url}/staff", timeout=10)
    assert "短信和邮件模板" not in home.text and "操作记录" not in home.text
    for path in ADMIN_PAGES:
        assert staff.get(url + path, timeout=10).status_code == 403, path
    token = csrf_token(home.text)
    for path in ADMIN_POSTS:
        assert staff.post(url + path, data={"csrf_token": token}, timeout=10).status_code == 403, path
    nobody = requests.Session()
    for path in ADMIN_PAGES:
        answer = nobody.get(url + path, allow_redirects=False, timeout=10)
        assert answer.status_code == 302 and answer.headers["Location"].endswith("/staff/sign-in"), path


def test_an_admin_edits_a_template_with_the_live_preview_and_finds_it_in_the_audit_log(admin, station):
    page = admin
    open_area(page, "短信和邮件模板", "/admin/templates")
    accessible(page)
    photograph(page, "admin-templates")

    page.locator("#template-booking_approved").get_by_role("link", name="修改中文模板：预约已通过").click()
    page.wait_for_url("**/admin/templates/booking_approved/zh-CN")
    count, sms = page.locator("#preview-count"), page.locator("#preview-sms")
    expect(count).to_have_text("56个字，按UCS-2计为1条短信")
    expect(sms).to_contain_text("您预约的党群会议室(12月7日 14:00)“支部主题党日”已通过审核")
    page.evaluate("window.samePage = 'yes'")

    box = page.get_by_label("短信内容")
    box.click()
    box.press("Control+End")
    box.press_sequentially(ADDED, delay=20)
    expect(sms).to_contain_text(ADDED)
    expect(count).to_have_text("71个字，按UCS-2计为2条短信")
    accessible(page)
    photograph(page, "admin-template-preview")

    box.press_sequentially("{secret}", delay=20)
    expect(page.locator("#preview-refused")).to_contain_text("unknown: {secret}")
    for _ in "{secret}":
        box.press("Backspace")
    expect(count).to_have_text("71个字，按UCS-2计为2条短信")
    assert page.evaluate("window.samePage") == "yes", "the preview reloaded the page"

    page.get_by_role("button", name="保存").click()
    page.wait_for_url("**/admin/templates?saved=*")
    expect(page.locator("#saved")).to_contain_text("booking_approved (zh-CN)")
    expect(page.locator("#template-booking_approved")).to_contain_text(ADDED)
    accessible(page)
    saved = station.http("notify", "GET", "/templates?per_page=100", role="admin").json()["items"]
    assert next(t for t in saved if (t["key"], t["locale"]) == ("booking_approved", "zh-CN"))["sms_body"].endswith(
        "预约号{booking_id}。" + ADDED)

    open_area(page, "操作记录", "/admin/audit-log")
    entry = page.locator("#audit-log li", has_text="模板：预约已通过（中文）").first
    expect(entry).to_contain_text("修改模板 · li.admin")
    expect(entry).to_contain_text(ADDED)
    accessible(page)
    photograph(page, "admin-audit-log")


def test_without_javascript_the_preview_button_shows_the_preview(browser, station):
    signed_in_page(browser, station, "li.admin").context.close()
    page = phone_page(browser, station.portal.url, storage_state=station.signed_in_states[("li.admin", "zh-CN")],
                      java_script_enabled=False)
    page.goto("/admin/templates/booking_cancelled/zh-CN")
    box = page.get_by_label("短信内容")
    box.fill(box.input_value() + "如有疑问请到驿站咨询。")
    page.get_by_role("button", name="预览").click()
    page.wait_for_load_state()
    expect(page.locator("#preview-sms")).to_contain_text("已取消。预约号1024。如有疑问请到驿站咨询。")
    expect(page.get_by_label("短信内容")).to_have_value(re.compile("如有疑问请到驿站咨询。$"))
    page.context.close()


def test_an_admin_adds_an_errand_type_then_retires_it(admin, station):
    page = admin
    open_area(page, "代办事项类型", "/admin/errand-types")
    accessible(page)
    page.get_by_role("link", name="新增代办事项").click()
    page.wait_for_url("**/admin/errand-types/new")
    page.get_by_label("代码").fill("disability_card")
    page.get_by_label("中文名称").fill("残疾人证办理")
    page.get_by_label("英文名称").fill("Disability card")
    page.get_by_label("需带材料（中文").fill("身份证\n户口簿\n一寸照片")
    page.get_by_label("需带材料（英文").fill("ID card\nHousehold register")
    page.get_by_label("办理时限（工作日）").fill("10")
    page.get_by_role("button", name="保存").click()
    expect(page.locator("#documents_en-error-1")).to_contain_text("中英文材料清单项数不同")
    assert page.get_by_label("需带材料（英文").get_attribute("aria-invalid") == "true"
    accessible(page)

    page.get_by_label("需带材料（英文").fill("ID card\nHousehold register\nPassport photo")
    page.get_by_role("button", name="保存").click()
    page.wait_for_url("**/admin/errand-types?saved=disability_card")
    card = page.locator("#type-disability_card")
    expect(card).to_contain_text("身份证、户口簿、一寸照片")
    expect(card).to_contain_text("使用中")
    accessible(page)
    photograph(page, "admin-errand-types")

    card.get_by_role("link", name="修改“残疾人证办理”").click()
    page.wait_for_url("**/admin/errand-types/disability_card")
    accessible(page)
    page.get_by_label("在柜台使用").uncheck()
    page.get_by_role("button", name="保存").click()
    page.wait_for_url("**/admin/errand-types?saved=disability_card")
    expect(page.locator("#type-disability_card")).to_contain_text("已停用")
    log = station.http("desk", "GET", "/audit-log?subject=errand_type:disability_card", role="admin").json()["items"]
    assert [e["action"] for e in log] == ["errand_type.update", "errand_type.create"]
    assert log[0]["changes"] == {"active": [True, False]} and log[0]["actor"].startswith("admin:portal:")


def test_an_admin_makes_resets_and_disables_a_staff_account_but_not_their_own(admin, station):
    page = admin
    open_area(page, "工作人员账户", "/admin/accounts")
    page.get_by_label("用户名").fill("zhao.min")
    page.get_by_label("初始密码").fill("short")
    page.get_by_role("button", name="创建账户").click()
    expect(page.locator("#password-error-1")).to_contain_text("密码至少12个字符")
    accessible(page)

    page.get_by_label("用户名").fill("zhao.min")
    page.get_by_label("初始密码").fill("zhao-min-first-password")
    page.get_by_role("button", name="创建账户").click()
    page.wait_for_url("**/admin/accounts?done=created&username=zhao.min")
    card = page.locator("#account-zhao\\.min")
    expect(card).to_contain_text("尚未设置两步验证")
    accessible(page)
    photograph(page, "admin-accounts")

    card.get_by_role("button", name="重置 zhao.min 的两步验证").click()
    page.wait_for_url("**done=reset*")
    page.locator("#account-zhao\\.min").get_by_role("button", name="停用 zhao.min").click()
    page.wait_for_url("**done=disabled*")
    expect(page.locator("#account-zhao\\.min")).to_contain_text("已停用")
    accessible(page)

    # No button for their own account; a forged request is refused on the page.
    mine = page.locator("#account-li\\.admin")
    expect(mine.get_by_role("button", name="停用 li.admin")).to_have_count(0)
    token = page.locator("input[name=csrf_token]").first.get_attribute("value")
    own_id = station.signed_in_states.setdefault("li.admin.id", admin_account_id(station))
    refused = page.request.post(f"/admin/accounts/{own_id}/disable", form={"csrf_token": token})
    assert refused.status == 422 and "不能停用您自己的账户" in refused.text()

    sign_in = requests.Session()
    form = csrf_token(sign_in.get(f"{station.portal.url}/staff/sign-in", timeout=10).text)
    answer = sign_in.post(f"{station.portal.url}/staff/sign-in", timeout=10,
                          data={"username": "zhao.min", "password": "zhao-min-first-password", "csrf_token": form})
    assert answer.status_code == 422 and "用户名或密码不对" in answer.text

    open_area(page, "操作记录", "/admin/audit-log")
    log = page.locator("#audit-log")
    for action in ("新建账户", "重置两步验证", "停用账户"):
        expect(log.locator("li", has_text=action).filter(has_text="zhao.min").first).to_contain_text("li.admin")


def admin_account_id(station) -> int:
    from services.portal import create_app
    from services.portal.domain.staff_sign_in import find_staff
    from shared.settings import Settings

    app = create_app(Settings.from_env(station.portal.env))
    database = app.extensions["yizhan"].database
    with database.reader() as db:
        account_id = find_staff(db, "li.admin").id
    database.dispose()
    return account_id


def test_an_admin_sees_a_refused_message_with_the_phone_hidden_and_replays_it(admin, station):
    broker = redis.Redis.from_url(station.env["REDIS_URL"])
    key = f"walk-in-{uuid.uuid4().hex[:8]}"
    # No summary: the contract refuses it. The resident's phone is in the body the page shows.
    bad = {"v": 1, "idempotency_key": key, "type": "consultation", "resident": {"name": "王阿姨", "phone": "13812345678"}}
    task_id = post_task(broker, contracts.CREATE_TICKET, bad)
    broker.close()
    letters = lambda: station.http("desk", "GET", "/dead-letters?per_page=100", role="admin").json()["items"]  # noqa: E731
    letter = wait_until(lambda: [d for d in letters() if d["task_id"] == task_id], 30, 0.3, "the dead letter")[0]

    page = admin
    open_area(page, "未能处理的消息", "/admin/dead-letters")
    card = page.locator(f"#dead-desk-{letter['id']}")
    expect(card).to_contain_text("desk.create_ticket")
    expect(card).to_contain_text(key)
    expect(card).to_contain_text("summary")
    expect(card.locator(".admin-body")).to_contain_text("138****5678")
    expect(card).not_to_contain_text("13812345678")
    accessible(page)
    photograph(page, "admin-dead-letters")

    card.get_by_role("button", name=f"重新处理第{letter['id']}条").click()
    page.wait_for_url(f"**/admin/dead-letters?replayed=desk:{letter['id']}")
    expect(page.locator("#replayed")).to_contain_text(f"已把服务台的第{letter['id']}条消息放回队列")
    accessible(page)
    # The worker had the message again (it is still malformed, so it is refused again, under a new task id).
    again = wait_until(lambda: [d for d in letters() if key in d["body"] and d["id"] != letter["id"]], 30, 0.3,
                       "the replayed message to reach the desk's worker")
    assert again[0]["task_id"] != task_id
    page.goto("/admin/dead-letters")
    expect(page.locator(f"#dead-desk-{letter['id']}")).to_have_count(0)

    missing = page.request.post("/admin/dead-letters/desk/999999/replay",
                                form={"csrf_token": page.locator("input[name=csrf_token]").first.get_attribute("value")})
    assert missing.status == 404 and "999999" in missing.text()


def test_the_htmx_preview_answers_with_the_preview_alone_and_unknown_addresses_are_404(admin, station):
    page = admin
    page.goto("/admin/templates/booking_received/zh-CN")
    token = page.locator("input[name=csrf_token]").first.get_attribute("value")
    answer = page.request.post("/admin/templates/booking_received/zh-CN/preview", headers={"HX-Request": "true"},
                               form={"csrf_token": token, "sms_body": "【驿站】{venue}{start}{title}{booking_id}",
                                     "email_subject": "收到:{title}", "email_body": "{venue}{start}{booking_id}"})
    assert answer.status == 200 and 'id="preview-sms"' in answer.text() and "<html" not in answer.text()
    assert "【驿站】党群会议室12月7日 14:00支部主题党日1024" in answer.text()
    refused = page.request.post("/admin/templates/booking_received/zh-CN/preview",
                                form={"csrf_token": token, "sms_body": "{venue:>99}"})
    assert refused.status == 200 and 'id="preview-refused"' in refused.text()
    for path in ("/admin/templates/booking_received/fr", "/admin/templates/no.such/zh-CN",
                 "/admin/templates/no_such_template/zh-CN", "/admin/errand-types/no_such_type"):
        assert page.request.get(path).status == 404, path
    assert page.request.post("/admin/templates/a.b/zh-CN/preview", form={"csrf_token": token}).status == 404
    assert page.request.post("/admin/dead-letters/portal/1/replay", form={"csrf_token": token}).status == 404


ENGLISH_PAGES = {"/admin/errand-types": "Errand types", "/admin/errand-types/new": "Add an errand type",
                 "/admin/templates": "SMS and e-mail templates",
                 "/admin/templates/booking_received/en": "Change the template: Booking received (English)",
                 "/admin/accounts": "Staff accounts", "/admin/dead-letters": "Messages that could not be handled",
                 "/admin/audit-log": "Audit log"}


def test_the_admin_pages_read_in_english(browser, station):
    signed_in_page(browser, station, "li.admin").context.close()
    page = phone_page(browser, station.portal.url, "en", storage_state=station.signed_in_states[("li.admin", "zh-CN")])
    for path, heading in ENGLISH_PAGES.items():
        page.goto(path)
        expect(page.locator("h1")).to_have_text(heading)
        accessible(page)
    expect(page.locator("#audit-log")).to_contain_text("Changed a template · li.admin")
    page.goto("/admin/templates/booking_received/en")
    expect(page.locator("#preview-count")).to_contain_text("SMS part(s) as")
    page.context.close()


def test_the_admin_pages_work_at_200_percent_zoom(browser, station):
    """WCAG 1.4.10 reflow: nothing on an admin page scrolls sideways at half the phone's width."""
    signed_in_page(browser, station, "li.admin").context.close()
    page = phone_page(browser, station.portal.url, storage_state=station.signed_in_states[("li.admin", "zh-CN")])
    page.set_viewport_size({"width": PHONE_SCREEN["width"] // 2, "height": PHONE_SCREEN["height"] // 2})
    for path in ENGLISH_PAGES:
        page.goto(path.replace("/en", "/zh-CN"))
        overflow = page.evaluate("document.documentElement.scrollWidth - document.documentElement.clientWidth")
        # What is too wide, named in the failure: an element whose content is wider than its box.
        too_wide = page.evaluate("""() => [...document.querySelectorAll('main *')]
            .filter(e => e.clientWidth > 0 && e.scrollWidth > e.clientWidth + 1)
            .map(e => `${e.tagName} ${e.scrollWidth}/${e.clientWidth}: ${(e.textContent || '').trim().slice(0, 40)}`)""")
        assert overflow <= 0, (path, overflow, too_wide)
    page.context.close()
