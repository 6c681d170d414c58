"""GET /statistics?month=YYYY-MM on the desk API (issue 13): errands by type (opened, done, overdue,
average days to done) and the follow-up scores, by months in station time (+08:00); admins and
other systems only.

The desk stamps a ticket and its events with the time they happen; to set a month in the past,
the test moves those stamps afterwards, as if the work had been done then."""

from datetime import date, datetime

import pytest
from sqlalchemy import update

from services.services_desk.domain import tickets
from services.services_desk.models import Ticket, TicketEvent
from shared.timefmt import STATION_TZ
from shared.working_days import WorkingCalendar
from tests.conftest import auth

RESIDENT = {"name": "王秀英", "phone": "13812345678"}
NOT_DUE_YET = date(2099, 1, 1)
STEPS_TO_DONE = ("accepted", "in_progress", "done")


def at(text: str) -> datetime:
    return datetime.strptime(text, "%Y-%m-%d %H:%M").replace(tzinfo=STATION_TZ)


def errand(station, kind: str, opened: str, due: date, done: str | None = None, score: int | None = None,
           followed_up: str | None = None) -> int:
    """A ticket opened, and perhaps done and followed up, at these station times."""
    database = station.database("desk")
    with database.transaction() as session:
        ticket = tickets.create_ticket(session, {"type": kind, "summary": "统计 Numbers", "resident": RESIDENT},
                                       "staff-wang", "staff:staff-wang", WorkingCalendar(), date.today())
        ticket_id = ticket.id
        for step in STEPS_TO_DONE if done else ():
            tickets.transition(session, ticket_id, step, "staff-wang")
        if score:
            tickets.record_follow_up(session, ticket_id, score, None, "staff-wang")
    with database.transaction() as session:
        session.execute(update(Ticket).where(Ticket.id == ticket_id).values(created_at=at(opened), due_date=due))
        events = update(TicketEvent).where(TicketEvent.ticket_id == ticket_id)
        session.execute(events.where(TicketEvent.kind.in_(("created", "transition"))).values(at=at(opened)))
        if done:
            session.execute(events.where(TicketEvent.to_status == "done").values(at=at(done)))
        if score:
            session.execute(events.where(TicketEvent.kind == "follow_up").values(at=at(followed_up or done)))
    return ticket_id


def statistics(station, month, role="admin"):
    return station.client("desk").get(f"/statistics?month={month}", headers=auth(role))


def by_type(answer):
    return {e["type"]: {k: e[k] for k in ("opened", "done", "overdue", "average_days_to_done")}
            for e in answer.json["errands"]}


def test_a_month_of_errands_is_counted_by_type_with_the_follow_up_scores(station):
    errand(station, "pension_insurance", "2026-03-02 10:00", date(2026, 3, 9), done="2026-03-04 10:00", score=5)
    errand(station, "pension_insurance", "2026-03-03 10:00", date(2026, 3, 10), done="2026-03-12 10:00", score=3)
    errand(station, "elderly_subsidy", "2026-03-05 09:00", date(2026, 3, 10))  # still open, long past its date
    errand(station, "consultation", "2026-03-20 15:00", NOT_DUE_YET)
    # Done in March but opened in February: March's done, February's opened.
    errand(station, "consultation", "2026-02-26 10:00", date(2026, 3, 3), done="2026-03-02 10:00", score=4,
           followed_up="2026-04-01 09:00")

    answer = statistics(station, "2026-03")
    assert answer.status_code == 200, answer.json
    counts = by_type(answer)
    assert counts["pension_insurance"] == {"opened": 2, "done": 2, "overdue": 1, "average_days_to_done": 5.5}
    assert counts["elderly_subsidy"] == {"opened": 1, "done": 0, "overdue": 1, "average_days_to_done": None}
    assert counts["consultation"] == {"opened": 1, "done": 1, "overdue": 0, "average_days_to_done": 4.0}
    assert counts["medical_insurance"] == {"opened": 0, "done": 0, "overdue": 0, "average_days_to_done": None}
    assert answer.json["totals"] == {"opened": 4, "done": 3, "overdue": 2, "average_days_to_done": 5.0}
    names = {e["type"]: e["name_zh"] for e in answer.json["errands"]}
    assert names["elderly_subsidy"] == "高龄老人补贴"
    follow_up = answer.json["follow_up"]
    assert follow_up["count"] == 2 and follow_up["average"] == 4.0
    assert follow_up["distribution"] == [{"score": 1, "count": 0}, {"score": 2, "count": 0}, {"score": 3, "count": 1},
                                         {"score": 4, "count": 0}, {"score": 5, "count": 1}]
    april = statistics(station, "2026-04").json
    assert april["follow_up"]["count"] == 1 and april["follow_up"]["average"] == 4.0
    assert by_type(statistics(station, "2026-02"))["consultation"]["opened"] == 1


def test_the_month_begins_at_midnight_station_time_not_utc(station):
    # 00:30 on 1 June in Haikou is 31 May in UTC: June's errand. 23:30 on 31 May is May's.
    errand(station, "medical_insurance", "2026-06-01 00:30", NOT_DUE_YET)
    errand(station, "medical_insurance", "2026-05-31 23:30", NOT_DUE_YET)
    assert by_type(statistics(station, "2026-06"))["medical_insurance"]["opened"] == 1
    assert by_type(statistics(station, "2026-05"))["medical_insurance"]["opened"] == 1


def test_a_ticket_closed_on_its_due_date_in_station_time_is_not_overdue(station):
    # Done at 23:00 station time on the due date: 15:00 UTC that day, on time whichever clock reads it.
    errand(station, "party_membership_transfer", "2026-07-01 09:00", date(2026, 7, 8), done="2026-07-08 23:00")
    # Done at 00:30 the day after (16:30 UTC on the due date itself): late.
    errand(station, "party_membership_transfer", "2026-07-02 09:00", date(2026, 7, 8), done="2026-07-09 00:30")
    assert by_type(statistics(station, "2026-07"))["party_membership_transfer"]["overdue"] == 1


def test_an_empty_month_lists_each_errand_type_with_nothing(station):
    answer = statistics(station, "2031-07", role="system")
    assert answer.status_code == 200
    assert len(answer.json["errands"]) == 5 and answer.json["follow_up"]["count"] == 0
    assert answer.json["follow_up"]["average"] is None


@pytest.mark.parametrize("month", ["2026-00", "2026-7", "july", "", "2026/07"])
def test_a_malformed_month_is_refused_naming_the_field(station, month):
    answer = statistics(station, month)
    assert answer.status_code == 422 and "month" in str(answer.json["error"]["fields"])


@pytest.mark.parametrize("role", ["resident", "org", "staff"])
def test_only_admins_and_other_systems_see_the_numbers(station, role):
    answer = station.client("desk").get("/statistics?month=2026-03", headers=auth(role, 1 if role == "org" else None))
    assert answer.status_code == 403


def test_the_statistics_are_in_the_openapi_document(station):
    operation = station.client("desk").get("/openapi.json").json["paths"]["/statistics"]["get"]
    assert any(p["name"] == "month" and p["required"] for p in operation["parameters"])
