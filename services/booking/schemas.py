"""HTTP bodies of the booking service."""

from datetime import date

from marshmallow import RAISE, Schema, ValidationError, fields, validate, validates_schema

from services.booking.domain import statuses
from shared.contracts import Contact, Id, RequestBooking
from shared.http_schemas import PageArgs, StationDateTime, page_schema
from shared.station_month import MonthField


class VenueSchema(Schema):
    id = fields.Integer()
    code = fields.String()
    name_zh = fields.String()
    name_en = fields.String()
    location = fields.String()
    area_m2 = fields.Integer()
    capacity = fields.Integer()
    bookable = fields.Boolean()
    opening_hours = fields.Dict(keys=fields.String(), values=fields.List(fields.List(fields.String())))
    min_minutes = fields.Integer()
    max_minutes = fields.Integer()
    description_zh = fields.String()
    description_en = fields.String()


# A day whose neighbours also convert between station time and UTC (the busy query reads a day
# either side); beyond these, datetime overflows. No booking can lie outside them anyway.
FIRST_AVAILABILITY_DAY, LAST_AVAILABILITY_DAY = date(1970, 1, 1), date(9998, 12, 31)


class AvailabilityArgs(Schema):
    date = fields.Date(required=True, validate=validate.Range(
        FIRST_AVAILABILITY_DAY, LAST_AVAILABILITY_DAY,
        error=f"日期须在{FIRST_AVAILABILITY_DAY}至{LAST_AVAILABILITY_DAY}之间 "
              f"The date must be between {FIRST_AVAILABILITY_DAY} and {LAST_AVAILABILITY_DAY}."))


class FreeIntervalSchema(Schema):
    start = StationDateTime()
    end = StationDateTime()


class BusyIntervalSchema(FreeIntervalSchema):
    kind = fields.String(metadata={"description": "booked, or station (the station's own session)"})
    title = fields.String(allow_none=True)


class AvailabilitySchema(Schema):
    venue_id = fields.Integer()
    date = fields.Date()
    bookable = fields.Boolean()
    free = fields.List(fields.Nested(FreeIntervalSchema))
    busy = fields.List(fields.Nested(BusyIntervalSchema))


class BookingRequestSchema(RequestBooking):
    """The body of `POST /bookings`: the booking.request_booking contract, with
    the idempotency key optional and no contract version."""

    class Meta:
        exclude = ("v",)

    idempotency_key = fields.String(load_default=None, validate=validate.Length(1, 200))


class StatusChangeSchema(Schema):
    from_status = fields.String(allow_none=True)
    to_status = fields.String()
    actor = fields.String()
    reason = fields.String(allow_none=True)
    at = StationDateTime()


class BookingSchema(Schema):
    id = fields.Integer()
    venue_id = fields.Integer()
    organization_id = fields.Integer()
    series_id = fields.String(allow_none=True)
    start = StationDateTime()
    end = StationDateTime()
    title = fields.String()
    attendees = fields.Integer()
    status = fields.String()
    review_reason = fields.String(allow_none=True)
    checked_in_at = StationDateTime(allow_none=True)
    created_at = StationDateTime()


class OccurrenceSchema(Schema):
    id = fields.Integer()
    start = StationDateTime()
    end = StationDateTime()
    status = fields.String()


class SeriesSchema(Schema):
    id = fields.String()
    bookings = fields.List(fields.Nested(OccurrenceSchema))
    skipped = fields.List(fields.Date(), metadata={"description": "dates left out because they were taken"})


class BookingDetailSchema(BookingSchema):
    contact = fields.Function(lambda b: {"name": b.contact_name, "phone": b.contact_phone, "email": b.contact_email})
    history = fields.List(fields.Nested(StatusChangeSchema))
    series = fields.Nested(SeriesSchema, attribute="series_view", allow_none=True,
                           metadata={"description": "for a recurring request: every occurrence"})
    # Only on GET /bookings/{id}: what the organisation's cancelling now would cost (integrity rules).
    cancellation_would_be_late = fields.Boolean(metadata={"description": "cancelling now would be a late cancellation"})
    cancellation_cost_points = fields.Integer(metadata={"description": "credit points a cancellation now would cost"})
    # Only on GET /bookings/{id}: when POST /bookings/{id}/check-in takes it (the door's QR code, issue 13).
    check_in_opens = StationDateTime(metadata={"description": "check-in opens (the start less BOOKING_CHECK_IN_BEFORE_MINUTES)"})
    check_in_closes = StationDateTime(metadata={"description": "check-in closes (the start plus BOOKING_CHECK_IN_AFTER_MINUTES)"})


class BookingListArgs(PageArgs):
    venue_id = Id(strict=False)
    organization_id = Id(strict=False)
    status = fields.String(validate=validate.OneOf(statuses.ALL))
    series_id = fields.String()
    from_ = StationDateTime(data_key="from")
    to = StationDateTime()


class CancelSchema(Schema):
    reason = fields.String(load_default=None, validate=validate.Length(max=500))


class OrganizationCreateSchema(Schema):
    name = fields.String(required=True, validate=validate.Length(1, 200))
    name_en = fields.String(load_default="", validate=validate.Length(max=200))
    kind = fields.String(required=True, validate=validate.OneOf(["party_org", "social_group", "unit"]))
    contact = fields.Nested(Contact, required=True)


# Words, not only spaces: a name or a reason of blanks says nothing.
NOT_BLANK = validate.Regexp(r"\s*\S", error="不能为空 Must not be blank.")
REASON = dict(required=True, validate=[validate.Length(1, 500), NOT_BLANK],
              metadata={"description": "why, in words: kept in the ledger with who made the change"})


class ContactUpdateSchema(Schema):
    class Meta:
        unknown = RAISE

    name = fields.String(validate=[validate.Length(1, 100), NOT_BLANK])
    phone = fields.String(validate=validate.Length(1, 30), metadata={
        "description": "a mainland mobile, in any written form (it signs in for the organisation); stored as 11 digits"})
    email = fields.Email(allow_none=True)


class OrganizationUpdateSchema(Schema):
    """`PATCH /organizations/{id}`: only the fields given change; the contact's too, one by one."""

    name = fields.String(validate=[validate.Length(1, 200), NOT_BLANK])
    name_en = fields.String(validate=validate.Length(max=200))
    kind = fields.String(validate=validate.OneOf(["party_org", "social_group", "unit"]))
    contact = fields.Nested(ContactUpdateSchema)

    @validates_schema
    def something_to_change(self, data, **kwargs):
        if not data or data.get("contact") == {}:
            raise ValidationError("没有要修改的内容 Name at least one field to change.")


class CreditAdjustmentSchema(Schema):
    points = fields.Integer(required=True, strict=True, validate=[
        validate.Range(-100, 100), validate.NoneOf([0], error="不能为0 Must not be 0.")],
        metadata={"description": "points to add (positive) or take (negative)"})
    reason = fields.String(**REASON)


class LiftSuspensionSchema(Schema):
    reason = fields.String(**REASON)


class ContactPhoneCreateSchema(Schema):
    phone = fields.String(required=True, validate=validate.Length(1, 30),
                          metadata={"description": "a mainland mobile, in any written form; stored as E.164"})


class ContactPhoneSchema(Schema):
    phone = fields.String()
    created_by = fields.String()
    created_at = StationDateTime()


class ContactPhoneListSchema(Schema):
    items = fields.List(fields.Nested(ContactPhoneSchema))


class OrganizationSchema(Schema):
    id = fields.Integer()
    name = fields.String()
    name_en = fields.String()
    kind = fields.String()
    contact = fields.Function(lambda o: {"name": o.contact_name, "phone": o.contact_phone, "email": o.contact_email})
    credit_score = fields.Integer()
    suspended_until = StationDateTime(allow_none=True)
    recent_violations = fields.Integer()
    created_at = StationDateTime()


class CreditEventSchema(Schema):
    id = fields.Integer()
    kind = fields.String()
    points = fields.Integer()
    booking_id = fields.Integer(allow_none=True)
    suspended_until = StationDateTime(allow_none=True)
    period = fields.String(allow_none=True)
    note = fields.String()
    at = StationDateTime()
    recorded_by = fields.String(allow_none=True, metadata={"description": "who made a staff change; null for the rules'"})


class RequestOutcomeArgs(Schema):
    organization_id = Id(required=True, strict=False, metadata={
        "description": "the organisation the booking.request_booking task named"})


class RequestOutcomeSchema(Schema):
    organization_id = fields.Integer()
    idempotency_key = fields.String()
    status = fields.String(metadata={"description": "accepted or refused"})
    booking_id = fields.Integer(allow_none=True)
    reason = fields.String(allow_none=True)
    fields_ = fields.Dict(data_key="fields", attribute="fields")
    at = StationDateTime()


class ScheduleArgs(AvailabilityArgs):
    """One station day, as GET /venues/{id}/availability takes it."""


class ScheduleItemSchema(Schema):
    """One thing on at a venue; no contact name, phone or e-mail (it is shown on the station's wall)."""

    kind = fields.String(metadata={"description": "booking, or station (the station's own session)"})
    booking_id = fields.Integer(allow_none=True)
    venue_id = fields.Integer()
    start = StationDateTime()
    end = StationDateTime()
    title = fields.String()
    status = fields.String(allow_none=True, metadata={"description": "approved, checked_in or completed"})
    organization_name = fields.String(allow_none=True)
    organization_name_en = fields.String(allow_none=True)


class ScheduleSchema(Schema):
    date = fields.Date()
    items = fields.List(fields.Nested(ScheduleItemSchema))


VenuePage = page_schema(VenueSchema, "VenuePage")
BookingPage = page_schema(BookingSchema, "BookingPage")
OrganizationPage = page_schema(OrganizationSchema, "OrganizationPage")
CreditEventPage = page_schema(CreditEventSchema, "CreditEventPage")


# --- the station's numbers (issue 13) -------------------------------------------------------------

class VenueCountsSchema(Schema):
    requested = fields.Integer(metadata={"description": "bookings starting this month, whatever became of them"})
    held = fields.Integer(metadata={"description": "approved, checked in or completed"})
    hours = fields.Float(metadata={"description": "the hours of the held bookings"})
    rejected = fields.Integer()
    cancelled = fields.Integer()
    late_cancellations = fields.Integer(metadata={"description": "cancellations the integrity ledger counted as late"})
    no_shows = fields.Integer()


class VenueStatisticsSchema(VenueCountsSchema):
    venue_id = fields.Integer()
    code = fields.String()
    name_zh = fields.String()
    name_en = fields.String()


class BookingStatisticsSchema(Schema):
    month = MonthField()
    start = StationDateTime(metadata={"description": "00:00 on the 1st, station time"})
    end = StationDateTime(metadata={"description": "00:00 on the 1st of the next month (not included)"})
    venues = fields.List(fields.Nested(VenueStatisticsSchema),
                         metadata={"description": "every bookable venue, and any other with bookings"})
    totals = fields.Nested(VenueCountsSchema)
