"""What the booking service tells people, always through notify.send_message in the outbox."""

from shared import contracts
from shared.outbox import enqueue
from shared.timefmt import local_text


def _send(session, key: str, channel: str, recipient: str, template: str, params: dict) -> None:
    enqueue(session, contracts.SEND_MESSAGE, {
        "v": contracts.CONTRACT_VERSION, "idempotency_key": f"{key}:{channel}", "channel": channel,
        "recipient": recipient, "template": template, "params": params, "locale": "zh-CN",
    })


def notify_booker(session, booking, template: str, **extra) -> None:
    """One SMS to the booking's contact, and an e-mail where an address was given."""
    params = {"title": booking.title, "venue": booking.venue.name_zh, "start": local_text(booking.start),
              "booking_id": str(booking.id), **extra}
    key = f"booking:{booking.id}:{template}"
    _send(session, key, "sms", booking.contact_phone, template, params)
    if booking.contact_email:
        _send(session, key, "email", booking.contact_email, template, params)


def notify_organization(session, organization, template: str, key: str, **params) -> None:
    """Tell an organisation's registered contact about its standing (warnings, suspension)."""
    params = {"organization": organization.name, **params}
    key = f"organization:{organization.id}:{key}"
    _send(session, key, "sms", organization.contact_phone, template, params)
    if organization.contact_email:
        _send(session, key, "email", organization.contact_email, template, params)
