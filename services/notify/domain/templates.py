"""Templates with named placeholders: `{venue}`; never sent half-filled."""

import string

from sqlalchemy import select

from services.notify.models import Template
from shared.errors import Refused

DEFAULT_LOCALE = "zh-CN"


def placeholders(text: str | None) -> set[str]:
    return {field for _, field, _, _ in string.Formatter().parse(text or "") if field}


def find_template(session, key: str, locale: str) -> Template:
    template = session.scalar(select(Template).where(Template.key == key, Template.locale == locale))
    if template is None:
        raise Refused(f"没有模板 {key} ({locale}) No template {key!r} in {locale}.", {"template": ["unknown template"]})
    return template


def render(template: Template, channel: str, params: dict) -> tuple[str | None, str]:
    """(subject, body) for the channel; refuse unless every placeholder has a value."""
    parts = [template.sms_body] if channel == "sms" else [template.email_subject, template.email_body]
    if not all(parts):
        raise Refused(f"模板 {template.key} 没有{channel}内容 Template {template.key!r} has no {channel} text.",
                      {"channel": [f"template {template.key!r} has no {channel} text"]})
    missing = sorted(set().union(*(placeholders(p) for p in parts)) - set(params))
    if missing:
        raise Refused(f"模板参数缺失 Missing template parameters: {', '.join(missing)}.",
                      {"params": [f"missing: {', '.join(missing)}"]})
    values = {k: str(v) for k, v in params.items()}
    rendered = [p.format_map(values) for p in parts]
    return (None, rendered[0]) if channel == "sms" else (rendered[0], rendered[1])
