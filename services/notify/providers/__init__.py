"""Delivery providers behind one small interface: `send(message) -> reference`.

Chosen per channel by configuration (SMS_PROVIDERS; e-mail is SMTP).
"""

from services.notify.providers.aliyun_sms import AliyunSmsProvider
from services.notify.providers.base import (CircuitOpen, PermanentError, Provider, RecipientLimited, TransientError,
                                            UnsendableMessage)
from services.notify.providers.http_sms import HttpSmsProvider
from services.notify.providers.log_sms import LogSmsProvider
from services.notify.providers.smtp_email import SmtpProvider
from services.notify.providers.tencent_sms import TencentSmsProvider

# aliyun and tencent import their SDKs (the `aliyun` / `tencent` extras) only when constructed.
SMS_PROVIDERS = {p.name: p for p in (LogSmsProvider, HttpSmsProvider, AliyunSmsProvider, TencentSmsProvider)}

__all__ = ["CircuitOpen", "PermanentError", "Provider", "RecipientLimited", "TransientError", "UnsendableMessage",
           "providers_for"]


def providers_for(settings, channel: str) -> list[Provider]:
    if channel == "email":
        return [SmtpProvider(settings)]
    unknown = [name for name in settings.sms_providers if name not in SMS_PROVIDERS]
    if unknown:
        raise ValueError(f"unknown SMS provider(s) {unknown}; known: {sorted(SMS_PROVIDERS)}")
    return [SMS_PROVIDERS[name](settings) for name in settings.sms_providers]
