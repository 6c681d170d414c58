"""An admin's edit of a template: previewed with sample values through the same rendering and length
rules as sending (domain/templates.py), and saved only if its senders' values still fit.

The placeholders a template takes are its senders' contract: booking, the desk and the portal send
exactly those values, and `render` refuses a message whose values do not match (missing or
unknown). So an edit may move, repeat or drop a placeholder in one text, but the template as a
whole must take the same names as before.
"""

from services.notify.domain.templates import (GSM7, LINK, TEXTS, check_sms_length, check_template_text, placeholders,
                                              render, sms_segments)
from services.notify.models import Template
from shared.errors import Refused

# What a preview fills each placeholder with: plausible values of the length real ones have.
SAMPLES = {
    "zh-CN": {"title": "支部主题党日", "venue": "党群会议室", "start": "12月7日 14:00", "booking_id": "1024",
              "reason": "当天场地已安排驿站活动", "organization": "垦家大院第一党支部", "violation": "临时取消",
              "points": "5", "score": "95", "remaining": "2", "until": "1月6日", "errand": "高龄老人补贴",
              "ticket_id": "2048", "due_date": "12月14日", "missing": "户口簿", "code": "246810", "minutes": "5",
              "date": "12月7日", "details": "请带原件", "open_reviews": "3", "overdue_reviews": "1",
              "open_tickets": "6", "flagged_tickets": "2"},
    "en": {"title": "Party day", "venue": "the meeting room", "start": "7 Dec 14:00", "booking_id": "1024",
           "reason": "the room hosts a station event that day", "organization": "Kenjia first Party branch",
           "violation": "late cancellation", "points": "5", "score": "95", "remaining": "2", "until": "6 Jan",
           "errand": "old-age subsidy", "ticket_id": "2048", "due_date": "14 Dec", "missing": "household register",
           "code": "246810", "minutes": "5", "date": "7 Dec", "details": "bring the originals", "open_reviews": "3",
           "overdue_reviews": "1", "open_tickets": "6", "flagged_tickets": "2"},
}
# The path of the sample link: a follow-up page of the portal, as the errand_done SMS carries.
SAMPLE_LINK_PATH = "/errands/2048/follow-up?token=Xy7kQ2"


def sample_values(names: set[str], locale: str, portal_url: str) -> dict:
    samples = SAMPLES.get(locale, SAMPLES["zh-CN"])
    values = {name: samples.get(name, f"〈{name}〉") for name in names}
    if LINK in values:
        values[LINK] = portal_url.rstrip("/") + SAMPLE_LINK_PATH
    return values


def check_texts(texts: dict, policy) -> None:
    """The checks a save makes: plain `{name}` placeholders only, and an SMS that fits when full."""
    for field in TEXTS:
        check_template_text(texts.get(field), field)
    check_sms_length(texts.get("sms_body"), policy)


def template_names(texts: dict) -> set[str]:
    return set().union(*(placeholders(texts.get(field)) for field in TEXTS))


def check_placeholders_kept(saved: Template, texts: dict) -> None:
    """Refuse an edit after which the template would take other values than its senders send."""
    before = template_names({field: getattr(saved, field) for field in TEXTS})
    after = template_names(texts)
    added, dropped = sorted(after - before), sorted(before - after)
    problems = ([f"unknown: {', '.join('{' + n + '}' for n in added)}"] if added else []) + \
               ([f"no longer used: {', '.join('{' + n + '}' for n in dropped)}"] if dropped else [])
    if problems:
        allowed = "、".join("{" + n + "}" for n in sorted(before)) or "—"
        raise Refused(f"占位符须与发送方一致,可用:{allowed} The placeholders must stay those its senders fill "
                      f"({', '.join(sorted(before)) or 'none'}): {'; '.join(problems)}.",
                      {field: problems for field in TEXTS if placeholders(texts.get(field)) & set(added)}
                      or {"sms_body": problems}, code="template_placeholders")


def merged_texts(saved: Template, changes: dict) -> dict:
    return {field: changes.get(field, getattr(saved, field)) for field in TEXTS}


def preview(saved: Template, changes: dict, policy) -> dict:
    """The template as it would be after `changes`, rendered with sample values exactly as sending
    renders it (each SMS value cut to the policy's length, a link into the portal), with what it costs."""
    texts = merged_texts(saved, changes)
    check_texts(texts, policy)
    check_placeholders_kept(saved, texts)
    draft = Template(key=saved.key, locale=saved.locale, **texts)
    values = sample_values(template_names(texts), saved.locale, policy.portal_url)
    answer = {"key": saved.key, "locale": saved.locale, "placeholders": sorted(template_names(texts)),
              "sample_values": values, "sms_body": None, "sms_chars": 0, "sms_segments": 0, "sms_encoding": None,
              "email_subject": None, "email_body": None}
    if texts["sms_body"]:
        sms = render(draft, "sms", values, policy.sms_param_max_chars, policy.portal_url)["body"]
        answer.update(sms_body=sms, sms_chars=len(sms), sms_segments=sms_segments(sms),
                      sms_encoding="GSM-7" if set(sms) <= GSM7 else "UCS-2")
    if texts["email_subject"] and texts["email_body"]:
        email = render(draft, "email", values, portal_url=policy.portal_url)
        answer.update(email_subject=email["subject"], email_body=email["body"])
    return answer
