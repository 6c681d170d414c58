"""Task contracts: one marshmallow schema per task, used by sender and receiver.

Every payload is one JSON object with `"v": 1`. docs/tasks.md documents each
field; a test keeps that document and this module in step.
"""

import functools
import re

import phonenumbers
from marshmallow import RAISE, Schema, ValidationError, fields, validate, validates_schema

CONTRACT_VERSION = 1
# PostgreSQL's integer: no id is larger.
MAX_ID = 2_147_483_647


def Id(strict: bool = True, **kwargs):
    """An id of something in a service's database (strict in JSON; a query string holds text)."""
    return fields.Integer(strict=strict, validate=validate.Range(1, MAX_ID), **kwargs)

REVIEW_BOOKING = "desk.review_booking"
WITHDRAW_REVIEW = "desk.withdraw_review"
CREATE_TICKET = "desk.create_ticket"
APPLY_REVIEW_DECISION = "booking.apply_review_decision"
REQUEST_BOOKING = "booking.request_booking"
SEND_MESSAGE = "notify.send_message"
# Internal to one service, but held to the same rules.
DELIVER_MESSAGE = "notify.deliver_message"
REQUEUE_STUCK_MESSAGES = "notify.requeue_stuck_messages"
SWEEP_ATTENDANCE = "booking.sweep_attendance"
QUEUE_REMINDERS = "booking.queue_reminders"
RECOVER_CREDIT = "booking.recover_credit"
SEND_STAFF_DIGEST = "desk.send_staff_digest"
RELEASE_HELD_MESSAGES = "notify.release_held_messages"
PURGE_MESSAGE_BODIES = "notify.purge_message_bodies"


class Contract(Schema):
    class Meta:
        unknown = RAISE

    v = fields.Integer(required=True, strict=True, validate=validate.Equal(
        CONTRACT_VERSION, error="unsupported contract version; this worker speaks v1"))


class KeyedContract(Contract):
    idempotency_key = fields.String(required=True, validate=validate.Length(1, 200))


class Contact(Schema):
    class Meta:
        unknown = RAISE

    name = fields.String(required=True, validate=validate.Length(1, 100))
    phone = fields.String(required=True, validate=validate.Regexp(r"^\+?[0-9]{6,20}$", error="not a phone number"))
    email = fields.Email(load_default=None, allow_none=True)


class VenueRef(Schema):
    id = Id(required=True)
    code = fields.String(required=True)
    name = fields.String(required=True)


class OrganizationRef(Schema):
    id = Id(required=True)
    name = fields.String(required=True)
    credit_score = fields.Integer(required=True, strict=True)
    recent_violations = fields.Integer(load_default=0, strict=True, validate=validate.Range(min=0))


class Occurrence(Schema):
    booking_id = Id(required=True)
    start = fields.AwareDateTime(required=True)
    end = fields.AwareDateTime(required=True)


class Series(Schema):
    id = fields.String(required=True, validate=validate.Length(1, 36))
    occurrences = fields.List(fields.Nested(Occurrence), required=True, validate=validate.Length(1, 52))


class Recurrence(Schema):
    frequency = fields.String(required=True, validate=validate.OneOf(["weekly", "monthly"]))
    count = fields.Integer(strict=True, validate=validate.Range(1, 52))
    until = fields.Date()

    @validates_schema
    def count_or_until(self, data, **_):
        if ("count" in data) == ("until" in data):
            raise ValidationError("give either count or until", field_name="count")


class ReviewBooking(KeyedContract):
    booking_id = Id(required=True)
    venue = fields.Nested(VenueRef, required=True)
    organization = fields.Nested(OrganizationRef, required=True)
    start = fields.AwareDateTime(required=True)
    end = fields.AwareDateTime(required=True)
    title = fields.String(required=True, validate=validate.Length(1, 200))
    attendees = fields.Integer(required=True, strict=True, validate=validate.Range(min=1))
    contact = fields.Nested(Contact, required=True)
    # A recurring request: every occurrence, reviewed as one case under the first booking's id.
    series = fields.Nested(Series, load_default=None, allow_none=True)


class WithdrawReview(KeyedContract):
    booking_id = Id(required=True)
    reason = fields.String(required=True, validate=validate.Length(1, 500))


class ApplyReviewDecision(KeyedContract):
    booking_id = Id(required=True)
    review_id = Id(required=True)
    decision = fields.String(required=True, validate=validate.OneOf(["approve", "reject"]))
    reason = fields.String(load_default=None, allow_none=True, validate=validate.Length(max=500))
    decided_by = fields.String(required=True, validate=validate.Length(1, 100))

    @validates_schema
    def reason_required_to_reject(self, data, **_):
        if data.get("decision") == "reject" and not (data.get("reason") or "").strip():
            raise ValidationError("a rejection needs a reason", field_name="reason")


class RequestBooking(KeyedContract):
    venue_id = Id(required=True)
    organization_id = Id(required=True)
    start = fields.AwareDateTime(required=True)
    end = fields.AwareDateTime(required=True)
    title = fields.String(required=True, validate=validate.Length(1, 200))
    attendees = fields.Integer(required=True, strict=True, validate=validate.Range(min=1))
    contact = fields.Nested(Contact, required=True)
    recurrence = fields.Nested(Recurrence, load_default=None, allow_none=True)
    skip_conflicts = fields.Boolean(load_default=False)


class Resident(Schema):
    class Meta:
        unknown = RAISE

    name = fields.String(required=True, validate=validate.Length(1, 100))
    phone = fields.String(required=True, validate=validate.Regexp(r"^\+?[0-9]{6,20}$", error="not a phone number"))
    email = fields.Email(load_default=None, allow_none=True)
    id_number = fields.String(load_default=None, allow_none=True, validate=validate.Length(max=30))


class CreateTicket(KeyedContract):
    type = fields.String(required=True, validate=validate.Length(1, 50))
    resident = fields.Nested(Resident, required=True)
    summary = fields.String(required=True, validate=validate.Length(1, 200))
    details = fields.String(load_default="", validate=validate.Length(max=5000))


# An SMS recipient is written with digits, spaces, `+`, `-` and brackets only: phonenumbers
# would otherwise read `137…;137…` as a number with an extension, and `137…,139…` as the first.
PHONE_CHARACTERS = re.compile(r"^[0-9+\-() ]{6,30}$")


@functools.lru_cache(maxsize=4096)
def message_recipient(channel: str, text: str) -> str:
    """The one form notify stores and compares: E.164 for a mobile (`+8613700000625`), and an
    e-mail address trimmed with its domain lower-cased; ValueError unless it is one such recipient.

    An address's local part keeps its case: only the receiving host may interpret it (RFC 5321 §2.4).
    Remembered per process (a refusal is not): a booking asks it of the same numbers several times,
    and parsing a number is a tenth of a millisecond (issue 14)."""
    text = text.strip()
    if channel == "sms":
        if not PHONE_CHARACTERS.match(text):
            raise ValueError("不是一个手机号 not one mobile number")
        try:
            number = phonenumbers.parse(text, "CN")
        except phonenumbers.NumberParseException:
            raise ValueError("不是一个手机号 not one mobile number") from None
        mobile = (phonenumbers.PhoneNumberType.MOBILE, phonenumbers.PhoneNumberType.FIXED_LINE_OR_MOBILE)
        if not phonenumbers.is_valid_number(number) or phonenumbers.number_type(number) not in mobile:
            raise ValueError("不是有效的手机号 not a valid mobile number")
        return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)
    try:
        validate.Email()(text)
    except ValidationError:
        raise ValueError("不是一个电子邮件地址 not one e-mail address") from None
    local, _, domain = text.rpartition("@")
    return f"{local}@{domain.lower()}"


class SendMessage(KeyedContract):
    channel = fields.String(required=True, validate=validate.OneOf(["sms", "email"]))
    recipient = fields.String(required=True, validate=validate.Length(1, 254))
    # Set by a service sending for an organisation to someone not its registered contact
    # (`org:<id>`): notify caps what one organisation makes the station send to one recipient.
    on_behalf_of = fields.String(load_default=None, allow_none=True,
                                 validate=validate.Regexp(r"^org:[1-9][0-9]{0,9}$", error="org:<id>"))
    template = fields.String(required=True, validate=validate.Length(1, 100))
    params = fields.Dict(keys=fields.String(), load_default=dict)
    locale = fields.String(load_default="zh-CN", validate=validate.OneOf(["zh-CN", "en"]))
    urgent = fields.Boolean(load_default=False)
    # `sign_in`: a code the recipient asked for this minute (essential, docs/tasks.md). Notify sends it
    # despite an SMS opt-out and counts it under its own daily cap, not the one notices share.
    kind = fields.String(load_default="notice", validate=validate.OneOf(["notice", "sign_in"]))
    # After this moment the message is pointless: not sent, and not held past it for quiet hours.
    expires_at = fields.AwareDateTime(load_default=None, allow_none=True)

    @validates_schema
    def one_recipient_for_its_channel(self, data, **_):
        if data.get("channel") in ("sms", "email") and "recipient" in data:
            try:
                message_recipient(data["channel"], data["recipient"])
            except ValueError as exc:
                raise ValidationError(str(exc), field_name="recipient") from None


class DeliverMessage(Contract):
    message_id = Id(required=True)


class Sweep(Contract):
    """A periodic task's payload: nothing but the version."""


CONTRACTS = {
    REVIEW_BOOKING: ReviewBooking,
    WITHDRAW_REVIEW: WithdrawReview,
    CREATE_TICKET: CreateTicket,
    APPLY_REVIEW_DECISION: ApplyReviewDecision,
    REQUEST_BOOKING: RequestBooking,
    SEND_MESSAGE: SendMessage,
    DELIVER_MESSAGE: DeliverMessage,
    REQUEUE_STUCK_MESSAGES: Sweep,
    SWEEP_ATTENDANCE: Sweep,
    QUEUE_REMINDERS: Sweep,
    RECOVER_CREDIT: Sweep,
    SEND_STAFF_DIGEST: Sweep,
    RELEASE_HELD_MESSAGES: Sweep,
    PURGE_MESSAGE_BODIES: Sweep,
}
PUBLIC_TASKS = (REVIEW_BOOKING, APPLY_REVIEW_DECISION, SEND_MESSAGE, WITHDRAW_REVIEW, CREATE_TICKET, REQUEST_BOOKING)


class ContractError(ValueError):
    """A payload that does not match its task's contract."""

    def __init__(self, task_name: str, messages):
        self.task_name = task_name
        self.messages = messages
        super().__init__(f"{task_name}: {messages}")


# No body or payload of ours nests deeper than a few levels; a deeper one is refused before
# anything recurses over it (json.loads itself stops near 1000 with a RecursionError).
MAX_JSON_DEPTH = 32


def storable_text(text: str) -> bool:
    """Text a database column can hold: PostgreSQL refuses NUL, and no driver can encode
    a lone UTF-16 surrogate (`"\\ud800"` in JSON) as UTF-8."""
    if "\x00" in text:
        return False
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def holds_unstorable_text(value) -> bool:
    """Any key or string anywhere in a JSON value that no database text column can hold.

    Walks with a list rather than recursion, so no depth of nesting can overflow the stack.
    """
    pending = [value]
    while pending:
        item = pending.pop()
        if isinstance(item, str):
            if not storable_text(item):
                return True
        elif isinstance(item, dict):
            pending.extend(item.keys())
            pending.extend(item.values())
        elif isinstance(item, list):
            pending.extend(item)
    return False




def nested_deeper_than(value, limit: int = MAX_JSON_DEPTH) -> bool:
    """True when objects and arrays in a JSON value nest more than `limit` levels."""
    pending = [(value, 1)]
    while pending:
        item, depth = pending.pop()
        if isinstance(item, (dict, list)):
            if depth > limit:
                return True
            children = item.values() if isinstance(item, dict) else item
            pending.extend((child, depth + 1) for child in children)
    return False


@functools.cache
def _schema(task_name: str):
    """One instance per contract, made once: a marshmallow schema loads any number of payloads, and
    making one costs a third of a load (issue 14's profile)."""
    return CONTRACTS[task_name]()


def load_payload(task_name: str, payload) -> dict:
    """Validate a received payload and return it deserialised; raise ContractError."""
    schema = CONTRACTS.get(task_name)
    if schema is None:
        raise ContractError(task_name, {"task": ["no contract for this task name"]})
    if not isinstance(payload, dict):
        raise ContractError(task_name, {"_schema": ["the payload must be one JSON object"]})
    if holds_unstorable_text(payload):
        raise ContractError(task_name, {"_schema": ["text may not contain NUL characters or lone surrogates"]})
    try:
        return _schema(task_name).load(payload)
    except ValidationError as exc:
        raise ContractError(task_name, exc.messages) from None


def check_outgoing(task_name: str, payload: dict) -> dict:
    """The sender's check before a payload goes out: the same schema as the receiver's."""
    load_payload(task_name, payload)
    return payload
