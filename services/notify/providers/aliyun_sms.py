"""Alibaba Cloud SMS (dysmsapi 2017-05-25 SendSms) through the official SDK, the `aliyun` extra.

Only templates approved in the Aliyun console can be sent: the message names one by its
`sms_template_code` and passes our params as TemplateParam. The reference is SendSms's BizId,
which the SmsReport push echoes as `biz_id`; our message id travels as OutId (`out_id`).
"""

import json
from urllib.parse import urlsplit

from services.notify.providers.base import PermanentError, Provider, RecipientLimited, TransientError, UnsendableMessage
from services.notify.providers.receipts import DELIVERED, FAILED, json_items, mainland_mobile, read_json
from shared.settings import ConfigurationError

DEFAULT_ENDPOINT = "dysmsapi.aliyuncs.com"
REQUIRED = ("ALIYUN_ACCESS_KEY_ID", "ALIYUN_ACCESS_KEY_SECRET", "ALIYUN_SMS_SIGN_NAME")
CONNECT_TIMEOUT_MS, READ_TIMEOUT_MS = 5000, 10000


def is_transient(code: str) -> bool:
    """From Aliyun's SMS error-code list (help.aliyun.com/document_detail/101346): flow and volume
    controls (isv.BUSINESS_LIMIT_CONTROL, isv.DAY_LIMIT_CONTROL, ...), throttling and the platform's
    own faults pass with time; bad numbers, unapproved templates or signs and auth errors do not."""
    return (code.endswith("LIMIT_CONTROL") or code.startswith(("Throttling", "ServiceUnavailable", "InternalError"))
            or code in {"isp.SYSTEM_ERROR", "isp.GATEWAY_ERROR", "SignatureNonceUsed"})


def _error(code: str, text: str):
    error = f"Aliyun SMS {code}: {text}"
    if code == "isv.BUSINESS_LIMIT_CONTROL":  # flow control on this one number (minute, hour or day)
        return RecipientLimited(error)
    return TransientError(error) if is_transient(code) else PermanentError(error)


def aliyun_number(recipient: str) -> str:
    """Aliyun's form: 11 digits for the mainland, country code and number (no `+`) elsewhere
    (SendSms, PhoneNumbers); notify stores E.164."""
    if recipient.startswith("+86"):
        return recipient[3:]
    return recipient.removeprefix("+")


class AliyunSmsProvider(Provider):
    name = "aliyun"

    def __init__(self, settings):
        env = settings.environ
        missing = [name for name in REQUIRED if not env.get(name)]
        if missing:
            raise ConfigurationError(f"the 'aliyun' SMS provider needs {', '.join(missing)}")
        try:
            from alibabacloud_dysmsapi20170525.client import Client
            from alibabacloud_tea_openapi.models import Config
        except ImportError as exc:
            raise ConfigurationError("the 'aliyun' SMS provider needs its SDK: pip install 'yizhan[aliyun]'") from exc
        endpoint = env.get("ALIYUN_SMS_ENDPOINT") or DEFAULT_ENDPOINT
        url = urlsplit(endpoint if "://" in endpoint else f"https://{endpoint}")
        self.sign_name = env["ALIYUN_SMS_SIGN_NAME"]
        # No retry_options: the SDK then tries once, and notify's own retries decide what happens next.
        self.client = Client(Config(access_key_id=env["ALIYUN_ACCESS_KEY_ID"],
                                    access_key_secret=env["ALIYUN_ACCESS_KEY_SECRET"],
                                    endpoint=url.netloc, protocol=url.scheme,
                                    connect_timeout=CONNECT_TIMEOUT_MS, read_timeout=READ_TIMEOUT_MS))

    def send(self, message) -> str:
        from alibabacloud_dysmsapi20170525.models import SendSmsRequest

        template_code = getattr(message, "sms_template_code", None)
        if not template_code:
            raise UnsendableMessage(f"template {message.template!r} has no Aliyun template code (sms_template_code)")
        request = SendSmsRequest(phone_numbers=aliyun_number(message.recipient), sign_name=self.sign_name,
                                 template_code=template_code, out_id=str(message.id),
                                 template_param=json.dumps(message.params, ensure_ascii=False)
                                 if message.params else None)
        body = self._call(request).body
        if body.code != "OK":
            raise _error(body.code or "?", body.message or "")
        return body.biz_id

    def _call(self, request):
        from alibabacloud_tea_openapi.exceptions import AlibabaCloudException, ThrottlingException
        from darabonba.exceptions import UnretryableException

        try:
            return self.client.send_sms(request)
        except ThrottlingException as exc:
            raise TransientError(f"Aliyun SMS throttled: {exc.code}") from exc
        except AlibabaCloudException as exc:  # an HTTP 4xx (ClientException) or 5xx (ServerException)
            if exc.status_code and exc.status_code >= 500:
                raise TransientError(f"Aliyun SMS HTTP {exc.status_code} {exc.code}") from exc
            raise _error(exc.code or "?", exc.message or "") from exc
        except UnretryableException as exc:  # the SDK's wrapper around network errors and unreadable answers
            # Only the type: the wrapped error's text holds the request URL, and with it the phone number.
            raise TransientError(f"Aliyun SMS unreachable or unreadable ({type(exc.inner_exception).__name__})") from exc

    def parse_receipts(self, body: bytes, headers, query):
        """The HTTP batch pushes SmsReport (delivery reports) and SmsUp (replies): JSON arrays
        (help.aliyun.com/zh/sms/developer-reference/smsreport-2, .../smsup-http)."""
        receipts, inbound = [], []
        for item in json_items(read_json(body)):
            if "biz_id" in item and "success" in item:
                status = DELIVERED if item["success"] in (True, "true") else FAILED
                detail = f"{item.get('err_code', '')}: {item.get('err_msg', '')}".strip(": ")
                receipts.append((str(item["biz_id"]), status, detail))
            elif "phone_number" in item and "content" in item:
                inbound.append((mainland_mobile(item["phone_number"]), str(item["content"])))
            else:
                raise ValueError("not an Aliyun SmsReport or SmsUp item (biz_id/success or phone_number/content)")
        return receipts, inbound
