"""Helpers for the booking rules: call the domain with a chosen clock."""

from datetime import datetime, timedelta

import pytest

from services.booking.domain.requests import request_booking
from sqlalchemy import delete, select

from services.booking.models import Booking, BookingStatusChange, CreditEvent, Organization
from services.booking.policy import BookingPolicy
from shared.timefmt import STATION_TZ
from shared.working_days import WorkingCalendar


def station_time(text: str) -> datetime:
    """`"2026-09-18 10:00"` in Asia/Shanghai."""
    return datetime.strptime(text, "%Y-%m-%d %H:%M").replace(tzinfo=STATION_TZ)


class BookingDesk:
    """The booking domain over the station's database, with the clock in the test's hands."""

    def __init__(self, station, policy=None):
        self.station = station
        self.database = station.database("booking")
        self.policy = policy or BookingPolicy()
        self.calendar = WorkingCalendar()

    def request(self, now: str, start: str, hours: float = 2, **overrides):
        begin = station_time(start)
        data = {"venue_id": 3, "organization_id": self.organization_id, "start": begin,
                "end": begin + timedelta(hours=hours), "title": "议事会 Residents' council", "attendees": 10,
                "contact": {"name": "林海燕", "phone": "13800000001", "email": None}, "recurrence": None,
                "skip_conflicts": False, **overrides}
        with self.database.transaction() as session:
            return request_booking(session, data, "test", "test", self.policy, self.calendar, station_time(now))

    def new_organization(self, name: str) -> int:
        with self.database.transaction() as session:
            organization = Organization(name=name, kind="social_group", contact_name="符",
                                        contact_phone="13800000099", contact_email="org@example.org")
            session.add(organization)
            session.flush()
            self.organization_id = organization.id
            return organization.id


    def forget_bookings(self) -> None:
        """Free the organisation's slots again, so the next test may book the same times."""
        with self.database.transaction() as session:
            ids = select(Booking.id).where(Booking.organization_id == self.organization_id)
            session.execute(delete(BookingStatusChange).where(BookingStatusChange.booking_id.in_(ids)))
            session.execute(delete(CreditEvent).where(CreditEvent.organization_id == self.organization_id))
            session.execute(delete(Booking).where(Booking.organization_id == self.organization_id))


@pytest.fixture
def desk(station, request):
    """A BookingDesk acting for a new organisation of its own, so tests never share a quota or a ledger."""
    desk = BookingDesk(station)
    desk.new_organization(f"测试组织 {request.node.name}"[:200])
    yield desk
    desk.forget_bookings()
