"""The resident's pages over HTTP against real processes (issue 12, Pages 3): start an errand and see
the documents to bring, follow it as staff move it, answer the follow-up once, turn SMS off and still
sign in; and never see another resident's ticket through any page."""

import re
from datetime import datetime, timedelta, timezone

import pytest

from services.portal import create_app
from shared.settings import Settings

from tests.portal.conftest import csrf_token, next_code, sms_lines
from tests.portal.resident_station import resident_station, signed_in

# The pages act the same on either database: once, on SQLite (tests/portal/conftest.py).
PAGES_ON_SQLITE_ONLY = True


@pytest.fixture(scope="module")
def station(backend, work_dir, redis_server):
    with resident_station(backend, work_dir, redis_server) as station:
        yield station


def in_process_portal(station, ahead: timedelta):
    """The portal in-process over the same database, its clock `ahead` of now (no waiting a minute)."""
    app = create_app(Settings.from_env(station.portal.env))
    moment = datetime.now(timezone.utc) + ahead
    app.extensions["portal"].clock = lambda: moment
    return app


def start_errand(station, client, code="elderly_subsidy", **fields):
    url = f"{station.portal.url}/errands/new/{code}"
    form = client.get(url, timeout=10)
    key = re.search(r'name="key" value="([^"]+)"', form.text).group(1)
    data = {"name": "王秀英", "phone": re.search(r'id="phone"[^>]*value="(\d*)"', form.text).group(1),
            "summary": "为母亲申请高龄补贴", "details": "", "key": key, "csrf_token": csrf_token(form.text), **fields}
    return client.post(url, data=data, timeout=10)


def ticket_id_of(answer) -> int:
    return int(re.search(r"/errands/(\d+)", answer.url).group(1))


def move(station, ticket_id, *steps):
    for status, extra in steps:
        answer = station.http("desk", "POST", f"/tickets/{ticket_id}/transition", json={"status": status, **extra})
        assert answer.status_code == 200, answer.text


WAITING = ("waiting_on_resident", {"missing_documents": ["户口簿原件"]})


def test_a_resident_starts_an_elderly_subsidy_errand_and_follows_it(station):
    client = signed_in(station, "13900000401")
    types = client.get(f"{station.portal.url}/errands/new", timeout=10)
    assert "高龄老人补贴" in types.text
    form = client.get(f"{station.portal.url}/errands/new/elderly_subsidy", timeout=10)
    for document in ("老人身份证", "户口簿", "老人本人银行卡或存折", "代办人身份证"):
        assert document in form.text
    assert 'value="13900000401"' in form.text  # the phone is the account's own
    opened = start_errand(station, client)
    assert opened.status_code == 200 and "已提交" in opened.text and "已提交，等待受理" in opened.text
    ticket_id = ticket_id_of(opened)
    move(station, ticket_id, ("accepted", {}), ("in_progress", {}), WAITING)
    mine = client.get(f"{station.portal.url}/errands", timeout=10).text
    assert "等您补材料" in mine and "户口簿原件" in mine and "预计办结日期" in mine
    page = client.get(f"{station.portal.url}/errands/{ticket_id}", timeout=10).text
    assert "等您补材料" in page and "户口簿原件" in page and "状态改为：已受理" in page


def test_the_same_form_sent_twice_opens_one_ticket(station):
    client = signed_in(station, "13900000402")
    url = f"{station.portal.url}/errands/new/consultation"
    form = client.get(url, timeout=10).text
    data = {"name": "李", "phone": "13900000402", "summary": "咨询", "details": "",
            "key": re.search(r'name="key" value="([^"]+)"', form).group(1), "csrf_token": csrf_token(form)}
    first, second = client.post(url, data=data, timeout=10), client.post(url, data=data, timeout=10)
    assert ticket_id_of(first) == ticket_id_of(second)


def test_refusals_are_shown_next_to_their_fields(station):
    client = signed_in(station, "13900000403")
    empty = start_errand(station, client, name="", summary="")
    assert empty.status_code == 422 and 'id="name-error"' in empty.text and 'id="summary-error"' in empty.text
    bad_phone = start_errand(station, client, phone="123456789")
    assert bad_phone.status_code == 422 and 'id="phone-error"' in bad_phone.text
    assert "您还没有代办事项" in client.get(f"{station.portal.url}/errands", timeout=10).text


def test_a_resident_cannot_see_another_residents_ticket_through_any_page(station):
    owner = signed_in(station, "13900000404")
    ticket_id = ticket_id_of(start_errand(station, owner, summary="甲的私事"))
    move(station, ticket_id, ("accepted", {}), ("in_progress", {}), ("done", {}))
    other = signed_in(station, "13900000405")
    url = station.portal.url
    for answer in (other.get(f"{url}/errands/{ticket_id}", timeout=10),
                   other.get(f"{url}/errands/{ticket_id}/follow-up", timeout=10)):
        assert answer.status_code == 404 and "甲的私事" not in answer.text
    token = csrf_token(other.get(f"{url}/errands/new/consultation", timeout=10).text)
    posted = other.post(f"{url}/errands/{ticket_id}/follow-up", data={"satisfaction": "1", "csrf_token": token},
                        timeout=10)
    assert posted.status_code == 404
    assert "甲的私事" not in other.get(f"{url}/errands", timeout=10).text
    assert station.http("desk", "GET", f"/tickets/{ticket_id}").json()["satisfaction"] is None


def test_the_follow_up_answer_is_recorded_once(station):
    client = signed_in(station, "13900000406")
    ticket_id = ticket_id_of(start_errand(station, client))
    url = f"{station.portal.url}/errands/{ticket_id}/follow-up"
    assert "还没有办结" in client.get(url, timeout=10).text
    move(station, ticket_id, ("accepted", {}), ("in_progress", {}), ("done", {}))
    form = client.get(url, timeout=10).text
    assert form.count('type="radio" name="satisfaction"') == 5
    answered = client.post(url, data={"satisfaction": "5", "csrf_token": csrf_token(form)}, timeout=10)
    assert answered.status_code == 200 and "谢谢您的评价：5分" in answered.text
    again = client.post(url, data={"satisfaction": "1", "csrf_token": csrf_token(form)}, timeout=10)
    assert again.status_code == 422 and "您已经评价过了" in again.text
    ticket = station.http("desk", "GET", f"/tickets/{ticket_id}").json()
    assert ticket["satisfaction"] == 5 and [e["kind"] for e in ticket["history"]].count("follow_up") == 1


def test_sms_off_then_sign_in_still_works_and_sms_on_again(station):
    phone = "13900000407"
    client = signed_in(station, phone)
    url = f"{station.portal.url}/account/sms"
    page = client.get(url, timeout=10).text
    assert "短信通知：已开启" in page
    off = client.post(url, data={"sms": "off", "csrf_token": csrf_token(page)}, timeout=10)
    assert "短信通知：已关闭" in off.text
    assert station.http("notify", "GET", f"/opt-outs/sms/{phone}").status_code == 200
    # The code still comes, by SMS: asked a minute later (the resend rule) through the portal in-process.
    before = len(sms_lines(station, phone))
    later = in_process_portal(station, timedelta(seconds=61)).test_client()
    later.post("/sign-in", data={"phone": phone, "csrf_token": csrf_token(later.get("/sign-in").text)})
    code = next_code(station, phone, before)
    answer = later.post("/sign-in/code", data={"code": code, "csrf_token": csrf_token(later.get("/sign-in/code").text)})
    assert answer.status_code == 302 and answer.headers["Location"] == "/account"
    later.application.extensions["yizhan"].database.dispose()
    on = client.post(url, data={"sms": "on", "csrf_token": csrf_token(off.text)}, timeout=10)
    assert "短信通知：已开启" in on.text
    assert station.http("notify", "GET", f"/opt-outs/sms/{phone}").status_code == 404


def test_an_organisations_contact_has_no_errand_pages(station):
    client = signed_in(station, "13800000001")
    assert client.get(f"{station.portal.url}/errands", timeout=10).status_code == 403


def test_the_key_steps_in_english(station):
    client = signed_in(station, "13900000408", language="en")
    form = client.get(f"{station.portal.url}/errands/new/elderly_subsidy", timeout=10).text
    assert "Documents to bring" in form and "Household register (hukou)" in form
    ticket_id = ticket_id_of(start_errand(station, client))
    move(station, ticket_id, ("accepted", {}), ("in_progress", {}), WAITING)
    page = client.get(f"{station.portal.url}/errands/{ticket_id}", timeout=10).text
    assert "Waiting for your documents" in page and "户口簿原件" in page


def test_odd_errand_forms_get_a_page_not_a_500(station):
    client = signed_in(station, "13900000409")
    url = station.portal.url
    token = csrf_token(client.get(f"{url}/errands/new/consultation", timeout=10).text)
    no_key = client.post(f"{url}/errands/new/consultation", timeout=10, data={
        "name": "周", "phone": "13900000409", "summary": "x" * 300, "csrf_token": token})
    assert no_key.status_code == 422 and 'id="summary-error"' in no_key.text
    assert client.get(f"{url}/errands/new/no_such_errand", timeout=10).status_code == 404
    assert client.get(f"{url}/errands/999999", timeout=10).status_code == 404
    not_a_score = client.post(f"{url}/errands/999999/follow-up", data={"satisfaction": "9", "csrf_token": token},
                              timeout=10)
    assert not_a_score.status_code == 404
    assert client.post(f"{url}/account/sms", data={"sms": "maybe", "csrf_token": token}, timeout=10).status_code == 400
