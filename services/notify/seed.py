"""The templates booking and the desk use, in Chinese and English (idempotent)."""

from sqlalchemy import select

from services.notify.models import Template

TEMPLATES = {
    ("booking_received", "zh-CN"): dict(
        sms_body="【驿站】您预约的{venue}({start})“{title}”已收到,工作人员审核后将通知您。预约号{booking_id}。",
        email_subject="预约已收到:{title}",
        email_body="您好,\n\n您预约的{venue}({start})“{title}”已收到,工作人员审核后将通知您。\n预约号:{booking_id}\n\n华垦社区党群服务驿站",
    ),
    ("booking_received", "en"): dict(
        sms_body="[Yizhan] Your booking of {venue} at {start} ({title}) was received; staff will review it. Ref {booking_id}.",
        email_subject="Booking received: {title}",
        email_body="Hello,\n\nYour booking of {venue} at {start} ({title}) was received; staff will review it.\nReference: {booking_id}\n\nHuaken community service station",
    ),
    ("booking_approved", "zh-CN"): dict(
        sms_body="【驿站】您预约的{venue}({start})“{title}”已通过审核,请按时到场签到。预约号{booking_id}。",
        email_subject="预约已通过:{title}",
        email_body="您好,\n\n您预约的{venue}({start})“{title}”已通过审核,请在开始前15分钟至开始后30分钟内到场签到。\n预约号:{booking_id}\n\n华垦社区党群服务驿站",
    ),
    ("booking_approved", "en"): dict(
        sms_body="[Yizhan] Your booking of {venue} at {start} ({title}) is approved. Please check in on time. Ref {booking_id}.",
        email_subject="Booking approved: {title}",
        email_body="Hello,\n\nYour booking of {venue} at {start} ({title}) is approved. Please check in between 15 minutes before and 30 minutes after the start.\nReference: {booking_id}\n\nHuaken community service station",
    ),
    ("booking_rejected", "zh-CN"): dict(
        sms_body="【驿站】很抱歉,您预约的{venue}({start})“{title}”未通过审核,原因:{reason}。预约号{booking_id}。",
        email_subject="预约未通过:{title}",
        email_body="您好,\n\n很抱歉,您预约的{venue}({start})“{title}”未通过审核。\n原因:{reason}\n预约号:{booking_id}\n\n华垦社区党群服务驿站",
    ),
    ("booking_rejected", "en"): dict(
        sms_body="[Yizhan] Sorry, your booking of {venue} at {start} ({title}) was not approved: {reason}. Ref {booking_id}.",
        email_subject="Booking not approved: {title}",
        email_body="Hello,\n\nSorry, your booking of {venue} at {start} ({title}) was not approved.\nReason: {reason}\nReference: {booking_id}\n\nHuaken community service station",
    ),
}


def seed(session) -> dict:
    added = 0
    for (key, locale), texts in TEMPLATES.items():
        if session.scalar(select(Template).where(Template.key == key, Template.locale == locale)) is None:
            session.add(Template(key=key, locale=locale, **texts))
            added += 1
    return {"templates added": added}
