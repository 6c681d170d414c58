"""Load the station's errand types (idempotent: an admin's later changes are kept)."""

from services.services_desk.models import TicketType
from services.services_desk.seed_data import TICKET_TYPES


def seed(session) -> dict:
    added = 0
    for data in TICKET_TYPES:
        if session.get(TicketType, data["code"]) is None:
            session.add(TicketType(**data))
            added += 1
    return {"ticket types added": added}
