"""HTTP bodies of the booking service."""

from marshmallow import Schema, fields, validate

from shared.contracts import RequestBooking
from shared.http_schemas import PageArgs, StationDateTime, page_schema


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
    start = StationDateTime()
    end = StationDateTime()
    title = fields.String()
    attendees = fields.Integer()
    status = fields.String()
    review_reason = fields.String(allow_none=True)
    created_at = StationDateTime()


class BookingDetailSchema(BookingSchema):
    contact = fields.Function(lambda b: {"name": b.contact_name, "phone": b.contact_phone, "email": b.contact_email})
    history = fields.List(fields.Nested(StatusChangeSchema))


class BookingListArgs(PageArgs):
    venue_id = fields.Integer()
    organization_id = fields.Integer()
    status = fields.String()
    from_ = fields.AwareDateTime(data_key="from")
    to = fields.AwareDateTime()


VenuePage = page_schema(VenueSchema, "VenuePage")
BookingPage = page_schema(BookingSchema, "BookingPage")
