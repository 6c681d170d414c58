"""Templates with named placeholders (`{venue}`): never sent half-filled.

A message is refused when a placeholder has no value (missing) or a value is
given that no text of the template uses (unknown): either means the sender and
the template disagree about what the message says.
"""

import html
import string

from sqlalchemy import select

from services.notify.models import Template
from shared.errors import Refused

DEFAULT_LOCALE = "zh-CN"
# GSM 03.38 basic character set: such a text fits 160 characters per SMS, 153 per part.
GSM7 = set("@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§"
           "¿abcdefghijklmnopqrstuvwxyzäöñüà")
TEXTS = ("sms_body", "email_subject", "email_body", "email_html")


def placeholders(text: str | None) -> set[str]:
    return {field for _, field, _, _ in string.Formatter().parse(text or "") if field is not None}


def check_template_text(text: str | None, field: str) -> None:
    """Only plain named placeholders: `{venue}`, never `{0}`, `{a.b}` or `{a[0]}`."""
    try:
        names = placeholders(text)
    except ValueError as exc:
        raise Refused(f"模板格式有误 {field}: {exc}", {field: [str(exc)]}) from None
    bad = sorted(n for n in names if not n.isidentifier())
    if bad:
        raise Refused(f"占位符须为名称 {field}: placeholders must be names, not {bad}", {field: [f"bad placeholders {bad}"]})


def sms_segments(text: str) -> int:
    """How many SMS a text costs: 70 UCS-2 characters alone, 67 per part when longer (160/153 for GSM-7)."""
    single, part = (160, 153) if set(text) <= GSM7 else (70, 67)
    return 1 if len(text) <= single else -(-len(text) // part)


def find_template(session, key: str, locale: str) -> Template:
    template = session.scalar(select(Template).where(Template.key == key, Template.locale == locale))
    if template is None:
        raise Refused(f"没有模板 {key} ({locale}) No template {key!r} in {locale}.", {"template": ["unknown template"]})
    return template


def render(template: Template, channel: str, params: dict) -> dict:
    """The message's texts for the channel: {"body", "subject", "html"}; refused unless params fit exactly."""
    texts = [template.sms_body] if channel == "sms" else [template.email_subject, template.email_body]
    if not all(texts):
        raise Refused(f"模板 {template.key} 没有{channel}内容 Template {template.key!r} has no {channel} text.",
                      {"channel": [f"template {template.key!r} has no {channel} text"]})
    needed = set().union(*(placeholders(t) for t in texts))
    known = set().union(*(placeholders(getattr(template, f)) for f in TEXTS))
    missing, unknown = sorted(needed - set(params)), sorted(set(params) - known)
    if missing or unknown:
        problems = ([f"missing: {', '.join(missing)}"] if missing else []) + \
                   ([f"unknown: {', '.join(unknown)}"] if unknown else [])
        raise Refused(f"模板参数不符 Template parameters do not fit {template.key!r}: {'; '.join(problems)}.",
                      {"params": problems}, code="template_params")
    values = {k: str(v) for k, v in params.items()}
    if channel == "sms":
        return {"body": texts[0].format_map(values), "subject": None, "html": None}
    subject, body = (t.format_map(values) for t in texts)
    if template.email_html:
        page = template.email_html.format_map({k: html.escape(v) for k, v in values.items()})
    else:
        page = "".join(f"<p>{html.escape(p).replace(chr(10), '<br>')}</p>" for p in body.split("\n\n"))
    return {"body": body, "subject": subject, "html": page}
