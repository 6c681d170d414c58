"""The notify service's tables: templates, messages and their status history."""

from datetime import datetime

from sqlalchemy import JSON, ForeignKey, String, Text, UniqueConstraint
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

from shared.db import UTCDateTime, infrastructure_for, utcnow


class Base(DeclarativeBase):
    pass


INFRASTRUCTURE = infrastructure_for(Base)


class Template(Base):
    __tablename__ = "templates"
    __table_args__ = (UniqueConstraint("key", "locale"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    key: Mapped[str] = mapped_column(String(100))
    locale: Mapped[str] = mapped_column(String(10))
    sms_body: Mapped[str | None] = mapped_column(Text)
    # Chinese SMS providers send only pre-approved templates, named by their code.
    sms_template_code: Mapped[str | None] = mapped_column(String(50))
    email_subject: Mapped[str | None] = mapped_column(String(200))
    email_body: Mapped[str | None] = mapped_column(Text)
    # HTML for e-mail; when absent the plain text is escaped into paragraphs.
    email_html: Mapped[str | None] = mapped_column(Text)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)


class Message(Base):
    __tablename__ = "messages"
    # A key is the poster's own: another caller's repeat of it is a new message (issue 11 §2).
    __table_args__ = (UniqueConstraint("idempotency_scope", "idempotency_key",
                                       name="uq_messages_idempotency_scope_key"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    # Who posted it: `task` for the notify queue, `<role>:<sub>[:<org_id>]` over HTTP.
    idempotency_scope: Mapped[str] = mapped_column(String(120))
    idempotency_key: Mapped[str] = mapped_column(String(200))
    channel: Mapped[str] = mapped_column(String(10))
    # Normal form only (shared.contracts.message_recipient): E.164 or the address with its domain lower-cased.
    recipient: Mapped[str] = mapped_column(String(254), index=True)
    # `org:<id>` when sent for an organisation to someone not its registered contact: capped per day.
    on_behalf_of: Mapped[str | None] = mapped_column(String(30))
    template: Mapped[str] = mapped_column(String(100))
    locale: Mapped[str] = mapped_column(String(10))
    params: Mapped[dict] = mapped_column(JSON)
    subject: Mapped[str | None] = mapped_column(String(200))
    body: Mapped[str | None] = mapped_column(Text)  # None once purged after the retention period
    html_body: Mapped[str | None] = mapped_column(Text)
    sms_template_code: Mapped[str | None] = mapped_column(String(50))
    segments: Mapped[int | None]
    urgent: Mapped[bool] = mapped_column(default=False)
    # `notice`, or `sign_in`: essential (sent despite an opt-out) and capped apart (docs/tasks.md).
    kind: Mapped[str] = mapped_column(String(20), default="notice", server_default="notice")
    status: Mapped[str] = mapped_column(String(20), index=True)
    status_reason: Mapped[str | None] = mapped_column(Text)
    # Held for quiet hours until then; None: send as soon as possible.
    send_after: Mapped[datetime | None] = mapped_column(UTCDateTime, index=True)
    expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    provider: Mapped[str | None] = mapped_column(String(50))
    provider_reference: Mapped[str | None] = mapped_column(String(200), index=True)
    attempts: Mapped[int] = mapped_column(default=0)
    purged_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)  # set with each status change

    history: Mapped[list["MessageStatusChange"]] = relationship(order_by="MessageStatusChange.id")


class MessageStatusChange(Base):
    __tablename__ = "message_status_changes"
    id: Mapped[int] = mapped_column(primary_key=True)
    message_id: Mapped[int] = mapped_column(ForeignKey("messages.id"), index=True)
    status: Mapped[str] = mapped_column(String(20))
    detail: Mapped[str | None] = mapped_column(Text)
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class OptOut(Base):
    """A recipient who asked to receive nothing more on a channel (退订)."""

    __tablename__ = "opt_outs"
    __table_args__ = (UniqueConstraint("recipient", "channel"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    recipient: Mapped[str] = mapped_column(String(254))
    channel: Mapped[str] = mapped_column(String(10))
    source: Mapped[str] = mapped_column(String(50))  # api | inbound:<provider>
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
