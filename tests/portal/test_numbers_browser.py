"""The station's numbers in a real browser (issue 13, page 5), against real booking, desk, notify and
portal processes: the test makes a month of bookings (approved, checked in, a no-show, a late
cancellation, a rejection) through the booking domain with its clock, and errands through the desk
API (opened, done, followed up); admin li.admin opens the numbers page (axe-core), downloads the CSV
and the Excel file, whose counts equal what the test made, and prints the venues' week calendar,
which shows the approved bookings and no others. Staff get 403; a malformed month a plain refusal."""

import csv
import io
from datetime import datetime, timedelta

import openpyxl
import pytest
import requests

from services.booking.domain import lifecycle
from services.booking.policy import BookingPolicy
from shared.station_month import StationMonth
from shared.timefmt import STATION_TZ
from tests.booking.conftest import BookingDesk, station_time
from tests.booking.test_lifecycle import decide
from tests.portal.back_office import back_office_station, signed_in_page, signed_in_session
from tests.portal.browser import accessible, needs_chromium, photograph

pytestmark = [pytest.mark.e2e, needs_chromium]

MEETING_ROOM = 3
RESIDENT = {"name": "王秀英", "phone": "13812345678"}
# The titles the wall calendar shows, and one it must not (a cancelled booking).
HELD_TITLES = ("党支部主题党日 Party day", "书法社练习 Calligraphy")
CANCELLED_TITLE = "合唱排练 Choir practice"


@pytest.fixture(scope="module")
def station(work_dir, redis_server):
    with back_office_station(work_dir, redis_server) as station:
        yield station


def day_of(month: StationMonth, day: int, clock: str) -> str:
    return f"{month.first_day.replace(day=day).isoformat()} {clock}"


def make_bookings(station, month: StationMonth) -> dict:
    """Five bookings of the meeting room this month, each with its own fate, with the booking domain's clock."""
    organization = station.http("booking", "POST", "/organizations", json={
        "name": "垦家大院党支部", "name_en": "Kenjia Party branch", "kind": "party_org",
        "contact": {"name": "林海燕", "phone": "13700000401"}})
    assert organization.status_code == 201, organization.text
    desk = BookingDesk(station, BookingPolicy(monthly_bookings=50, monthly_hours=500))
    desk.organization_id = organization.json()["id"]
    asked = (month.start - timedelta(days=10)).strftime("%Y-%m-%d %H:%M")

    def book(day, clock, hours, title, approve=True):
        booking = desk.request(asked, day_of(month, day, clock), hours=hours, title=title).first.id
        if approve:
            decide(desk, booking)
        return booking

    def at(function, *args, clock):
        with desk.database.transaction() as session:
            return function(session, *args, station_time(clock), desk.policy)

    book(10, "09:00", 2, "读书会 Book club")
    at(lifecycle.sweep_attendance, clock=day_of(month, 10, "09:31"))  # nobody came: a no-show
    book(11, "09:00", 2, HELD_TITLES[0])
    checked_in = book(12, "14:00", 1.5, HELD_TITLES[1])
    at(lifecycle.check_in, checked_in, "staff-wang", clock=day_of(month, 12, "13:55"))
    late = book(13, "09:00", 2, CANCELLED_TITLE)
    at(lifecycle.cancel_booking, late, "org", False, "临时有事", clock=day_of(month, 13, "07:00"))
    rejected = book(14, "09:00", 2, "议事会 Council", approve=False)
    decide(desk, rejected, "reject", "场地维修 The room is being repaired")
    return {"requested": 5, "held": 2, "hours": 3.5, "no_shows": 1, "late": 1, "cancelled": 1, "rejected": 1}


def make_errands(station) -> dict:
    """Three errands at the counter today: two pension claims (one done and followed up), one consultation done."""
    opened = []
    for kind in ("pension_insurance", "pension_insurance", "consultation"):
        answer = station.http("desk", "POST", "/tickets", json={"type": kind, "summary": "统计 Numbers",
                                                                 "resident": RESIDENT})
        assert answer.status_code == 201, answer.text
        opened.append(answer.json()["id"])
    for ticket_id in (opened[0], opened[2]):
        for step in ("accepted", "in_progress", "done"):
            moved = station.http("desk", "POST", f"/tickets/{ticket_id}/transition", json={"status": step})
            assert moved.status_code == 200, moved.text
    answer = station.http("desk", "POST", f"/tickets/{opened[0]}/follow-up", json={"satisfaction": 5})
    assert answer.status_code == 200, answer.text
    return {"pension_insurance": (2, 1), "consultation": (1, 1)}


@pytest.fixture(scope="module")
def made(station):
    """This month at the station (its time, +08:00): the numbers page opens on it."""
    month = StationMonth.of(datetime.now(STATION_TZ))
    return {"month": month, "bookings": make_bookings(station, month), "errands": make_errands(station)}


def download(page, link_id: str):
    with page.expect_download() as info:
        page.locator(f"#{link_id}").click()
    return info.value


def csv_rows(download_) -> list[dict]:
    raw = open(download_.path(), "rb").read()
    assert raw.startswith(b"\xef\xbb\xbf"), "the CSV starts with a byte-order mark for Excel"
    return list(csv.DictReader(io.StringIO(raw.decode("utf-8-sig"))))


def test_an_admin_reads_the_month_and_downloads_its_tables(browser, station, made, tmp_path):
    month, expected = made["month"], made["bookings"]
    page = signed_in_page(browser, station, "li.admin")
    page.goto("/staff")
    page.get_by_role("link", name="驿站数据统计").click()
    page.wait_for_url("**/admin/numbers")
    assert f"{month.year}年{month.month}月" in page.locator("#month-heading").inner_text()
    summary = page.locator("#venues .summary").inner_text()
    assert (f"已通过预约 {expected['held']} 个 · 使用 {expected['hours']:g} 小时 · 未到场 {expected['no_shows']} 次 · "
            f"临时取消 {expected['late']} 次") == summary
    assert page.locator("#chart-venues title").text_content() == "各场地使用小时数"
    accessible(page)
    photograph(page, "admin-numbers")

    rows = csv_rows(download(page, "download-venues-csv"))
    room = next(row for row in rows if row["场地 Venue"] == "党群会议室")
    assert room["场地 Venue (English)"] == "Party–citizen meeting room"
    assert {key: room[heading] for key, heading in (
        ("requested", "申请总数 Requests"), ("held", "已通过预约 Approved bookings"), ("hours", "使用小时 Hours used"),
        ("no_shows", "未到场 No-shows"), ("late", "临时取消 Late cancellations"),
        ("cancelled", "全部取消 All cancellations"), ("rejected", "未通过 Rejected"))} == {
        key: f"{value:g}" if isinstance(value, float) else str(value) for key, value in expected.items()}
    assert rows[-1]["场地 Venue"] == "合计"

    excel = download(page, "download-venues-xlsx")
    assert excel.suggested_filename == f"yizhan-venues-{month}.xlsx"
    excel.save_as(tmp_path / excel.suggested_filename)  # openpyxl goes by the file's extension
    workbook = openpyxl.load_workbook(tmp_path / excel.suggested_filename)
    sheet = workbook.active
    headings = [cell.value for cell in sheet[1]]
    room_row = next(row for row in sheet.iter_rows(min_row=2, values_only=True) if row[0] == "党群会议室")
    assert room_row[headings.index("已通过预约 Approved bookings")] == expected["held"]
    assert room_row[headings.index("使用小时 Hours used")] == expected["hours"]
    assert room_row[headings.index("未到场 No-shows")] == expected["no_shows"]
    assert room_row[headings.index("临时取消 Late cancellations")] == expected["late"]

    errands = {row["事项 Errand (English)"]: row for row in csv_rows(download(page, "download-errands-csv"))}
    for code, (opened, done) in made["errands"].items():
        row = next(r for name, r in errands.items() if name.lower().startswith(code.split("_")[0][:7]))
        assert (row["新收 Opened"], row["办结 Done"]) == (str(opened), str(done)), (code, row)
    follow_up = {row["评分 Score"]: row["人数 Residents"] for row in csv_rows(download(page, "download-follow-up-csv"))}
    assert follow_up["5分"] == "1" and follow_up["合计"] == "1"
    page.context.close()


def test_the_week_calendar_shows_the_approved_bookings_and_prints_without_the_site_frame(browser, station, made):
    month = made["month"]
    page = signed_in_page(browser, station, "li.admin")
    page.goto(f"/admin/numbers/week?start={month.first_day.replace(day=11).isoformat()}")
    calendar = page.locator("#week-calendar")
    for title in HELD_TITLES:
        assert title in calendar.inner_text()
    assert CANCELLED_TITLE not in calendar.inner_text() and "Council" not in calendar.inner_text()
    assert "垦家大院党支部" in calendar.inner_text() and "13700000401" not in calendar.inner_text()
    assert "09:00–11:00" in calendar.inner_text()
    accessible(page)
    photograph(page, "admin-week-calendar")
    page.emulate_media(media="print")
    assert not page.locator(".site-header").is_visible() and not page.locator("form.month-form").is_visible()
    assert calendar.is_visible()
    page.context.close()


def test_the_numbers_read_in_english_too(browser, station, made):
    expected = made["bookings"]
    page = signed_in_page(browser, station, "li.admin")
    page.context.add_cookies([{"name": "yizhan_lang", "value": "en", "url": station.portal.url}])
    page.goto(f"/admin/numbers?month={made['month']}")
    assert page.locator("h1").inner_text().startswith("The station's numbers")
    assert page.locator("#venues .summary").inner_text() == (
        f"Approved bookings: {expected['held']} · Hours used: {expected['hours']:g} · No-shows: {expected['no_shows']} · "
        f"Late cancellations: {expected['late']}")
    assert "Party–citizen meeting room" in page.locator("#table-venues").inner_text()
    assert page.locator("#chart-errands title").text_content() == "Errands opened and done, by type"
    accessible(page)
    photograph(page, "admin-numbers-en")
    page.context.close()


def test_a_malformed_month_is_refused_plainly_in_both_languages(browser, station, made):
    page = signed_in_page(browser, station, "li.admin")
    answer = page.goto("/admin/numbers?month=2026-13")
    assert answer.status == 400
    assert "月份格式应为“年-月”" in page.locator("#month-error").inner_text()
    assert "Write the month as year-month" in page.locator("#month-error").inner_text()
    assert page.get_by_label("选择月份").get_attribute("aria-invalid") == "true"
    accessible(page)
    assert page.goto("/admin/numbers/venues.csv?month=2026-1").status == 400
    assert page.goto("/admin/numbers/week?start=2026-02-30").status == 400
    assert page.goto("/admin/numbers/secrets.csv").status == 404
    assert page.goto("/admin/numbers/venues.html").status == 404
    page.context.close()


def test_staff_may_not_open_the_numbers(station, made):
    staff = signed_in_session(station, "wang.fang")
    url = station.portal.url
    for path in ("/admin/numbers", "/admin/numbers/venues.csv", "/admin/numbers/errands.xlsx", "/admin/numbers/week"):
        assert staff.get(f"{url}{path}", timeout=10).status_code == 403, path
    anonymous = requests.get(f"{url}/admin/numbers", timeout=10, allow_redirects=False)
    assert anonymous.status_code == 302 and anonymous.headers["Location"].endswith("/staff/sign-in")
