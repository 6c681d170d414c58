"""HTTP bodies of the service desk."""

from marshmallow import Schema, ValidationError, fields, validate, validates_schema

from shared.contracts import CreateTicket
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
    due_date = fields.Date(metadata={"description": "decide by the end of this day: one working day"})
    overdue = fields.Boolean()
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


class TicketTypeSchema(Schema):
    code = fields.String()
    name_zh = fields.String(required=True, validate=validate.Length(1, 100))
    name_en = fields.String(required=True, validate=validate.Length(1, 100))
    documents_zh = fields.List(fields.String(validate=validate.Length(1, 200)), required=True)
    documents_en = fields.List(fields.String(validate=validate.Length(1, 200)), required=True)
    limit_working_days = fields.Integer(required=True, strict=True, validate=validate.Range(1, 90))
    active = fields.Boolean(load_default=True)


class TicketTypeUpdateSchema(TicketTypeSchema):
    class Meta:
        exclude = ("code",)


class TicketTypeCreateSchema(TicketTypeSchema):
    """The body of `POST /ticket-types`: a new errand type under a code nobody uses yet."""

    code = fields.String(required=True, validate=validate.Regexp(
        r"^[a-z][a-z0-9_]{1,49}$", error="代码为2至50个小写字母、数字或下划线 2 to 50 lower-case letters, digits or '_'."))


class TicketTypePatchSchema(TicketTypeUpdateSchema):
    """The body of `PATCH /ticket-types/{code}`: only the fields that change."""

    class Meta:
        exclude = ("code",)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, partial=True, **kwargs)

    active = fields.Boolean()


class TicketCreateSchema(CreateTicket):
    """The body of `POST /tickets`: the desk.create_ticket contract, with the key optional and no version."""

    class Meta:
        exclude = ("v",)

    idempotency_key = fields.String(load_default=None, validate=validate.Length(1, 200))


class TicketEventSchema(Schema):
    kind = fields.String()
    actor = fields.String()
    from_status = fields.String(allow_none=True)
    to_status = fields.String(allow_none=True)
    text = fields.String(allow_none=True)
    at = StationDateTime()


class ResidentViewSchema(Schema):
    name = fields.String()
    phone = fields.String()
    email = fields.String(allow_none=True)
    id_number = fields.String(allow_none=True)


class TicketSchema(Schema):
    id = fields.Integer()
    type = fields.String(attribute="type_code")
    type_name = fields.Function(lambda t: f"{t.type.name_zh} {t.type.name_en}")
    resident = fields.Nested(ResidentViewSchema, attribute="resident_view",
                             metadata={"description": "phone and ID number masked, except for staff viewing one ticket"})
    summary = fields.String()
    status = fields.String()
    assignee = fields.String(allow_none=True)
    due_date = fields.Date()
    flag = fields.String(allow_none=True, metadata={"description": "overdue, due_soon (within one working day) or null"})
    missing_documents = fields.List(fields.String())
    created_at = StationDateTime()


class TicketDetailSchema(TicketSchema):
    details = fields.String()
    rejection_reason = fields.String(allow_none=True)
    satisfaction = fields.Integer(allow_none=True)
    follow_up_remark = fields.String(allow_none=True)
    history = fields.List(fields.Nested(TicketEventSchema))


class TicketListArgs(PageArgs):
    status = fields.String(validate=validate.OneOf(
        ["submitted", "accepted", "in_progress", "waiting_on_resident", "done", "rejected"]))
    type = fields.String()
    assignee = fields.String()
    overdue = fields.Boolean(metadata={"description": "true: only tickets due within one working day or overdue"})


class TransitionSchema(Schema):
    status = fields.String(required=True, validate=validate.OneOf(
        ["accepted", "in_progress", "waiting_on_resident", "done", "rejected"]))
    reason = fields.String(load_default=None, validate=validate.Length(max=500))
    missing_documents = fields.List(fields.String(validate=validate.Length(1, 200)), load_default=None)


class AssignSchema(Schema):
    assignee = fields.String(required=True, validate=validate.Length(1, 100))


class NoteSchema(Schema):
    text = fields.String(required=True, validate=validate.Length(1, 2000))


class FollowUpSchema(Schema):
    satisfaction = fields.Integer(required=True, strict=True, validate=validate.Range(1, 5))
    remark = fields.String(load_default=None, validate=validate.Length(max=1000))


TicketPage = page_schema(TicketSchema, "TicketPage")
TicketTypePage = page_schema(TicketTypeSchema, "TicketTypePage")
