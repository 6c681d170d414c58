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
# The one parameter that may be longer than the cap: a link, and only into the station's own portal.
LINK = "link"


def placeholders(text: str | None) -> set[str]:
    return {field for _, field, _, _ in string.Formatter().parse(text or "") if field is not None}


def check_template_text(text: str | None, field: str) -> None:
    """Only plain named placeholders: `{venue}`, never `{0}`, `{a.b}`, `{a[0]}`, `{a!r}` or `{a:>9}`.

    str.format would otherwise obey the template: `{x:>100000}` pads to 100,000 characters,
    `{x:d}` fails for every text value, `{x.y}` reaches into attributes."""
    try:
        parts = list(string.Formatter().parse(text or ""))
    except ValueError as exc:
        raise Refused(f"模板格式有误 {field}: {exc}", {field: [str(exc)]}) from None
    bad = sorted({"{" + name + ("!" + conversion if conversion else "") + (":" + spec if spec else "") + "}"
                  for _, name, spec, conversion in parts
                  if name is not None and (not name.isidentifier() or spec or conversion)})
    if bad:
        raise Refused(f"占位符只能是 {{名称}} {field}: placeholders must be plain {{name}}, not {bad}",
                      {field: [f"bad placeholders {bad}"]})


def longest_sms(sms_body: str, param_max_chars: int, portal_url: str = "") -> str:
    """The template's SMS with every placeholder at its longest (the rendering cap), in Chinese characters:
    the text that costs the most segments. A `link` is the portal's address and a path the cap's length."""
    longest = {name: "驿" * param_max_chars for name in placeholders(sms_body)}
    if LINK in longest:
        longest[LINK] = portal_url.rstrip("/") + "/" + "驿" * param_max_chars
    return sms_body.format_map(longest)


def check_sms_length(sms_body: str | None, policy) -> None:
    """Refuse a template whose SMS, filled to the brim, is longer than NOTIFY_TEMPLATE_SMS_MAX_CHARS."""
    if not sms_body:
        return
    longest = longest_sms(sms_body, policy.sms_param_max_chars, policy.portal_url)
    if len(longest) > policy.template_sms_max_chars:
        problem = (f"{len(longest)} characters ({sms_segments(longest)} SMS) with each placeholder at "
                   f"{policy.sms_param_max_chars} characters; at most {policy.template_sms_max_chars}")
        raise Refused(f"短信模板过长 The SMS text is too long: {problem}.", {"sms_body": [problem]})


def sms_segments(text: str) -> int:
    """How many SMS a text costs: 70 UCS-2 characters alone, 67 per part when longer (160/153 for GSM-7)."""
    single, part = (160, 153) if set(text) <= GSM7 else (70, 67)
    return 1 if len(text) <= single else -(-len(text) // part)


def find_template(session, key: str, locale: str) -> Template:
    template = session.scalar(select(Template).where(Template.key == key, Template.locale == locale))
    if template is None:
        raise unknown_template(key, locale)
    return template


def unknown_template(key: str, locale: str) -> Refused:
    return Refused(f"没有模板 {key} ({locale}) No template {key!r} in {locale}.", {"template": ["unknown template"]})


def shortened(value: str, max_chars: int | None) -> str:
    return value if max_chars is None or len(value) <= max_chars else value[:max(max_chars - 1, 0)] + "…"


def sms_params(params: dict, max_chars: int | None) -> dict:
    """The values an SMS carries, as text, each at most `max_chars` long (the provider's template gets these too).

    A `link` is kept whole (a cut link leads nowhere); check_link has made sure it is the portal's."""
    return {k: str(v) if k == LINK else shortened(str(v), max_chars) for k, v in params.items()}


def check_link(params: dict, portal_url: str) -> None:
    """Refuse a `link` that does not lead into the station's portal: a text under the station's
    signature must never carry a poster's link elsewhere (phishing). The prefix ends with "/" so that
    `http://portal.example.evil.com` does not pass for `http://portal.example`; no space or control
    character may follow, so the link is one clickable piece."""
    if LINK not in params:
        return
    link, prefix = str(params[LINK]), portal_url.rstrip("/") + "/"
    if not link.startswith(prefix) or any(c.isspace() or not c.isprintable() for c in link):
        problem = f"a link must start with {prefix} and hold no spaces"
        raise Refused(f"链接只能指向本驿站网站 The link must lead to the station's portal: {problem}.",
                      {"params": [problem]}, code="template_params")


def one_line(text: str) -> str:
    """A header value on one line: a line break in a Subject would start a header of its own."""
    return " ".join(text.splitlines())


def render(template: Template, channel: str, params: dict, sms_param_max_chars: int | None = None,
           portal_url: str = "") -> dict:
    """The message's texts for the channel: {"body", "subject", "html"}; refused unless params fit exactly.

    In an SMS each value is cut to `sms_param_max_chars` (with an ellipsis): a booker's free text
    must not fill a text that goes out under the station's signature. A `link` must lead into the
    portal (`portal_url`) and is then kept whole."""
    texts = [template.sms_body] if channel == "sms" else [template.email_subject, template.email_body]
    if not all(texts):
        raise Refused(f"模板 {template.key} 没有{channel}内容 Template {template.key!r} has no {channel} text.",
                      {"channel": [f"template {template.key!r} has no {channel} text"]})
    for field in TEXTS:  # a template saved before placeholders were checked is refused, not a crash
        check_template_text(getattr(template, field), "template")
    needed = set().union(*(placeholders(t) for t in texts))
    known = set().union(*(placeholders(getattr(template, f)) for f in TEXTS))
    missing, unknown = sorted(needed - set(params)), sorted(set(params) - known)
    if missing or unknown:
        problems = ([f"missing: {', '.join(missing)}"] if missing else []) + \
                   ([f"unknown: {', '.join(unknown)}"] if unknown else [])
        raise Refused(f"模板参数不符 Template parameters do not fit {template.key!r}: {'; '.join(problems)}.",
                      {"params": problems}, code="template_params")
    check_link(params, portal_url)
    values = {k: str(v) for k, v in params.items()}
    if channel == "sms":
        values = sms_params(values, sms_param_max_chars)
        return {"body": texts[0].format_map(values), "subject": None, "html": None}
    subject, body = (t.format_map(values) for t in texts)
    subject = one_line(subject)
    if template.email_html:
        page = template.email_html.format_map({k: html.escape(v) for k, v in values.items()})
    else:
        page = "".join(f"<p>{html.escape(p).replace(chr(10), '<br>')}</p>" for p in body.split("\n\n"))
    return {"body": body, "subject": subject, "html": page}
