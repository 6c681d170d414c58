"""HTTP bodies of the notify service."""

from marshmallow import Schema, fields, validate

from shared.contracts import SendMessage
from shared.http_schemas import PageArgs, StationDateTime, page_schema


class MessageRequestSchema(SendMessage):
    """The same body as the notify.send_message task, without the contract version."""

    class Meta:
        exclude = ("v",)


class StatusChangeSchema(Schema):
    status = fields.String()
    detail = fields.String(allow_none=True)
    at = StationDateTime()


class MessageSchema(Schema):
    id = fields.Integer()
    idempotency_key = fields.String()
    channel = fields.String()
    recipient = fields.String()
    template = fields.String()
    locale = fields.String()
    status = fields.String()
    provider = fields.String(allow_none=True)
    created_at = StationDateTime()
    updated_at = StationDateTime()


class MessageDetailSchema(MessageSchema):
    subject = fields.String(allow_none=True)
    body = fields.String()
    history = fields.List(fields.Nested(StatusChangeSchema))


class MessageListArgs(PageArgs):
    recipient = fields.String()
    status = fields.String(validate=validate.OneOf(["accepted", "sending", "sent", "delivered", "failed", "suppressed"]))


class TemplateSchema(Schema):
    key = fields.String()
    locale = fields.String()
    sms_body = fields.String(allow_none=True)
    sms_template_code = fields.String(allow_none=True)
    email_subject = fields.String(allow_none=True)
    email_body = fields.String(allow_none=True)


MessagePage = page_schema(MessageSchema, "MessagePage")
TemplatePage = page_schema(TemplateSchema, "TemplatePage")
