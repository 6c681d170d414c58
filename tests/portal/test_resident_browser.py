"""The resident's errand in a real browser (issue 12, Done when): on a phone-sized screen a resident signs
in with the code from the SMS log, starts an elderly-subsidy errand, sees the documents to bring; staff
mark it waiting for documents through the desk API; the page then shows the new status and the missing
documents. In zh-CN, and the key steps in English. axe-core on every page; screenshots for the README."""


import pytest

from tests.portal.conftest import next_code, sms_lines
from tests.portal.resident_station import resident_station
from tests.portal.browser import accessible, needs_chromium, photograph

pytestmark = [pytest.mark.e2e, needs_chromium]

WORDS = {
    "zh-CN": {"phone": "手机号", "send": "获取验证码", "code": "6位验证码", "sign_in": "登录", "errands": "我的代办",
              "start": "办理新事项", "type": "高龄老人补贴", "document": "户口簿", "name": "姓名", "summary": "要办的事",
              "submit": "提交申请", "submitted": "已提交，等待受理", "waiting": "等您补材料", "score": "5分 非常满意",
              "send_answer": "提交评价", "thanks": "谢谢您的评价：5分", "sms": "短信通知设置", "off": "关闭短信通知",
              "now_off": "短信通知：已关闭"},
    "en": {"phone": "Mobile number", "send": "Text me a code", "code": "6-digit code", "sign_in": "Sign in",
           "errands": "My errands", "start": "Start an errand", "type": "Subsidy for the very old",
           "document": "Household register (hukou)", "name": "Your name", "summary": "What you need",
           "submit": "Send the request", "submitted": "Sent, waiting to be accepted",
           "waiting": "Waiting for your documents", "score": "5 — Very satisfied", "send_answer": "Send my answer",
           "thanks": "Thank you for your answer: 5 of 5", "sms": "Text message settings",
           "off": "Turn text messages off", "now_off": "Text messages: off"},
}
PHONES = {"zh-CN": "13900000501", "en": "13900000502"}


@pytest.fixture(scope="module")
def station(work_dir, redis_server):
    with resident_station("sqlite", work_dir, redis_server) as station:
        yield station


def move(station, ticket_id, *steps):
    for status, extra in steps:
        answer = station.http("desk", "POST", f"/tickets/{ticket_id}/transition", json={"status": status, **extra})
        assert answer.status_code == 200, answer.text


@pytest.mark.parametrize("language", ["zh-CN", "en"])
def test_a_resident_starts_an_elderly_subsidy_errand_and_follows_it(page, station, language):
    words, phone, suffix = WORDS[language], PHONES[language], "" if language == "zh-CN" else "-en"
    page.goto("/")
    if language == "en":
        page.get_by_role("link", name="Switch to English").click()
        page.wait_for_load_state()
    before = len(sms_lines(station, phone))
    page.goto("/sign-in?next=/errands")
    page.get_by_label(words["phone"]).fill(phone)
    page.get_by_role("button", name=words["send"]).click()
    page.wait_for_url("**/sign-in/code")
    page.get_by_label(words["code"]).fill(next_code(station, phone, before))
    page.get_by_role("button", name=words["sign_in"], exact=True).click()
    page.wait_for_url("**/errands")
    accessible(page)
    page.get_by_role("link", name=words["start"]).click()
    page.wait_for_url("**/errands/new")
    accessible(page)
    photograph(page, f"errand-types{suffix}")
    page.get_by_role("link", name=words["type"]).click()
    page.wait_for_url("**/errands/new/elderly_subsidy")
    assert words["document"] in page.locator("#documents").inner_text()
    accessible(page)
    photograph(page, f"errand-documents{suffix}")

    page.get_by_label(words["name"]).fill("王秀英")
    page.get_by_label(words["summary"]).fill("为母亲申请高龄补贴")
    page.get_by_role("button", name=words["submit"]).click()
    page.wait_for_url("**/errands/*?opened=1")
    assert page.locator("#status").inner_text() == words["submitted"]
    accessible(page)
    ticket_id = int(page.url.split("/errands/")[1].split("?")[0])

    move(station, ticket_id, ("accepted", {}), ("in_progress", {}),
         ("waiting_on_resident", {"missing_documents": ["户口簿原件 Household register, the original"]}))
    page.get_by_role("link", name=words["errands"], exact=True).click()
    page.wait_for_url("**/errands")
    assert words["waiting"] in page.locator("#errands").inner_text()
    accessible(page)
    photograph(page, f"my-errands{suffix}")
    page.goto(f"/errands/{ticket_id}")
    assert page.locator("#status").inner_text() == words["waiting"]
    assert "户口簿原件" in page.locator("#missing").inner_text()
    accessible(page)
    photograph(page, f"errand-waiting{suffix}")
    if language == "en":
        return

    move(station, ticket_id, ("in_progress", {}), ("done", {}))
    page.goto(f"/errands/{ticket_id}/follow-up")
    accessible(page)
    photograph(page, "errand-follow-up")
    page.get_by_label(words["score"]).check()
    page.get_by_role("button", name=words["send_answer"]).click()
    assert words["thanks"] in page.locator("#answered").inner_text()
    accessible(page)

    page.goto("/account/sms")
    accessible(page)
    page.get_by_role("button", name=words["off"]).click()
    assert words["now_off"] in page.locator("#sms-state").inner_text()
    accessible(page)
    photograph(page, "sms-settings")


def test_another_residents_ticket_is_not_found(page, station):
    listed = station.http("desk", "GET", "/tickets").json()["items"]
    assert listed, "the errand test opens tickets first"
    before = len(sms_lines(station, "13900000503"))
    page.goto("/sign-in")
    page.get_by_label("手机号").fill("13900000503")
    page.get_by_role("button", name="获取验证码").click()
    page.get_by_label("6位验证码").fill(next_code(station, "13900000503", before))
    page.get_by_role("button", name="登录", exact=True).click()
    page.wait_for_url("**/account")
    for ticket in listed:
        answer = page.goto(f"/errands/{ticket['id']}")
        assert answer.status == 404 and "王秀英" not in page.content()
    accessible(page)
