"""The staff's daily digest e-mail: open and overdue reviews, tickets due soon or overdue."""

from datetime import datetime

from sqlalchemy import select

from services.services_desk.domain.reviews import OPEN, is_overdue
from services.services_desk.domain.tickets import FINAL, deadline_flag
from services.services_desk.models import ReviewCase, Ticket
from shared import contracts
from shared.outbox import enqueue
from shared.timefmt import local_text, to_station_time


def digest_lines(session, calendar, today) -> dict:
    reviews = session.scalars(select(ReviewCase).where(ReviewCase.status == OPEN).order_by(ReviewCase.opened_at)).all()
    tickets = session.scalars(select(Ticket).where(Ticket.status.not_in(FINAL)).order_by(Ticket.due_date)).all()
    overdue_reviews = [r for r in reviews if is_overdue(r, calendar, today)]
    flagged = [(t, deadline_flag(t, calendar, today)) for t in tickets]
    flagged = [(t, f) for t, f in flagged if f]
    lines = [f"审核 review {r.id}: {r.venue['name']} {local_text(r.start)} {r.organization['name']}"
             + (" [逾期 overdue]" if r in overdue_reviews else "") for r in reviews]
    lines += [f"工单 ticket {t.id}: {t.type.name_zh} 截止 due {t.due_date.isoformat()} "
              f"[{'逾期 overdue' if f == 'overdue' else '即将到期 due soon'}]" for t, f in flagged]
    return {"date": today.isoformat(), "open_reviews": str(len(reviews)), "overdue_reviews": str(len(overdue_reviews)),
            "open_tickets": str(len(tickets)), "flagged_tickets": str(len(flagged)),
            "details": "\n".join(lines) or "无 none"}


def queue_staff_digest(session, recipients, calendar, now: datetime) -> int:
    """One e-mail per staff address per day (the idempotency key holds the date)."""
    today = to_station_time(now).date()
    params = digest_lines(session, calendar, today)
    for recipient in recipients:
        enqueue(session, contracts.SEND_MESSAGE, {
            "v": contracts.CONTRACT_VERSION, "idempotency_key": f"digest:{today.isoformat()}:{recipient}",
            "channel": "email", "recipient": recipient, "template": "staff_digest", "params": params,
            "locale": "zh-CN",
        })
    return len(recipients)
