"""The numbers' tables as files for the street office: CSV (UTF-8 with a byte-order mark, which
Excel in China needs to read UTF-8 rather than GBK) and Excel (openpyxl). Headings in both
languages; every text cell that a spreadsheet would run as a formula is defused (OWASP, "CSV
Injection": a cell starting with = + - @, a tab or a carriage return gets a leading apostrophe)."""

import csv
import io

from openpyxl import Workbook
from openpyxl.styles import Font

from services.portal.domain.numbers_tables import Table

BOM = "\ufeff"
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def defused(value):
    """A string a spreadsheet would read as a formula, made plain text; numbers and None as they are."""
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value


def file_rows(table: Table, both, total_label) -> list[list]:
    """Headings, rows and totals with each text column as two: Chinese, then English.
    `both(id)` is the catalogue's "中文 English"; `total_label` the totals row's (zh, en)."""
    headings = []
    for column in table.columns:
        headings.append(both(column.heading))
        if column.text:
            headings.append(both(column.heading) + " (English)")
    rows = [headings]
    for row in table.rows + ([table.totals] if table.totals else []):
        cells = []
        for column, value in zip(table.columns, row):
            if column.text:
                cells.extend(value if value is not None else total_label)
            else:
                cells.append(value)
        rows.append([defused(cell) for cell in cells])
    return rows


def text_of(cell) -> str:
    """A CSV cell: 3.5 and 8 as a person writes them (not 8.0), nothing for no value."""
    if cell is None:
        return ""
    return f"{cell:g}" if isinstance(cell, float) else str(cell)


def as_csv(rows: list[list]) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerows([[text_of(cell) for cell in row] for row in rows])
    return (BOM + out.getvalue()).encode("utf-8")


def as_xlsx(rows: list[list], sheet_title: str) -> bytes:
    workbook = Workbook()
    sheet = workbook.active
    sheet.title = sheet_title[:31]  # Excel's limit on a sheet's name
    for row in rows:
        sheet.append(row)
    for cell in sheet[1]:
        cell.font = Font(bold=True)
    for column in sheet.columns:
        sheet.column_dimensions[column[0].column_letter].width = max(len(str(c.value or "")) for c in column) + 4
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()
