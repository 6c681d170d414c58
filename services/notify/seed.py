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
    ("booking_reminder", "zh-CN"): dict(
        sms_body="【驿站】提醒:您预约的{venue}“{title}”将于{start}开始,请在开始前15分钟至开始后30分钟内签到。预约号{booking_id}。",
        email_subject="明日预约提醒:{title}",
        email_body="您好,\n\n提醒您:您预约的{venue}“{title}”将于{start}开始。请在开始前15分钟至开始后30分钟内到场签到,未签到将记为爽约。\n预约号:{booking_id}\n\n华垦社区党群服务驿站",
    ),
    ("booking_reminder", "en"): dict(
        sms_body="[Yizhan] Reminder: {title} at {venue} starts {start}. Check in from 15 min before to 30 min after the start. Ref {booking_id}.",
        email_subject="Tomorrow: {title}",
        email_body="Hello,\n\nA reminder: {title} at {venue} starts {start}. Please check in between 15 minutes before and 30 minutes after the start; otherwise it counts as a no-show.\nReference: {booking_id}\n\nHuaken community service station",
    ),
    ("booking_cancelled", "zh-CN"): dict(
        sms_body="【驿站】您预约的{venue}({start})“{title}”已取消。预约号{booking_id}。",
        email_subject="预约已取消:{title}",
        email_body="您好,\n\n您预约的{venue}({start})“{title}”已取消。\n预约号:{booking_id}\n\n华垦社区党群服务驿站",
    ),
    ("booking_cancelled", "en"): dict(
        sms_body="[Yizhan] Your booking of {venue} at {start} ({title}) is cancelled. Ref {booking_id}.",
        email_subject="Booking cancelled: {title}",
        email_body="Hello,\n\nYour booking of {venue} at {start} ({title}) is cancelled.\nReference: {booking_id}\n\nHuaken community service station",
    ),
    ("credit_warning", "zh-CN"): dict(
        sms_body="【驿站】{organization}因{violation}扣{points}分,当前诚信分{score}。再有{remaining}次违约将暂停预约资格。",
        email_subject="诚信分变动提醒",
        email_body="您好,\n\n{organization}因{violation}被扣{points}分,当前诚信分为{score}。\n按驿站场地预约诚信管理规定,90天内累计3次违约将暂停预约资格30天;再有{remaining}次违约将暂停。\n\n华垦社区党群服务驿站",
    ),
    ("credit_warning", "en"): dict(
        sms_body="[Yizhan] {organization} lost {points} points for a {violation}; credit now {score}. {remaining} more violation(s) suspend booking.",
        email_subject="Your booking credit changed",
        email_body="Hello,\n\n{organization} lost {points} points for a {violation}; its credit is now {score}.\nThree violations within 90 days suspend booking for 30 days; {remaining} more will.\n\nHuaken community service station",
    ),
    ("credit_suspended", "zh-CN"): dict(
        sms_body="【驿站】{organization}90天内累计违约3次,预约资格暂停至{until}。当前诚信分{score}。",
        email_subject="预约资格已暂停",
        email_body="您好,\n\n{organization}在90天内累计违约3次,按驿站场地预约诚信管理规定,预约资格暂停至{until}。当前诚信分{score}。\n\n华垦社区党群服务驿站",
    ),
    ("credit_suspended", "en"): dict(
        sms_body="[Yizhan] {organization}: 3 violations in 90 days; booking is suspended until {until}. Credit {score}.",
        email_subject="Booking suspended",
        email_body="Hello,\n\n{organization} had 3 violations within 90 days; under the station's integrity rules booking is suspended until {until}. Credit: {score}.\n\nHuaken community service station",
    ),
}


def seed(session) -> dict:
    added = 0
    for (key, locale), texts in TEMPLATES.items():
        if session.scalar(select(Template).where(Template.key == key, Template.locale == locale)) is None:
            session.add(Template(key=key, locale=locale, **texts))
            added += 1
    return {"templates added": added}
