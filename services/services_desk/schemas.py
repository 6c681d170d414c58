"""HTTP bodies of the service desk."""

from marshmallow import Schema, ValidationError, fields, validate, validates_schema

from shared.http_schemas import PageArgs, StationDateTime, page_schema


class ReviewSchema(Schema):
    id = fields.Integer()
    booking_id = fields.Integer()
    status = fields.String()
    venue = fields.Dict()
    organization = fields.Dict()
    start = StationDateTime()
    end = StationDateTime()
    title = fields.String()
    attendees = fields.Integer()
    series = fields.Dict(allow_none=True, metadata={"description": "every occurrence of a recurring request"})
    opened_at = StationDateTime()
    decided_at = StationDateTime(allow_none=True)
    decided_by = fields.String(allow_none=True)
    reason = fields.String(allow_none=True)


class ReviewListArgs(PageArgs):
    status = fields.String(validate=validate.OneOf(["open", "approved", "rejected", "withdrawn"]))


class DecisionSchema(Schema):
    decision = fields.String(required=True, validate=validate.OneOf(["approve", "reject"]))
    reason = fields.String(load_default=None, validate=validate.Length(max=500))

    @validates_schema
    def reason_required_to_reject(self, data, **_):
        if data.get("decision") == "reject" and not (data.get("reason") or "").strip():
            raise ValidationError("驳回须说明理由 A rejection needs a reason.", field_name="reason")


ReviewPage = page_schema(ReviewSchema, "ReviewPage")
