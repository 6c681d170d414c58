"""The desk's tables: review cases for bookings, errand tickets."""

from datetime import date, datetime

from sqlalchemy import JSON, Date, ForeignKey, String, Text, UniqueConstraint
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

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
    # The task carries no token: its key is the organisation's it names (domain/reviews.py).
    __table_args__ = (UniqueConstraint("organization_id", "idempotency_key",
                                       name="uq_review_cases_organization_id_idempotency_key"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    booking_id: Mapped[int] = mapped_column(unique=True)
    organization_id: Mapped[int]
    idempotency_key: Mapped[str] = mapped_column(String(200))
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


class TicketType(Base):
    """An errand the counter does for residents, with what to bring and how long it may take.
    Data, not code: an admin changes it with PUT /ticket-types/{code}."""

    __tablename__ = "ticket_types"
    code: Mapped[str] = mapped_column(String(50), primary_key=True)
    name_zh: Mapped[str] = mapped_column(String(100))
    name_en: Mapped[str] = mapped_column(String(100))
    documents_zh: Mapped[list] = mapped_column(JSON, default=list)
    documents_en: Mapped[list] = mapped_column(JSON, default=list)
    limit_working_days: Mapped[int]
    active: Mapped[bool] = mapped_column(default=True)


class Ticket(Base):
    """An errand a resident left at the counter (代办)."""

    __tablename__ = "tickets"
    # A client's key is unique only among its own requests (domain/tickets.py).
    __table_args__ = (UniqueConstraint("owner", "idempotency_key", name="uq_tickets_owner_idempotency_key"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    idempotency_key: Mapped[str | None] = mapped_column(String(200))
    # Who opened it, whole: "resident:<sub>", "staff:<sub>", or "task" (desk.create_ticket). A resident
    # sees a ticket whose owner is their own identity; created_by keeps the subject for the history.
    owner: Mapped[str] = mapped_column(String(120))
    type_code: Mapped[str] = mapped_column(ForeignKey("ticket_types.code"))
    resident_name: Mapped[str] = mapped_column(String(100))
    resident_phone: Mapped[str] = mapped_column(String(20), index=True)
    resident_email: Mapped[str | None] = mapped_column(String(254))
    resident_id_number: Mapped[str | None] = mapped_column(String(18))
    summary: Mapped[str] = mapped_column(String(200))
    details: Mapped[str] = mapped_column(Text, default="")
    status: Mapped[str] = mapped_column(String(30), index=True)
    assignee: Mapped[str | None] = mapped_column(String(100), index=True)
    missing_documents: Mapped[list] = mapped_column(JSON, default=list)
    rejection_reason: Mapped[str | None] = mapped_column(Text)
    due_date: Mapped[date] = mapped_column(Date, index=True)
    satisfaction: Mapped[int | None]
    follow_up_remark: Mapped[str | None] = mapped_column(Text)
    created_by: Mapped[str] = mapped_column(String(100))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    type: Mapped[TicketType] = relationship(lazy="joined")
    history: Mapped[list["TicketEvent"]] = relationship(order_by="TicketEvent.id", back_populates="ticket")


class TicketEvent(Base):
    """The ticket's history: transitions, assignments, notes, follow-up, and who saw personal data."""

    __tablename__ = "ticket_events"
    id: Mapped[int] = mapped_column(primary_key=True)
    ticket_id: Mapped[int] = mapped_column(ForeignKey("tickets.id"), index=True)
    kind: Mapped[str] = mapped_column(String(30))  # created | transition | assigned | note | follow_up | viewed
    actor: Mapped[str] = mapped_column(String(100))
    from_status: Mapped[str | None] = mapped_column(String(30))
    to_status: Mapped[str | None] = mapped_column(String(30))
    text: Mapped[str | None] = mapped_column(Text)
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    ticket: Mapped[Ticket] = relationship(back_populates="history")
