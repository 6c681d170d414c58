"""Errand tickets (代办). `POST /tickets` and `desk.create_ticket` share `create_ticket`."""

from sqlalchemy import select

from services.services_desk.models import Ticket

SUBMITTED = "submitted"


def create_ticket(session, data: dict, actor: str) -> Ticket:
    key = data.get("idempotency_key")
    if key:
        existing = session.scalar(select(Ticket).where(Ticket.idempotency_key == key))
        if existing is not None:
            return existing
    ticket = Ticket(idempotency_key=key, type=data["type"], resident=data["resident"], summary=data["summary"],
                    details=data.get("details", ""), status=SUBMITTED, created_by=actor)
    session.add(ticket)
    session.flush()
    return ticket
