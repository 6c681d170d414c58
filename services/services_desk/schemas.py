"""HTTP bodies of the service desk."""

from marshmallow import Schema, ValidationError, fields, validate, validates, validates_schema

from shared.auth import MAX_SUBJECT_LENGTH
from shared.contracts import CreateTicket
from shared.http_schemas import PageArgs, StationDateTime, page_schema
from shared.station_month import MonthField


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
    resident_subject = fields.String(load_default=None, validate=validate.Length(1, MAX_SUBJECT_LENGTH), metadata={
        "description": "staff only: the `sub` of the resident's own tokens (the portal's account for their "
                       "mobile). The ticket becomes theirs: they see it when signed in, and no one else does."})

    @validates("resident_subject")
    def a_subject_a_token_could_carry(self, value, **_):
        if value is not None and not (value.strip() and value.isprintable()):
            raise ValidationError("须为可打印字符 Must be printable characters, not blank.")


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
                             metadata={"description": "phone and ID number masked, except in the answer to "
                                                      "POST /tickets/{id}/reveal (staff; recorded)"})
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
    flag = fields.String(validate=validate.OneOf(["overdue", "due_soon"]), metadata={
        "description": "only open tickets with this deadline flag: overdue (past the due date) or due_soon"})
    unassigned = fields.Boolean(metadata={"description": "true: only tickets no one is assigned to"})
    open = fields.Boolean(metadata={"description": "true: only tickets not yet done or rejected; false: only those"})


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


# --- the station's numbers (issue 13) -------------------------------------------------------------

class ErrandCountsSchema(Schema):
    opened = fields.Integer(metadata={"description": "tickets opened in the month"})
    done = fields.Integer(metadata={"description": "tickets moved to done in the month"})
    overdue = fields.Integer(metadata={"description": "tickets opened in the month and closed after their due "
                                                     "date, or still open past it"})
    average_days_to_done = fields.Float(allow_none=True, metadata={
        "description": "days from opening to done, over the tickets done in the month; null when none"})


class ErrandStatisticsSchema(ErrandCountsSchema):
    type = fields.String()
    name_zh = fields.String()
    name_en = fields.String()


class ScoreCountSchema(Schema):
    score = fields.Integer()
    count = fields.Integer()


class FollowUpStatisticsSchema(Schema):
    count = fields.Integer(metadata={"description": "tickets whose first follow-up was in the month"})
    average = fields.Float(allow_none=True)
    distribution = fields.List(fields.Nested(ScoreCountSchema), metadata={"description": "scores 1 to 5"})


class DeskStatisticsSchema(Schema):
    month = MonthField()
    start = StationDateTime(metadata={"description": "00:00 on the 1st, station time"})
    end = StationDateTime(metadata={"description": "00:00 on the 1st of the next month (not included)"})
    errands = fields.List(fields.Nested(ErrandStatisticsSchema))
    totals = fields.Nested(ErrandCountsSchema)
    follow_up = fields.Nested(FollowUpStatisticsSchema)
