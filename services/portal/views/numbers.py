"""The station's numbers for a month, admins only: tables, SVG charts, CSV and Excel, and the printable week calendar, under /admin/numbers (issue 13).

Every number is an API's (GET /statistics?month= on booking, desk and notify; GET /bookings for
the week), asked as the signed-in admin: the APIs decide again who may see them."""

from datetime import date, timedelta

from flask import Blueprint, Response, abort, g, render_template, request

from services.portal.clients import ApiError, Caller, NotifyClient
from services.portal.domain import numbers_api
from services.portal.domain.charts import bar_chart
from services.portal.domain.numbers_export import as_csv, as_xlsx, file_rows
from services.portal.domain.numbers_tables import TABLES
from services.portal.i18n import MESSAGES, both, locale, t
from services.portal.views.helpers import booking_client, current_account, desk_client, now, portal, runtime
from services.portal.views.staff_auth import admin_required
from shared.station_month import StationMonth
from shared.timefmt import to_station_time

blp = Blueprint("numbers", __name__)

MONTH_NAMES = ("January", "February", "March", "April", "May", "June", "July", "August", "September", "October",
               "November", "December")
FILE_TYPES = {"csv": "text/csv; charset=utf-8",
              "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"}


def notify_client() -> NotifyClient:
    """Notify as the signed-in admin (helpers' notify client speaks as the portal itself)."""
    config = portal().config
    return NotifyClient(config.api_urls["notify"], runtime().settings.secret_key, Caller.of(current_account()),
                        config.api_token_ttl_seconds, g.get("request_id", ""))


def clients() -> dict:
    return {"booking": booking_client(), "desk": desk_client(), "notify": notify_client()}


def words(message_id: str, **params) -> tuple[str, str]:
    zh, en = MESSAGES[message_id]
    return (zh.format(**params), en.format(**params)) if params else (zh, en)


def in_language(pair) -> str:
    return pair[1] if locale() == "en" else pair[0]


def this_month() -> StationMonth:
    return StationMonth.of(now())


def chosen_month() -> tuple[StationMonth, bool]:
    """The month asked for (?month=YYYY-MM), else this month in station time; and whether the text was bad."""
    text = request.args.get("month", "").strip()
    if not text:
        return this_month(), False
    try:
        return StationMonth.parse(text), False
    except ValueError:
        return this_month(), True


def month_heading(month: StationMonth) -> str:
    return t("num_month_heading", year=month.year, month=month.month, month_name=MONTH_NAMES[month.month - 1])


def chart(chart_id: str, title_id: str, groups: list, series: list | None = None):
    """A chart of the groups that have something to show (the table beside it lists every one);
    None when none has: the table alone then says it."""
    shown = [(label, values) for label, values in groups if any(values)]
    return bar_chart(chart_id, t(title_id), shown, series) if shown else None


def charts(statistics: dict, tables: dict) -> dict:
    venues = statistics["booking"]["venues"]
    errands = statistics["desk"]["errands"]
    scores = {d["score"]: d["count"] for d in statistics["desk"]["follow_up"]["distribution"]}
    return {
        "venues": chart("chart-venues", "num_venues_chart",
                        [(in_language((v["name_zh"], v["name_en"])), [v["hours"]]) for v in venues]),
        "errands": chart("chart-errands", "num_errands_chart",
                         [(in_language((e["name_zh"], e["name_en"])), [e["opened"], e["done"]]) for e in errands],
                         [t("num_series_opened"), t("num_series_done")]),
        "follow-up": chart("chart-follow-up", "num_follow_up_chart",
                           [(t("num_score", score=s), [scores.get(s, 0)]) for s in (5, 4, 3, 2, 1)]),
        "messages": chart("chart-messages", "num_messages_chart",
                          [(in_language(row[0]), [row[1], row[3]]) for row in tables["messages"].rows],
                          [t("num_series_sent"), t("num_series_failed")]),
    }


def month_page(chosen: StationMonth, status: int = 200, **page):
    """The month's page: its tables and charts when given, else the month form with what went wrong."""
    page.setdefault("tables", None)
    return render_template("numbers/month.html", month=chosen, heading=month_heading(chosen),
                           previous=chosen.previous(), next=chosen.next(), in_language=in_language, **page), status


@blp.get("/admin/numbers")
@admin_required
def month():
    chosen, malformed = chosen_month()
    if malformed:
        return month_page(chosen, 400, malformed=True)
    try:
        statistics = numbers_api.month_statistics(**clients(), month=chosen)
    except ApiError as refusal:
        if refusal.status >= 500 or refusal.status in (401, 403):
            raise
        return month_page(chosen, 422, refusal=refusal)
    tables = {name: make(statistics[service], words) for name, (service, make) in TABLES.items()}
    return month_page(chosen, statistics=statistics, tables=tables, charts=charts(statistics, tables))


@blp.get("/admin/numbers/<name>.<kind>")
@admin_required
def export(name: str, kind: str):
    """One table as a file: venues, errands, follow-up or messages; .csv or .xlsx."""
    if name not in TABLES or kind not in FILE_TYPES:
        abort(404)
    chosen, malformed = chosen_month()
    if malformed:
        return month_page(chosen, 400, malformed=True)
    service, make = TABLES[name]
    statistics = clients()[service].get("/statistics", month=str(chosen))
    table = make(statistics, words)
    rows = file_rows(table, both, words("num_total"))
    body = as_csv(rows) if kind == "csv" else as_xlsx(rows, f"{name} {chosen}")
    filename = f"yizhan-{name}-{chosen}.{kind}"
    return Response(body, content_type=FILE_TYPES[kind],
                    headers={"Content-Disposition": f'attachment; filename="{filename}"'})


# --- the week on the wall -------------------------------------------------------------------------

def chosen_week() -> tuple[date, bool]:
    """The first day asked for (?start=YYYY-MM-DD), else this week's Monday; and whether the text was bad."""
    today = to_station_time(now()).date()
    monday = today - timedelta(days=today.weekday())
    text = request.args.get("start", "").strip()
    if not text:
        return monday, False
    try:
        first = date.fromisoformat(text)
    except ValueError:
        return monday, True
    if not date(1970, 1, 8) <= first <= date(9998, 12, 20) or len(text) != 10:
        return monday, True
    return first, False


@blp.get("/admin/numbers/week")
@admin_required
def week():
    first, malformed = chosen_week()
    days = [first + timedelta(days=n) for n in range(7)]
    page = {"first": first, "days": days, "malformed": malformed,
            "previous": first - timedelta(days=7), "next": first + timedelta(days=7)}
    if malformed:
        return render_template("numbers/week.html", **page, venues=[], cells={}), 400
    client = booking_client()
    venues = [v for v in client.venues() if v["bookable"]]
    bookings = numbers_api.week_bookings(client, first)
    names = numbers_api.organisation_names(client) if bookings else {}
    cells: dict = {}
    for booking in bookings:
        day = date.fromisoformat(booking["start"][:10])
        organisation = names.get(booking["organization_id"], "")
        cells.setdefault((booking["venue_id"], day), []).append({**booking, "organisation": organisation})
    return render_template("numbers/week.html", **page, venues=venues, cells=cells, in_language=in_language)
