"""HTTP bodies of the notify service."""

from marshmallow import Schema, fields, validate

from services.notify.domain.templates import TEXTS, placeholders, sms_segments
from shared.contracts import SendMessage
from shared.http_schemas import PageArgs, StationDateTime, page_schema
from shared.station_month import MonthField


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
    status_reason = fields.String(allow_none=True, metadata={"description": "why suppressed or failed"})
    provider = fields.String(allow_none=True)
    segments = fields.Integer(allow_none=True, metadata={"description": "SMS parts this text costs"})
    urgent = fields.Boolean()
    on_behalf_of = fields.String(allow_none=True, metadata={"description": "org:<id> when sent for an organisation "
                                                                          "to someone not its registered contact"})
    send_after = StationDateTime(allow_none=True, metadata={"description": "held for quiet hours until then"})
    created_at = StationDateTime()
    updated_at = StationDateTime()


class MessageDetailSchema(MessageSchema):
    provider_reference = fields.String(allow_none=True, metadata={"description": "the provider's id, as in its receipts"})
    subject = fields.String(allow_none=True)
    body = fields.String(allow_none=True, metadata={"description": "null once purged after the retention period"})
    purged_at = StationDateTime(allow_none=True)
    history = fields.List(fields.Nested(StatusChangeSchema))


class MessageListArgs(PageArgs):
    recipient = fields.String(validate=validate.Length(1, 254))
    status = fields.String(validate=validate.OneOf(["accepted", "sending", "sent", "delivered", "failed", "suppressed"]))


class TemplateSchema(Schema):
    key = fields.String()
    locale = fields.String(load_default="zh-CN", validate=validate.OneOf(["zh-CN", "en"]))
    sms_body = fields.String(allow_none=True, load_default=None, validate=validate.Length(max=1000))
    sms_template_code = fields.String(allow_none=True, load_default=None, validate=validate.Length(max=50),
                                      metadata={"description": "the SMS provider's pre-approved template code"})
    email_subject = fields.String(allow_none=True, load_default=None, validate=validate.Length(max=200))
    email_body = fields.String(allow_none=True, load_default=None, validate=validate.Length(max=20000))
    email_html = fields.String(allow_none=True, load_default=None, validate=validate.Length(max=50000))
    sms_segments = fields.Function(lambda t: sms_segments(t.sms_body) if t.sms_body else None, dump_only=True)
    placeholders = fields.Function(lambda t: sorted(set().union(*(placeholders(getattr(t, f)) for f in TEXTS))),
                                   dump_only=True)


class TemplateUpdateSchema(TemplateSchema):
    class Meta:
        exclude = ("key",)


class TemplateEditSchema(Schema):
    """The body of `PATCH /templates/{key}` and of its preview: the texts that change, in one locale."""

    locale = fields.String(load_default="zh-CN", validate=validate.OneOf(["zh-CN", "en"]))
    sms_body = fields.String(allow_none=True, validate=validate.Length(max=1000))
    sms_template_code = fields.String(allow_none=True, validate=validate.Length(max=50))
    email_subject = fields.String(allow_none=True, validate=validate.Length(max=200))
    email_body = fields.String(allow_none=True, validate=validate.Length(max=20000))
    email_html = fields.String(allow_none=True, validate=validate.Length(max=50000))


class TemplatePreviewSchema(Schema):
    key = fields.String()
    locale = fields.String()
    placeholders = fields.List(fields.String())
    sample_values = fields.Dict(keys=fields.String(), values=fields.String())
    sms_body = fields.String(allow_none=True, metadata={"description": "the SMS as sent with the sample values"})
    sms_chars = fields.Integer()
    sms_segments = fields.Integer(metadata={"description": "GSM-7: 160 alone, 153 per part; UCS-2 (Chinese): 70, 67"})
    sms_encoding = fields.String(allow_none=True, metadata={"description": "GSM-7 or UCS-2"})
    email_subject = fields.String(allow_none=True)
    email_body = fields.String(allow_none=True)


class OptOutSchema(Schema):
    id = fields.Integer(dump_only=True)
    recipient = fields.String(required=True, validate=validate.Length(1, 254))
    channel = fields.String(load_default="sms", validate=validate.OneOf(["sms", "email"]))
    source = fields.String(dump_only=True)
    created_at = StationDateTime(dump_only=True)


class ReceiptResultSchema(Schema):
    receipts = fields.Integer()
    applied = fields.Integer()
    opt_outs = fields.Integer()
    code = fields.Integer(metadata={"description": "0: the acknowledgement Alibaba Cloud expects"})
    msg = fields.String()
    result = fields.Integer(metadata={"description": "0: the acknowledgement Tencent Cloud expects"})
    errmsg = fields.String()


MessagePage = page_schema(MessageSchema, "MessagePage")
OptOutPage = page_schema(OptOutSchema, "OptOutPage")
TemplatePage = page_schema(TemplateSchema, "TemplatePage")


# --- the station's numbers (issue 13) -------------------------------------------------------------

class ChannelStatisticsSchema(Schema):
    channel = fields.String(metadata={"description": "sms or email"})
    total = fields.Integer(metadata={"description": "messages accepted in the month"})
    sent = fields.Integer(metadata={"description": "handed to a provider (sent or delivered)"})
    delivered = fields.Integer(metadata={"description": "of those sent, confirmed delivered"})
    failed = fields.Integer()
    suppressed = fields.Integer(metadata={"description": "never sent: opted out, over a cap, or expired"})
    waiting = fields.Integer(metadata={"description": "accepted or sending: not yet out"})


class NotifyStatisticsSchema(Schema):
    month = MonthField()
    start = StationDateTime(metadata={"description": "00:00 on the 1st, station time"})
    end = StationDateTime(metadata={"description": "00:00 on the 1st of the next month (not included)"})
    channels = fields.List(fields.Nested(ChannelStatisticsSchema))
