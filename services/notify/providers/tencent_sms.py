"""Tencent Cloud SMS (API 2021-01-11 SendSms) through the official SDK, the `tencent` extra.

Only templates approved in the Tencent console can be sent, named by `sms_template_code` (the
TemplateId). Tencent's template parameters are positional ({1}, {2}, ...), so TemplateParamSet
is `message.params`' values in the order the dict holds them: whoever builds the params builds
them in the template's order. The reference is the per-number SerialNo, which the status
callback echoes as `sid`.
"""

from urllib.parse import urlsplit

from services.notify.providers.base import PermanentError, Provider, RecipientLimited, TransientError, UnsendableMessage
from services.notify.providers.receipts import DELIVERED, FAILED, json_items, mainland_mobile, read_json
from shared.settings import ConfigurationError

DEFAULT_ENDPOINT = "sms.tencentcloudapi.com"
DEFAULT_REGION = "ap-guangzhou"
REQUIRED = ("TENCENT_SECRET_ID", "TENCENT_SECRET_KEY", "TENCENT_SMS_SDK_APP_ID", "TENCENT_SMS_SIGN_NAME")
TIMEOUT_SECONDS = 10


def is_transient(code: str) -> bool:
    """From SendSms's error codes (cloud.tencent.com/document/api/382/55981 and 382/59177): rate and volume
    limits and Tencent's internal errors pass with time, as do the SDK's own network errors
    (ClientNetworkError; ServerNetworkError for a non-200 answer, which the API itself never gives);
    InvalidParameterValue.*, FailedOperation.* (unapproved template, blacklisted number, no balance),
    AuthFailure.* and UnauthorizedOperation.* need a person."""
    return code.startswith(("LimitExceeded", "InternalError", "RequestLimitExceeded",
                            "ClientNetworkError", "ServerNetworkError"))


def _error(code: str, text: str):
    error = f"Tencent SMS {code}: {text}"
    if code.startswith("LimitExceeded.PhoneNumber"):  # limits on this one number (30 s, hour, day, same text)
        return RecipientLimited(error)
    return TransientError(error) if is_transient(code) else PermanentError(error)


class TencentSmsProvider(Provider):
    name = "tencent"

    def __init__(self, settings):
        env = settings.environ
        missing = [name for name in REQUIRED if not env.get(name)]
        if missing:
            raise ConfigurationError(f"the 'tencent' SMS provider needs {', '.join(missing)}")
        try:
            from tencentcloud.common.credential import Credential
            from tencentcloud.common.profile.client_profile import ClientProfile
            from tencentcloud.common.profile.http_profile import HttpProfile
            from tencentcloud.sms.v20210111.sms_client import SmsClient
        except ImportError as exc:
            raise ConfigurationError("the 'tencent' SMS provider needs its SDK: pip install 'yizhan[tencent]'") from exc
        endpoint = env.get("TENCENT_SMS_ENDPOINT") or DEFAULT_ENDPOINT
        url = urlsplit(endpoint if "://" in endpoint else f"https://{endpoint}")
        self.app_id = env["TENCENT_SMS_SDK_APP_ID"]
        self.sign_name = env["TENCENT_SMS_SIGN_NAME"]
        http = HttpProfile(protocol=url.scheme, endpoint=url.netloc, reqTimeout=TIMEOUT_SECONDS)
        # ClientProfile's default retryer sends once: notify's own retries decide what happens next.
        self.client = SmsClient(Credential(env["TENCENT_SECRET_ID"], env["TENCENT_SECRET_KEY"]),
                                env.get("TENCENT_SMS_REGION") or DEFAULT_REGION, ClientProfile(httpProfile=http))

    def send(self, message) -> str:
        from tencentcloud.common.exception.tencent_cloud_sdk_exception import TencentCloudSDKException
        from tencentcloud.sms.v20210111.models import SendSmsRequest

        template_id = getattr(message, "sms_template_code", None)
        if not template_id:
            raise UnsendableMessage(f"template {message.template!r} has no Tencent template id (sms_template_code)")
        request = SendSmsRequest()
        # E.164, as Tencent asks; a row stored before numbers were normalised is a mainland number.
        request.PhoneNumberSet = [message.recipient if message.recipient.startswith("+") else f"+86{message.recipient}"]
        request.SmsSdkAppId = self.app_id
        request.SignName = self.sign_name
        request.TemplateId = template_id
        request.TemplateParamSet = [str(value) for value in (message.params or {}).values()]
        request.SessionContext = str(message.id)
        try:
            response = self.client.SendSms(request)
        except TencentCloudSDKException as exc:
            raise _error(exc.code or "?", str(exc.message)[:300]) from exc
        statuses = response.SendStatusSet or []
        if not statuses:
            raise TransientError("Tencent SMS answered without a SendStatusSet")
        status = statuses[0]
        if status.Code != "Ok":
            raise _error(status.Code or "?", status.Message or "")
        return status.SerialNo

    def parse_receipts(self, body: bytes, headers, query):
        """Status callbacks are arrays of {sid, report_status, errmsg, description, ...}
        (tencentcloud.com/document/product/382/43547); replies are {mobile, nationcode, text, ...}
        (.../382/43548). Both arrive at the one callback URL."""
        receipts, inbound = [], []
        for item in json_items(read_json(body)):
            if "sid" in item and "report_status" in item:
                status = DELIVERED if item["report_status"] == "SUCCESS" else FAILED
                detail = f"{item.get('errmsg', '')}: {item.get('description', '')}".strip(": ")
                receipts.append((str(item["sid"]), status, detail))
            elif "mobile" in item and "text" in item:
                inbound.append((mainland_mobile(item["mobile"], item.get("nationcode", "86")), str(item["text"])))
            else:
                raise ValueError("not a Tencent SMS status or reply callback (sid/report_status or mobile/text)")
        return receipts, inbound
