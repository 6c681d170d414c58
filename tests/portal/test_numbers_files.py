"""The numbers' files and charts without a station (issue 13): CSV with a byte-order mark and
bilingual headings, no cell a spreadsheet would run as a formula, Excel that openpyxl reads back,
SVG charts with a title and no style attribute (the CSP), and months in station time."""

import csv
import io
import xml.etree.ElementTree as ElementTree
from datetime import datetime, timezone

import openpyxl
import pytest

from services.portal.domain.charts import bar_chart
from services.portal.domain.numbers_export import as_csv, as_xlsx, defused, file_rows
from services.portal.domain.numbers_tables import Column, Table, venue_table
from shared.station_month import StationMonth

SVG = "{http://www.w3.org/2000/svg}"


def both(message_id):
    return {"num_col_venue": "场地 Venue", "num_col_held": "已通过预约 Approved bookings"}.get(message_id, message_id)


def hostile_table() -> Table:
    table = Table("venues", "num_venues_title", [Column("num_col_venue", text=True), Column("num_col_held")])
    table.rows = [[("=HYPERLINK(\"http://evil.example\",\"点我\")", "+SUM(A1)"), 2], [("党群会议室", "Meeting room"), 3.5]]
    table.totals = [None, 5.5]
    return table


@pytest.mark.parametrize("text", ["=1+1", "+8613800000001", "-2+3", "@SUM(A1)", "\t=1", "\r=1"])
def test_a_cell_a_spreadsheet_would_run_is_made_plain_text(text):
    assert defused(text) == "'" + text


@pytest.mark.parametrize("value", ["党群会议室", "Meeting room", 3, 3.5, None, ""])
def test_other_cells_are_left_as_they_are(value):
    assert defused(value) == value


def test_the_csv_opens_in_excel_as_utf8_with_headings_in_both_languages():
    body = as_csv(file_rows(hostile_table(), both, ("合计", "Total")))
    assert body.startswith("\ufeff".encode("utf-8"))
    rows = list(csv.reader(io.StringIO(body.decode("utf-8-sig"))))
    assert rows[0] == ["场地 Venue", "场地 Venue (English)", "已通过预约 Approved bookings"]
    assert rows[1] == ["'=HYPERLINK(\"http://evil.example\",\"点我\")", "'+SUM(A1)", "2"]
    assert rows[2] == ["党群会议室", "Meeting room", "3.5"]
    assert rows[3] == ["合计", "Total", "5.5"]


def test_the_excel_file_holds_numbers_as_numbers_and_no_formula(tmp_path):
    path = tmp_path / "venues.xlsx"
    path.write_bytes(as_xlsx(file_rows(hostile_table(), both, ("合计", "Total")), "venues 2026-12"))
    sheet = openpyxl.load_workbook(path).active
    assert sheet.title == "venues 2026-12"
    assert [cell.value for cell in sheet[2]] == ["'=HYPERLINK(\"http://evil.example\",\"点我\")", "'+SUM(A1)", 2]
    assert all(cell.data_type != "f" for row in sheet.iter_rows() for cell in row)
    assert sheet["C3"].value == 3.5 and sheet["A1"].font.bold


def test_the_venue_table_lists_each_venue_and_the_totals():
    stats = {"venues": [{"name_zh": "党群会议室", "name_en": "Meeting room", "held": 2, "hours": 3.5, "no_shows": 1,
                         "late_cancellations": 1, "cancelled": 1, "rejected": 0, "requested": 4}],
             "totals": {"held": 2, "hours": 3.5, "no_shows": 1, "late_cancellations": 1, "cancelled": 1, "rejected": 0,
                        "requested": 4}}
    table = venue_table(stats)
    assert table.rows == [[("党群会议室", "Meeting room"), 2, 3.5, 1, 1, 1, 0, 4]]
    assert table.totals == [None, 2, 3.5, 1, 1, 1, 0, 4]


def test_a_chart_is_an_image_with_a_title_and_no_style_attribute():
    svg = bar_chart("chart-venues", "各场地使用小时数", [("<script>alert(1)</script>", [3.5]), ("文化广场", [8])])
    root = ElementTree.fromstring(str(svg))
    assert root.get("role") == "img" and root.get("aria-labelledby") == "chart-venues-title"
    assert root.find(f"{SVG}title").text == "各场地使用小时数"
    assert all("style" not in element.attrib for element in root.iter())
    assert root.find(f"{SVG}style") is None
    texts = [element.text for element in root.iter(f"{SVG}text")]
    assert "<script>alert(1)</script>" in texts and "3.5" in texts and "8" in texts  # escaped, then parsed back
    widths = [int(rect.get("width")) for rect in root.iter(f"{SVG}rect")]
    assert widths[1] > widths[0]  # 8 hours draws longer than 3.5


def test_a_chart_with_two_series_has_a_key():
    svg = bar_chart("chart-errands", "新收和办结", [("养老保险", [2, 1])], ["新收", "办结"])
    texts = [element.text for element in ElementTree.fromstring(str(svg)).iter(f"{SVG}text")]
    assert texts[:2] == ["新收", "办结"]


def test_a_month_runs_from_midnight_station_time():
    december = StationMonth.parse("2026-12")
    assert december.start.isoformat() == "2026-12-01T00:00:00+08:00"
    assert december.end.isoformat() == "2027-01-01T00:00:00+08:00"
    assert december.next() == StationMonth(2027, 1) and StationMonth(2027, 1).previous() == december
    # 16:30 UTC on 30 November is 00:30 on 1 December at the station.
    assert StationMonth.of(datetime(2026, 11, 30, 16, 30, tzinfo=timezone.utc)) == december
    assert str(december) == "2026-12"


@pytest.mark.parametrize("text", ["2026-13", "2026-00", "2026-1", "２０２６-１２", "1969-12", "9999-12", "", "2026-12 "])
def test_a_malformed_month_is_refused(text):
    with pytest.raises(ValueError):
        StationMonth.parse(text)
