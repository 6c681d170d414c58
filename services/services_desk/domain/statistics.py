"""The desk's side of the station's numbers for one month (issue 13): errands by type (opened,
done, overdue, average days to done) and the residents' follow-up scores.

Months are station time (+08:00). Opened: created in the month. Done: moved to done in the month,
with the days from opening to done. Overdue: opened in the month and past the due date, either
closed after it or still open after it (`today`). Follow-up: tickets whose first follow-up was
in the month, by their score. Each is one aggregate grouped in the database.
"""

from datetime import date

from sqlalchemy import and_, func, or_, select

from services.services_desk.domain.tickets import DONE, FINAL
from services.services_desk.models import Ticket, TicketEvent, TicketType
from shared.sql_time import count_where, hours_between, station_date
from shared.station_month import StationMonth

SCORES = range(1, 6)  # the follow-up asks 1 to 5 (schemas.FollowUpSchema)


def first_event_at(*conditions):
    """Each ticket's first event matching the conditions, as (ticket_id, at)."""
    return (select(TicketEvent.ticket_id, func.min(TicketEvent.at).label("at"))
            .where(*conditions).group_by(TicketEvent.ticket_id).subquery())


def in_month(column, month: StationMonth):
    return and_(column >= month.start, column < month.end)


def opened_and_overdue(session, month: StationMonth, today: date) -> dict:
    closed = first_event_at(TicketEvent.kind == "transition", TicketEvent.to_status.in_(FINAL))
    overdue = or_(and_(closed.c.at.is_(None), Ticket.due_date < today),
                  and_(closed.c.at.is_not(None), station_date(closed.c.at) > Ticket.due_date))
    rows = session.execute(select(Ticket.type_code, func.count(Ticket.id), count_where(overdue))
                           .outerjoin(closed, closed.c.ticket_id == Ticket.id)
                           .where(in_month(Ticket.created_at, month)).group_by(Ticket.type_code)).all()
    return {code: (opened, int(late)) for code, opened, late in rows}


def done_with_days(session, month: StationMonth) -> dict:
    rows = session.execute(select(Ticket.type_code, func.count(TicketEvent.id),
                                  func.avg(hours_between(Ticket.created_at, TicketEvent.at)))
                           .join(Ticket, TicketEvent.ticket_id == Ticket.id)
                           .where(TicketEvent.kind == "transition", TicketEvent.to_status == DONE,
                                  in_month(TicketEvent.at, month)).group_by(Ticket.type_code)).all()
    return {code: (done, float(hours) / 24) for code, done, hours in rows}


def follow_up_scores(session, month: StationMonth) -> dict:
    first = first_event_at(TicketEvent.kind == "follow_up")
    rows = dict(session.execute(select(Ticket.satisfaction, func.count(Ticket.id))
                                .join(first, first.c.ticket_id == Ticket.id)
                                .where(in_month(first.c.at, month), Ticket.satisfaction.is_not(None))
                                .group_by(Ticket.satisfaction)).all())
    count = sum(rows.values())
    average = sum(score * n for score, n in rows.items()) / count if count else None
    return {"count": count, "average": None if average is None else round(average, 2),
            "distribution": [{"score": score, "count": rows.get(score, 0)} for score in SCORES]}


def month_statistics(session, month: StationMonth, today: date) -> dict:
    opened, done = opened_and_overdue(session, month, today), done_with_days(session, month)
    errands = []
    for ticket_type in session.scalars(select(TicketType).order_by(TicketType.code)):
        opened_count, overdue = opened.get(ticket_type.code, (0, 0))
        done_count, days = done.get(ticket_type.code, (0, None))
        if ticket_type.active or opened_count or done_count:
            errands.append({"type": ticket_type.code, "name_zh": ticket_type.name_zh, "name_en": ticket_type.name_en,
                            "opened": opened_count, "done": done_count, "overdue": overdue,
                            "average_days_to_done": None if days is None else round(days, 1)})
    done_total = sum(done_count for done_count, _ in done.values())
    totals = {"opened": sum(e["opened"] for e in errands), "done": done_total,
              "overdue": sum(e["overdue"] for e in errands),
              "average_days_to_done": round(sum(n * days for n, days in done.values()) / done_total, 1)
              if done_total else None}
    return {"month": month, "start": month.start, "end": month.end, "errands": errands, "totals": totals,
            "follow_up": follow_up_scores(session, month)}
