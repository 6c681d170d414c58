"""The booking service's tables: venues, organisations, bookings and their history."""

from datetime import datetime

from sqlalchemy import JSON, ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

from shared.db import UTCDateTime, infrastructure_for, utcnow


class Base(DeclarativeBase):
    pass


INFRASTRUCTURE = infrastructure_for(Base)


class Venue(Base):
    __tablename__ = "venues"
    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(50), unique=True)
    name_zh: Mapped[str] = mapped_column(String(100))
    name_en: Mapped[str] = mapped_column(String(100))
    location: Mapped[str] = mapped_column(String(10))  # indoor | square
    area_m2: Mapped[int]
    capacity: Mapped[int]
    bookable: Mapped[bool]
    # {"0": [["08:30", "21:00"]], ...}: Monday is "0", as Python's weekday().
    opening_hours: Mapped[dict] = mapped_column(JSON)
    min_minutes: Mapped[int]
    max_minutes: Mapped[int]
    description_zh: Mapped[str] = mapped_column(Text, default="")
    description_en: Mapped[str] = mapped_column(Text, default="")


class Organization(Base):
    __tablename__ = "organizations"
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200), unique=True)
    name_en: Mapped[str] = mapped_column(String(200), default="")
    kind: Mapped[str] = mapped_column(String(20))  # party_org | social_group | unit
    contact_name: Mapped[str] = mapped_column(String(100))
    contact_phone: Mapped[str] = mapped_column(String(30))
    contact_email: Mapped[str | None] = mapped_column(String(254))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # Score and suspension are derived from the ledger: domain/integrity.py.


class OrganizationContactPhone(Base):
    """A further mobile that signs in to the portal as the organisation's contact (issue 12), added by staff.
    One phone belongs to one organisation: the sign-in must know which one it speaks for."""

    __tablename__ = "organization_contact_phones"
    id: Mapped[int] = mapped_column(primary_key=True)
    organization_id: Mapped[int] = mapped_column(ForeignKey("organizations.id"), index=True)
    phone: Mapped[str] = mapped_column(String(20), unique=True)  # E.164, +86…
    created_by: Mapped[str] = mapped_column(String(100))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class Booking(Base):
    """One occurrence at one venue. On PostgreSQL the migration adds an exclusion
    constraint so that no two holding bookings of a venue overlap (0002)."""

    __tablename__ = "bookings"
    # A venue's bookings by time: what is busy on a day, and conflicts (venue_times.holding_bookings).
    # An organisation's bookings by time: its monthly quota (requests.py).
    # A client's idempotency key means something only with who sent it (requests.py): one per owner.
    __table_args__ = (
        UniqueConstraint("idempotency_owner", "idempotency_key", name="uq_bookings_idempotency_owner_key"),
        Index("ix_bookings_venue_id_start", "venue_id", "start"),
        Index("ix_bookings_organization_id_start", "organization_id", "start"),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    venue_id: Mapped[int] = mapped_column(ForeignKey("venues.id"))
    organization_id: Mapped[int] = mapped_column(ForeignKey("organizations.id"))
    start: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    end: Mapped[datetime] = mapped_column(UTCDateTime)
    title: Mapped[str] = mapped_column(String(200))
    attendees: Mapped[int]
    contact_name: Mapped[str] = mapped_column(String(100))
    contact_phone: Mapped[str] = mapped_column(String(30))
    contact_email: Mapped[str | None] = mapped_column(String(254))
    status: Mapped[str] = mapped_column(String(20), index=True)
    idempotency_key: Mapped[str | None] = mapped_column(String(200))
    # Who sent the key: "org:3", "staff:<sub>", "system:<sub>" over HTTP, "task:org:3" by task.
    idempotency_owner: Mapped[str | None] = mapped_column(String(120))
    # Occurrences of one recurring request share a series id and one review.
    series_id: Mapped[str | None] = mapped_column(String(36), index=True)
    review_reason: Mapped[str | None] = mapped_column(Text)
    checked_in_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    reminder_queued_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_by: Mapped[str] = mapped_column(String(100))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    venue: Mapped[Venue] = relationship(lazy="joined")
    organization: Mapped[Organization] = relationship(lazy="joined")
    history: Mapped[list["BookingStatusChange"]] = relationship(
        order_by="BookingStatusChange.id", back_populates="booking")


class BookingStatusChange(Base):
    __tablename__ = "booking_status_changes"
    id: Mapped[int] = mapped_column(primary_key=True)
    booking_id: Mapped[int] = mapped_column(ForeignKey("bookings.id"), index=True)
    from_status: Mapped[str | None] = mapped_column(String(20))
    to_status: Mapped[str] = mapped_column(String(20))
    actor: Mapped[str] = mapped_column(String(100))
    reason: Mapped[str | None] = mapped_column(Text)
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    booking: Mapped[Booking] = relationship(back_populates="history")


class CreditEvent(Base):
    """The integrity ledger: append-only; an organisation's score is the sum."""

    __tablename__ = "credit_events"
    id: Mapped[int] = mapped_column(primary_key=True)
    organization_id: Mapped[int] = mapped_column(ForeignKey("organizations.id"), index=True)
    # late_cancellation | no_show | recovery | suspension | adjustment | suspension_lifted
    kind: Mapped[str] = mapped_column(String(30))
    points: Mapped[int] = mapped_column(default=0)
    booking_id: Mapped[int | None] = mapped_column(ForeignKey("bookings.id"))
    suspended_until: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # For a monthly recovery: the month it rewards ("2026-11"), so a sweep never pays twice.
    period: Mapped[str | None] = mapped_column(String(7))
    note: Mapped[str] = mapped_column(Text, default="")
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
    # Who made a staff change (an adjustment, a lifted suspension): the token's subject; None for the rules' own events.
    recorded_by: Mapped[str | None] = mapped_column(String(100))


class RequestOutcome(Base):
    """What became of a booking.request_booking task, found by the organisation it named and its key.
    No foreign key on the organisation: a request naming an unknown one is refused, and that is kept too."""

    __tablename__ = "request_outcomes"
    organization_id: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    idempotency_key: Mapped[str] = mapped_column(String(200), primary_key=True)
    status: Mapped[str] = mapped_column(String(10))  # statuses.OUTCOME_ACCEPTED | OUTCOME_REFUSED
    booking_id: Mapped[int | None] = mapped_column(ForeignKey("bookings.id"))
    reason: Mapped[str | None] = mapped_column(Text)
    fields: Mapped[dict] = mapped_column(JSON, default=dict)
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
