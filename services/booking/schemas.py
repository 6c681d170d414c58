"""HTTP bodies of the booking service."""

from marshmallow import Schema, fields, validate

from shared.contracts import Contact
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


class BookingRequestSchema(Schema):
    venue_id = fields.Integer(required=True, strict=True)
    organization_id = fields.Integer(required=True, strict=True)
    start = fields.AwareDateTime(required=True)
    end = fields.AwareDateTime(required=True)
    title = fields.String(required=True, validate=validate.Length(1, 200))
    attendees = fields.Integer(required=True, strict=True, validate=validate.Range(min=1, max=10_000))
    contact = fields.Nested(Contact, required=True)
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
