"""What the booking service tells people, always through notify.send_message in the outbox.

A booking's contact is whatever the booker typed, so a message to anyone but the
organisation's registered contact carries `on_behalf_of: org:<id>`: notify caps what
one organisation can make the station send to one such recipient (issue 11 §4).
"""

import logging

from shared import contracts
from shared.outbox import enqueue
from shared.timefmt import local_text

log = logging.getLogger(__name__)


def _normal(channel: str, recipient: str | None) -> str | None:
    """The recipient in notify's normal form, or None when notify could never send to it."""
    try:
        return contracts.message_recipient(channel, recipient) if recipient else None
    except ValueError:
        return None


def _send(session, key: str, channel: str, recipient: str, template: str, params: dict,
          on_behalf_of: str | None = None) -> None:
    normal = _normal(channel, recipient)
    if normal is None:
        # Contacts were checked more loosely than notify checks recipients: skip the message, keep the booking.
        log.warning("no %s for %s: %r is not a recipient notify accepts", channel, key, recipient)
        return
    enqueue(session, contracts.SEND_MESSAGE, {
        "v": contracts.CONTRACT_VERSION, "idempotency_key": f"{key}:{channel}", "channel": channel,
        "recipient": normal, "template": template, "params": params, "locale": "zh-CN",
        "on_behalf_of": on_behalf_of,
    })


def _on_behalf_of(organization, channel: str, recipient: str) -> str | None:
    registered = organization.contact_phone if channel == "sms" else organization.contact_email
    if _normal(channel, recipient) == _normal(channel, registered):
        return None
    return f"org:{organization.id}"


def notify_booker(session, booking, template: str, **extra) -> None:
    """One SMS to the booking's contact, and an e-mail where an address was given."""
    params = {"title": booking.title, "venue": booking.venue.name_zh, "start": local_text(booking.start),
              "booking_id": str(booking.id), **extra}
    key = f"booking:{booking.id}:{template}"
    _send(session, key, "sms", booking.contact_phone, template, params,
          _on_behalf_of(booking.organization, "sms", booking.contact_phone))
    if booking.contact_email:
        _send(session, key, "email", booking.contact_email, template, params,
              _on_behalf_of(booking.organization, "email", booking.contact_email))


def notify_organization(session, organization, template: str, key: str, **params) -> None:
    """Tell an organisation's registered contact about its standing (warnings, suspension)."""
    params = {"organization": organization.name, **params}
    key = f"organization:{organization.id}:{key}"
    _send(session, key, "sms", organization.contact_phone, template, params)
    if organization.contact_email:
        _send(session, key, "email", organization.contact_email, template, params)
