"""The templates booking and the desk use, in Chinese and English (idempotent)."""

from sqlalchemy import select

from services.notify.models import Template

TEMPLATES = {
    # The portal's sign-in code (services/portal/domain/sign_in.py); the code is never logged, only sent.
    ("sign_in_code", "zh-CN"): dict(
        sms_body="【驿站】您的登录验证码是{code},{minutes}分钟内有效。请勿告诉他人。",
    ),
    ("sign_in_code", "en"): dict(
        sms_body="[Yizhan] Your sign-in code is {code}. It is valid for {minutes} minutes. Do not share it.",
    ),
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
    ("ticket_accepted", "zh-CN"): dict(
        sms_body="【驿站】您的{errand}事项已受理(工单{ticket_id}),预计{due_date}前办结。",
        email_subject="代办事项已受理:{errand}",
        email_body="您好,\n\n您的{errand}事项已受理,工单号{ticket_id},预计{due_date}前办结。\n\n华垦社区党群服务驿站",
    ),
    ("ticket_accepted", "en"): dict(
        sms_body="[Yizhan] Your {errand} errand is accepted (ticket {ticket_id}); expected done by {due_date}.",
        email_subject="Errand accepted: {errand}",
        email_body="Hello,\n\nYour {errand} errand is accepted as ticket {ticket_id}; we expect to finish it by {due_date}.\n\nHuaken community service station",
    ),
    ("ticket_waiting", "zh-CN"): dict(
        sms_body="【驿站】您的{errand}事项(工单{ticket_id})还需补充:{missing}。请带到驿站便民代办柜台。",
        email_subject="请补充材料:{errand}",
        email_body="您好,\n\n您的{errand}事项(工单{ticket_id})还需补充以下材料:{missing}。\n请带到驿站便民代办柜台。\n\n华垦社区党群服务驿站",
    ),
    ("ticket_waiting", "en"): dict(
        sms_body="[Yizhan] Your {errand} errand (ticket {ticket_id}) needs: {missing}. Please bring it to the service counter.",
        email_subject="Documents needed: {errand}",
        email_body="Hello,\n\nYour {errand} errand (ticket {ticket_id}) still needs: {missing}.\nPlease bring it to the station's service counter.\n\nHuaken community service station",
    ),
    ("ticket_done", "zh-CN"): dict(
        # The link leads to the portal's follow-up question (migrations/versions/0005 updates stored texts).
        sms_body="【驿站】您的{errand}事项(工单{ticket_id})已办结。感谢您的耐心。请为本次服务打分: {link}",
        email_subject="代办事项已办结:{errand}",
        email_body="您好,\n\n您的{errand}事项(工单{ticket_id})已办结。感谢您的耐心。\n\n华垦社区党群服务驿站",
    ),
    ("ticket_done", "en"): dict(
        sms_body="[Yizhan] Your {errand} errand (ticket {ticket_id}) is done. Thank you for your patience. Please rate our service: {link}",
        email_subject="Errand done: {errand}",
        email_body="Hello,\n\nYour {errand} errand (ticket {ticket_id}) is done. Thank you for your patience.\n\nHuaken community service station",
    ),
    ("ticket_rejected", "zh-CN"): dict(
        sms_body="【驿站】很抱歉,您的{errand}事项(工单{ticket_id})无法办理,原因:{reason}。",
        email_subject="代办事项无法办理:{errand}",
        email_body="您好,\n\n很抱歉,您的{errand}事项(工单{ticket_id})无法办理。\n原因:{reason}\n\n华垦社区党群服务驿站",
    ),
    ("ticket_rejected", "en"): dict(
        sms_body="[Yizhan] Sorry, your {errand} errand (ticket {ticket_id}) cannot be done: {reason}.",
        email_subject="Errand not possible: {errand}",
        email_body="Hello,\n\nSorry, your {errand} errand (ticket {ticket_id}) cannot be done.\nReason: {reason}\n\nHuaken community service station",
    ),
    # The documents a waiting ticket asked for are in: the desk moves it back to in progress.
    ("ticket_resumed", "zh-CN"): dict(
        sms_body="【驿站】您补充的材料已收到,您的{errand}事项(工单{ticket_id})继续办理。",
    ),
    ("ticket_resumed", "en"): dict(
        sms_body="[Yizhan] We have your documents; your {errand} errand (ticket {ticket_id}) is under way again.",
    ),
    ("staff_digest", "zh-CN"): dict(
        email_subject="驿站每日待办 {date}:审核{open_reviews}件(逾期{overdue_reviews}),工单预警{flagged_tickets}件",
        email_body="今日待办 {date}\n\n待审核预约:{open_reviews} 件,其中逾期 {overdue_reviews} 件\n进行中工单:{open_tickets} 件,即将到期或逾期 {flagged_tickets} 件\n\n{details}\n",
    ),
    ("staff_digest", "en"): dict(
        email_subject="Station digest {date}: {open_reviews} reviews ({overdue_reviews} overdue), {flagged_tickets} tickets flagged",
        email_body="Digest for {date}\n\nOpen booking reviews: {open_reviews}, overdue: {overdue_reviews}\nOpen tickets: {open_tickets}, due soon or overdue: {flagged_tickets}\n\n{details}\n",
    ),
}


def seed(session) -> dict:
    added = 0
    for (key, locale), texts in TEMPLATES.items():
        if session.scalar(select(Template).where(Template.key == key, Template.locale == locale)) is None:
            session.add(Template(key=key, locale=locale, **texts))
            added += 1
    return {"templates added": added}
