"""The review queue (issue 13, page 1) in a real browser (Debian's Chromium, phone-sized) against
real portal, booking, desk and notify processes and workers: an organisation contact books in the
portal; staff find the request in the queue with the organisation's credit score, the venue's other
bookings that day and the whole of a recurring series; approve it, and the organisation's page then
says approved; reject another with a reason (an empty one refused first); a case someone else has
just decided is shown plainly, not as an error. The refusals (empty reason, unknown case, other
roles) over HTTP as a browser without JavaScript sends them. One station for the whole module."""

import re
from datetime import timedelta

import pytest
from sqlalchemy import update

from services.portal.i18n import month_day
from services.services_desk.models import ReviewCase
from shared.db import utcnow
from tests.portal.back_office import back_office_station, signed_in_page, signed_in_session
from tests.portal.browser import PHONE_SCREEN, accessible, needs_chromium, phone_page, photograph
from tests.portal.conftest import csrf_token, sms_lines
from tests.portal.test_org_pages import approved_booking, soon_slot
from tests.portal.test_org_pages_browser import WORDS, earliest_bookable_date, fill_booking, new_organisation, sign_in
from tests.portal.test_sign_in import new_phone, sign_in_over_http
from tests.processes import wait_until

pytestmark = [pytest.mark.e2e, needs_chromium]

MEETING_ROOM, PARTY_AREA, SEEDED_ORG = 3, 2, 4


@pytest.fixture(scope="module")
def station(work_dir, redis_server):
    with back_office_station(work_dir, redis_server) as station:
        yield station


@pytest.fixture(scope="module")
def admin(station):
    """li.admin over HTTP: a colleague deciding beside wang.fang's browser, and the refusals."""
    return signed_in_session(station, "li.admin")


def api_booking(station, organization_id: int, venue_id: int, day, start: str, end: str, title: str, **extra) -> dict:
    answer = station.http("booking", "POST", "/bookings", json={
        "venue_id": venue_id, "organization_id": organization_id, "start": f"{day.isoformat()}T{start}:00+08:00",
        "end": f"{day.isoformat()}T{end}:00+08:00", "title": title, "attendees": 8,
        "contact": {"name": "云德明", "phone": "13800000004"}, **extra})
    assert answer.status_code == 201, answer.text
    return answer.json()


def review_of(station, booking_id: int) -> dict:
    return wait_until(lambda: [r for r in station.http("desk", "GET", "/reviews?per_page=100").json()["items"]
                               if r["booking_id"] == booking_id], 30, 0.3, f"the review of booking {booking_id}")[0]


def booking_status(station, booking_id: int) -> str:
    return station.http("booking", "GET", f"/bookings/{booking_id}").json()["status"]


def decide_over_http(client, station, review_id: int, **form):
    url = f"{station.portal.url}/staff/reviews/{review_id}"
    token = csrf_token(client.get(url, timeout=10).text)
    return client.post(f"{url}/decision", data={"csrf_token": token, **form}, timeout=10)


def test_staff_approve_a_booking_made_in_the_portal_and_reject_another_with_a_reason(browser, station):
    words = WORDS["zh-CN"]
    phone, name = "13700000311", "垦家大院舞蹈队"
    organization_id = new_organisation(station, phone, name)
    contact = phone_page(browser, station.portal.url)
    sign_in(contact, station, phone, words)
    # One late cancellation before (after the sign-in, whose code must be the phone's next SMS):
    # the queue shows the organisation's score after it (100 - 5).
    late = approved_booking(station, organization_id, soon_slot(), soon_slot() - timedelta(days=10), hours=0.5)
    # approved_booking approves in booking itself; the desk's case for it is closed as staff would have.
    closed = station.http("desk", "POST", f"/reviews/{review_of(station, late)['id']}/decision",
                          json={"decision": "approve"})
    assert closed.status_code == 200, closed.text
    cancelled = station.http("booking", "POST", f"/bookings/{late}/cancel", role="org", org=organization_id, json={})
    assert cancelled.status_code == 200, cancelled.text
    day = earliest_bookable_date(station)
    contact.goto("/org/book")
    fill_booking(contact, words, day, "14:00", "16:00")
    contact.get_by_role("button", name=words["submit"]).click()
    contact.wait_for_url("**/org/bookings/*/requested")
    booking_id = int(contact.url.split("/")[-2])
    # Another organisation's request for the same room that morning: the "other bookings that day".
    other = api_booking(station, SEEDED_ORG, MEETING_ROOM, day, "09:00", "10:00", "门球队例会 Gateball meeting")
    review_of(station, other["id"])

    review_of(station, booking_id)
    staff = signed_in_page(browser, station, "wang.fang")
    staff.goto("/staff")
    staff.get_by_role("link", name="审批场地预约").click()
    staff.wait_for_url("**/staff/reviews")
    card = staff.locator("#reviews > li").filter(has_text=name).filter(has_text="合唱排练 Choir practice")
    assert card.count() == 1
    text = card.inner_text()
    assert "诚信分：95分" in text and "近90天违约1次" in text and "临时取消预约" in text
    assert "合唱排练 Choir practice" in text and "党群会议室" in text and "20人" in text and "14:00–16:00" in text
    assert "09:00–10:00 门球队例会 Gateball meeting" in text
    accessible(staff)
    photograph(staff, "staff-review-queue")

    card.get_by_role("link", name="合唱排练 Choir practice").click()
    staff.wait_for_url(re.compile(r".*/staff/reviews/\d+$"))
    assert "临时取消预约" in staff.locator("#violations").inner_text()
    assert "门球队例会 Gateball meeting" in staff.locator("#same-day").inner_text()
    accessible(staff)
    photograph(staff, "staff-review-case")
    staff.get_by_role("button", name="批准这个申请").click()
    staff.wait_for_url(re.compile(r".*/staff/reviews/\d+\?decided=approve$"))
    assert "您已批准这个申请" in staff.locator("#decided").inner_text()
    accessible(staff)

    # The decision goes desk -> booking worker -> notify worker; the contact's page then says approved.
    wait_until(lambda: booking_status(station, booking_id) == "approved", 30, 0.3, "the approval to reach booking")
    contact.goto(f"/org/bookings/{booking_id}")
    assert words["approved"] in contact.locator("#status").inner_text()
    assert wait_until(lambda: [line for line in sms_lines(station, phone)
                               if str(booking_id) in line["body"] and "已通过审核" in line["body"]],
                      30, 0.3, "the approval SMS")
    contact.context.close()

    staff.goto("/staff/reviews")
    staff.get_by_role("link", name="门球队例会 Gateball meeting").click()
    staff.get_by_role("button", name="驳回这个申请").click()
    error = staff.locator("#reason-error-1")
    assert "请写明驳回的理由" in error.inner_text() and "Write why the request is rejected" in error.inner_text()
    assert staff.get_by_label("驳回理由").get_attribute("aria-invalid") == "true"
    accessible(staff)
    staff.get_by_label("驳回理由").fill("当天上午场地维修 The room is being repaired that morning")
    staff.get_by_role("button", name="驳回这个申请").click()
    staff.wait_for_url(re.compile(r".*\?decided=reject$"))
    assert "您已驳回这个申请" in staff.locator("#decided").inner_text()
    wait_until(lambda: booking_status(station, other["id"]) == "rejected", 30, 0.3, "the rejection to reach booking")
    staff.context.close()


def test_a_series_is_shown_whole_and_a_case_decided_meanwhile_is_said_plainly(browser, station, admin):
    first = earliest_bookable_date(station) + timedelta(days=7)
    series = api_booking(station, SEEDED_ORG, PARTY_AREA, first, "19:00", "20:00", "周例会 Weekly meeting",
                         recurrence={"frequency": "weekly", "count": 3})
    review = review_of(station, series["id"])
    staff = signed_in_page(browser, station, "wang.fang")
    staff.goto("/staff/reviews")
    card = staff.locator(f"#review-{review['id']}").inner_text()
    assert "重复预约，共3次" in card and month_day(first + timedelta(weeks=2), "zh-CN") in card
    staff.goto(f"/staff/reviews/{review['id']}")
    occurrences = staff.locator("#series > li")
    assert occurrences.count() == 3
    assert "19:00–20:00" in occurrences.nth(2).inner_text()
    accessible(staff)
    for path in ("/staff/reviews", f"/staff/reviews/{review['id']}"):  # WCAG 1.4.10: no sideways scroll at 200 %
        staff.goto(path)
        staff.set_viewport_size({"width": PHONE_SCREEN["width"] // 2, "height": PHONE_SCREEN["height"] // 2})
        overflow = staff.evaluate("document.documentElement.scrollWidth - document.documentElement.clientWidth")
        assert overflow <= 0, (path, overflow)
        staff.set_viewport_size(PHONE_SCREEN)

    # A colleague approves it first; wang.fang's page still shows the form, and her rejection meets the 409.
    assert decide_over_http(admin, station, review["id"], decision="approve").status_code == 200
    staff.get_by_label("驳回理由").fill("重复了 Duplicate")
    staff.get_by_role("button", name="驳回这个申请").click()
    notice = staff.locator("#already-decided").inner_text()
    assert "这个申请已经处理过了" in notice and "li.admin" in notice and "已批准" in notice
    assert staff.get_by_role("button", name="批准这个申请").count() == 0
    accessible(staff)
    photograph(staff, "staff-review-decided")
    wait_until(lambda: {o["status"] for o in station.http("booking", "GET", f"/bookings/{series['id']}").json()
                        ["series"]["bookings"]} == {"approved"}, 30, 0.3, "every occurrence approved")
    staff.context.close()


def test_a_case_past_its_working_day_is_marked_overdue(station, admin):
    booking = api_booking(station, SEEDED_ORG, PARTY_AREA, earliest_bookable_date(station) + timedelta(days=1),
                          "09:00", "10:00", "逾期的申请 Overdue request")
    review = review_of(station, booking["id"])
    with station.database("desk").transaction() as session:
        session.execute(update(ReviewCase).where(ReviewCase.id == review["id"])
                        .values(opened_at=utcnow() - timedelta(days=30)))  # past any holiday
    queue = admin.get(f"{station.portal.url}/staff/reviews", timeout=10).text
    assert re.search(rf'<li class="card review review-overdue" id="review-{review["id"]}">', queue)
    assert re.search(rf'id="overdue-{review["id"]}">已超期', queue)
    english = admin.get(f"{station.portal.url}/staff/reviews", cookies={"yizhan_lang": "en"}, timeout=10).text
    assert "Overdue" in english and "Review booking requests" in english


def test_rejecting_without_a_reason_is_refused_in_both_languages(station, admin):
    booking = api_booking(station, SEEDED_ORG, PARTY_AREA, earliest_bookable_date(station) + timedelta(days=2),
                          "09:00", "10:00", "无理由 No reason")
    review = review_of(station, booking["id"])
    answer = decide_over_http(admin, station, review["id"], decision="reject", reason="   ")
    assert answer.status_code == 422
    assert "请写明驳回的理由" in answer.text and "Write why the request is rejected" in answer.text
    assert station.http("desk", "GET", f"/reviews/{review['id']}").json()["status"] == "open"
    too_long = decide_over_http(admin, station, review["id"], decision="reject", reason="长" * 501)
    assert too_long.status_code == 422 and "理由最多500个字" in too_long.text
    odd = decide_over_http(admin, station, review["id"], decision="maybe")
    assert odd.status_code == 400
    assert station.http("desk", "GET", f"/reviews/{review['id']}").json()["status"] == "open"


def test_a_request_the_booker_cancelled_meanwhile_is_said_withdrawn(station, admin):
    booking = api_booking(station, SEEDED_ORG, PARTY_AREA, earliest_bookable_date(station) + timedelta(days=3),
                          "09:00", "10:00", "取消了 Cancelled")
    review = review_of(station, booking["id"])
    url = f"{station.portal.url}/staff/reviews/{review['id']}"
    token = csrf_token(admin.get(url, timeout=10).text)
    cancelled = station.http("booking", "POST", f"/bookings/{booking['id']}/cancel", role="org", org=SEEDED_ORG,
                             json={})
    assert cancelled.status_code == 200, cancelled.text
    wait_until(lambda: station.http("desk", "GET", f"/reviews/{review['id']}").json()["status"] == "withdrawn",
               30, 0.3, "the withdrawal to reach the desk")
    answer = admin.post(f"{url}/decision", data={"csrf_token": token, "decision": "approve"}, timeout=10)
    assert answer.status_code == 409
    assert "这个申请已经处理过了" in answer.text and "已撤回（申请方取消了预约）" in answer.text
    assert "批准这个申请" not in answer.text
    english = admin.get(url, cookies={"yizhan_lang": "en"}, timeout=10).text
    assert "This request has already been decided" in english and "Withdrawn (the booker cancelled)" in english


def test_an_unknown_case_is_not_found(station, admin):
    assert admin.get(f"{station.portal.url}/staff/reviews/987654", timeout=10).status_code == 404
    token = csrf_token(admin.get(f"{station.portal.url}/staff", timeout=10).text)
    answer = admin.post(f"{station.portal.url}/staff/reviews/987654/decision",
                        data={"csrf_token": token, "decision": "approve"}, timeout=10)
    assert answer.status_code == 404 and "找不到这个页面" in answer.text


@pytest.mark.parametrize("who", ["resident", "org"])
def test_residents_and_organisation_contacts_get_403(station, who):
    phone = new_phone() if who == "resident" else "13700000319"
    if who == "org":
        new_organisation(station, phone, "垦家大院象棋社")
    client, answer = sign_in_over_http(station, phone)
    assert answer.url.endswith("/account"), answer.text
    url = station.portal.url
    token = csrf_token(client.get(f"{url}/account", timeout=10).text)
    assert client.get(f"{url}/staff/reviews", timeout=10).status_code == 403
    assert client.get(f"{url}/staff/reviews/1", timeout=10).status_code == 403
    refused = client.post(f"{url}/staff/reviews/1/decision", data={"csrf_token": token, "decision": "approve"},
                          timeout=10)
    assert refused.status_code == 403


def test_no_one_signed_in_is_sent_to_the_staff_sign_in(station):
    import requests

    answer = requests.get(f"{station.portal.url}/staff/reviews", allow_redirects=False, timeout=10)
    assert answer.status_code == 302 and answer.headers["Location"].endswith("/staff/sign-in")
