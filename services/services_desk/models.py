"""The desk's tables: review cases for bookings, errand tickets."""

from datetime import datetime

from sqlalchemy import JSON, String, Text
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from shared.db import UTCDateTime, infrastructure_for, utcnow


class Base(DeclarativeBase):
    pass


INFRASTRUCTURE = infrastructure_for(Base)


class ReviewCase(Base):
    """One booking request (or recurring series) waiting for, or given, a staff decision.

    What staff need to decide is copied from the task payload: the desk never
    reads the booking database.
    """

    __tablename__ = "review_cases"
    id: Mapped[int] = mapped_column(primary_key=True)
    booking_id: Mapped[int] = mapped_column(unique=True)
    idempotency_key: Mapped[str] = mapped_column(String(200), unique=True)
    status: Mapped[str] = mapped_column(String(20), index=True)  # open | approved | rejected | withdrawn
    venue: Mapped[dict] = mapped_column(JSON)
    organization: Mapped[dict] = mapped_column(JSON)
    start: Mapped[datetime] = mapped_column(UTCDateTime)
    end: Mapped[datetime] = mapped_column(UTCDateTime)
    title: Mapped[str] = mapped_column(String(200))
    attendees: Mapped[int]
    contact: Mapped[dict] = mapped_column(JSON)
    # A recurring request: {"id": ..., "occurrences": [{"booking_id", "start", "end"}, ...]}.
    series: Mapped[dict | None] = mapped_column(JSON)
    opened_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    decided_by: Mapped[str | None] = mapped_column(String(100))
    reason: Mapped[str | None] = mapped_column(Text)


class Ticket(Base):
    """An errand a resident left at the counter (代办)."""

    __tablename__ = "tickets"
    id: Mapped[int] = mapped_column(primary_key=True)
    idempotency_key: Mapped[str | None] = mapped_column(String(200), unique=True)
    type: Mapped[str] = mapped_column(String(50))
    resident: Mapped[dict] = mapped_column(JSON)
    summary: Mapped[str] = mapped_column(String(200))
    details: Mapped[str] = mapped_column(Text, default="")
    status: Mapped[str] = mapped_column(String(30), index=True)
    created_by: Mapped[str] = mapped_column(String(100))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
