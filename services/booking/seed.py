"""Load the station's own venues and demo organisations (idempotent: run it twice, get one copy)."""

from sqlalchemy import select

from services.booking.models import Organization, Venue
from services.booking.seed_data import DEMO_ORGANIZATIONS, VENUES


def seed(session) -> dict:
    venues = 0
    for data in VENUES:
        venue = session.scalar(select(Venue).where(Venue.code == data["code"])) or Venue(code=data["code"])
        for key, value in data.items():
            setattr(venue, key, value)
        session.add(venue)
        venues += 1
    organizations = 0
    for data in DEMO_ORGANIZATIONS:
        if session.scalar(select(Organization).where(Organization.name == data["name"])) is None:
            contact = data["contact"]
            session.add(Organization(name=data["name"], name_en=data["name_en"], kind=data["kind"],
                                     contact_name=contact["name"], contact_phone=contact["phone"],
                                     contact_email=contact["email"]))
            organizations += 1
    return {"venues": venues, "organizations added": organizations}
