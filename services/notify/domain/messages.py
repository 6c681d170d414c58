"""Messages: accepted once per idempotency key, delivered while the status allows it.

As GOV.UK Notify does, the worker sends only a message still in the state
that allows sending (`accepted`), so a redelivered task sends nothing twice.
"""

from datetime import timedelta

from sqlalchemy import select

from services.notify.domain.templates import find_template, render
from services.notify.models import Message, MessageStatusChange
from shared import contracts
from shared.db import utcnow
from shared.errors import NotFound
from shared.outbox import enqueue

ACCEPTED, SENDING, SENT, DELIVERED, FAILED, SUPPRESSED = "accepted", "sending", "sent", "delivered", "failed", "suppressed"
FINAL_STATUSES = (DELIVERED, FAILED, SUPPRESSED)
STUCK_AFTER = timedelta(minutes=5)


def accept_message(session, data: dict) -> tuple[Message, bool]:
    """(message, created): the first message for this key, rendered and queued for delivery."""
    existing = session.scalar(select(Message).where(Message.idempotency_key == data["idempotency_key"]))
    if existing is not None:
        return existing, False
    template = find_template(session, data["template"], data.get("locale", "zh-CN"))
    subject, body = render(template, data["channel"], data.get("params", {}))
    message = Message(
        idempotency_key=data["idempotency_key"], channel=data["channel"], recipient=data["recipient"],
        template=data["template"], locale=template.locale, params=data.get("params", {}),
        subject=subject, body=body, urgent=data.get("urgent", False), status=ACCEPTED,
    )
    session.add(message)
    session.flush()
    record_status(session, message, ACCEPTED)
    queue_delivery(session, message)
    return message, True


def queue_delivery(session, message: Message) -> None:
    enqueue(session, contracts.DELIVER_MESSAGE, {"v": contracts.CONTRACT_VERSION, "message_id": message.id})


def record_status(session, message: Message, status: str, detail: str | None = None) -> None:
    message.status = status
    session.add(MessageStatusChange(message_id=message.id, status=status, detail=detail))


def claim_for_sending(session, message_id: int) -> Message | None:
    """Move an accepted message to `sending`; None when it is not ours to send."""
    message = session.get(Message, message_id, with_for_update=True)
    if message is None or message.status != ACCEPTED:
        return None
    message.attempts += 1
    record_status(session, message, SENDING)
    return message


def mark_sent(session, message_id: int, provider: str, reference: str | None) -> None:
    message = session.get(Message, message_id, with_for_update=True)
    message.provider, message.provider_reference = provider, reference
    record_status(session, message, SENT, f"handed to {provider}")


def release_for_retry(session, message_id: int, error: str) -> None:
    message = session.get(Message, message_id, with_for_update=True)
    record_status(session, message, ACCEPTED, f"retrying: {error}"[:500])


def mark_failed(session, message_id: int, error: str) -> None:
    message = session.get(Message, message_id, with_for_update=True)
    record_status(session, message, FAILED, error[:500])


def requeue_stuck(session, now=None) -> int:
    """Queue delivery again for messages left in `accepted` (a lost task, a lost relay)."""
    cutoff = (now or utcnow()) - STUCK_AFTER
    stuck = session.scalars(select(Message).where(Message.status == ACCEPTED, Message.updated_at < cutoff)).all()
    for message in stuck:
        message.updated_at = utcnow()
        queue_delivery(session, message)
    return len(stuck)


def get_message(session, message_id: int) -> Message:
    message = session.get(Message, message_id)
    if message is None:
        raise NotFound(f"没有这条消息 No message {message_id}.")
    return message
