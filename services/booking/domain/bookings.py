"""Booking requests and review decisions.

`POST /bookings` and the `booking.request_booking` task both call
`request_booking`; the desk's decision arrives as `apply_review_decision`.
"""

from sqlalchemy import select

from services.booking.models import Booking, BookingStatusChange, Organization, Venue
from shared import contracts
from shared.errors import Conflict, NotFound, Refused
from shared.outbox import enqueue
from shared.timefmt import local_text

PENDING_REVIEW = "pending_review"
APPROVED = "approved"
REJECTED = "rejected"
CANCELLED = "cancelled"
CHECKED_IN = "checked_in"
NO_SHOW = "no_show"
COMPLETED = "completed"
HOLDING_STATUSES = (PENDING_REVIEW, APPROVED)


def request_booking(session, data: dict, actor: str) -> Booking:
    """Store a booking request as pending review and send it to the desk."""
    key = data.get("idempotency_key")
    if key:
        existing = session.scalar(select(Booking).where(Booking.idempotency_key == key))
        if existing is not None:
            return existing
    venue = _bookable_venue(session, data["venue_id"])
    organization = session.get(Organization, data["organization_id"])
    if organization is None:
        raise Refused("没有这个组织 No such organisation.", {"organization_id": ["unknown organisation"]})
    _check_times_and_size(venue, data)
    _refuse_overlap(session, venue, data["start"], data["end"])
    contact = data["contact"]
    booking = Booking(
        venue=venue, organization=organization, start=data["start"], end=data["end"],
        title=data["title"], attendees=data["attendees"], contact_name=contact["name"],
        contact_phone=contact["phone"], contact_email=contact.get("email"),
        status=PENDING_REVIEW, idempotency_key=key, created_by=actor,
    )
    session.add(booking)
    _record_status(session, booking, None, PENDING_REVIEW, actor, "request received")
    session.flush()
    enqueue(session, contracts.REVIEW_BOOKING, review_request_payload(booking))
    notify_booker(session, booking, "booking_received")
    return booking


def _bookable_venue(session, venue_id: int) -> Venue:
    venue = session.get(Venue, venue_id)
    if venue is None:
        raise Refused("没有这个场地 No such venue.", {"venue_id": ["unknown venue"]})
    if not venue.bookable:
        raise Refused(f"{venue.name_zh}不接受预约 {venue.name_en} cannot be booked.",
                      {"venue_id": ["this venue is not bookable"]})
    return venue


def _check_times_and_size(venue: Venue, data: dict) -> None:
    if data["end"] <= data["start"]:
        raise Refused("结束时间须晚于开始时间 The end must be after the start.", {"end": ["must be after start"]})
    if data["attendees"] > venue.capacity:
        raise Refused(f"{venue.name_zh}最多容纳{venue.capacity}人 At most {venue.capacity} people fit in {venue.name_en}.",
                      {"attendees": [f"over the capacity of {venue.capacity}"]})


def _refuse_overlap(session, venue: Venue, start, end) -> None:
    clash = session.scalar(select(Booking.id).where(
        Booking.venue_id == venue.id, Booking.status.in_(HOLDING_STATUSES),
        Booking.start < end, Booking.end > start,
    ).limit(1))
    if clash is not None:
        raise Conflict(f"该时段已被预约 {venue.name_en} is already booked at that time.",
                       {"start": [f"overlaps booking {clash}"]})


def review_request_payload(booking: Booking) -> dict:
    return {
        "v": contracts.CONTRACT_VERSION,
        "idempotency_key": f"booking:{booking.id}:review",
        "booking_id": booking.id,
        "venue": {"id": booking.venue.id, "code": booking.venue.code, "name": booking.venue.name_zh},
        "organization": {"id": booking.organization.id, "name": booking.organization.name,
                         "credit_score": booking.organization.credit_score},
        "start": booking.start.isoformat(),
        "end": booking.end.isoformat(),
        "title": booking.title,
        "attendees": booking.attendees,
        "contact": {"name": booking.contact_name, "phone": booking.contact_phone, "email": booking.contact_email},
    }


def apply_review_decision(session, data: dict) -> Booking:
    """Approve or reject a pending booking as the desk decided; tell the booker."""
    booking = session.get(Booking, data["booking_id"], with_for_update={"of": Booking})
    if booking is None:
        raise NotFound(f"no booking {data['booking_id']}")
    if booking.status != PENDING_REVIEW:
        # A decision on a booking cancelled meanwhile, or a repeat: nothing to do.
        return booking
    new_status = APPROVED if data["decision"] == "approve" else REJECTED
    booking.status = new_status
    booking.review_reason = data.get("reason")
    _record_status(session, booking, PENDING_REVIEW, new_status, data["decided_by"], data.get("reason"))
    notify_booker(session, booking, f"booking_{new_status}", reason=data.get("reason") or "")
    return booking


def _record_status(session, booking, from_status, to_status, actor, reason) -> None:
    session.add(BookingStatusChange(booking=booking, from_status=from_status, to_status=to_status,
                                    actor=actor, reason=reason))


def notify_booker(session, booking: Booking, template: str, **extra) -> None:
    """One SMS to the contact's phone, and an e-mail where an address was given."""
    params = {"title": booking.title, "venue": booking.venue.name_zh, "start": local_text(booking.start),
              "booking_id": str(booking.id), **extra}
    recipients = [("sms", booking.contact_phone)]
    if booking.contact_email:
        recipients.append(("email", booking.contact_email))
    for channel, recipient in recipients:
        enqueue(session, contracts.SEND_MESSAGE, {
            "v": contracts.CONTRACT_VERSION,
            "idempotency_key": f"booking:{booking.id}:{template}:{channel}",
            "channel": channel, "recipient": recipient, "template": template,
            "params": params, "locale": "zh-CN",
        })


def get_booking(session, booking_id: int) -> Booking:
    booking = session.get(Booking, booking_id)
    if booking is None:
        raise NotFound(f"没有这个预约 No booking {booking_id}.")
    return booking
