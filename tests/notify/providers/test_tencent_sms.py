"""Tencent Cloud SMS through its real SDK, against a local stand-in for sms.tencentcloudapi.com."""

import json
import sys

import pytest

from services.notify.providers.base import PermanentError, RecipientLimited, TransientError, UnsendableMessage
from services.notify.providers.tencent_sms import TencentSmsProvider
from shared.settings import ConfigurationError, Settings
from tests.notify.providers.fakes import Answer, make_message

SECRET_ID = "AKIDTestSecretId"
REQUEST_ID = "a0aabda6-cf91-4f3e-a81f-9198114a2279"
SERIAL_NO = "5000:1045710669157053657849499619"


def api_error(code, message):
    """API 3.0 answers every error with HTTP 200 and Response.Error."""
    return Answer.json(200, {"Response": {"Error": {"Code": code, "Message": message}, "RequestId": REQUEST_ID}})


def tencent_check(request):
    """SendSms 2021-01-11 as the API checks it: a TC3-signed JSON POST naming action, version and region."""
    headers = request.headers
    if (headers.get("x-tc-action"), headers.get("x-tc-version")) != ("SendSms", "2021-01-11"):
        return api_error("InvalidAction", "The action requested is invalid.")
    if not headers.get("authorization", "").startswith(f"TC3-HMAC-SHA256 Credential={SECRET_ID}/") \
            or "Signature=" not in headers["authorization"]:
        return api_error("AuthFailure.SignatureFailure", "The provided credentials could not be validated.")
    if not headers.get("x-tc-region") or not headers.get("x-tc-timestamp", "").isdigit():
        return api_error("MissingParameter", "The request is missing a required parameter `Region`.")
    payload = request.json()
    missing = [name for name in ("PhoneNumberSet", "SmsSdkAppId", "TemplateId") if not payload.get(name)]
    if missing:
        return api_error("MissingParameter", f"The request is missing a required parameter `{missing[0]}`.")
    return None


def per_number(code="Ok", message="send success", serial_no=SERIAL_NO):
    status = {"SerialNo": serial_no, "PhoneNumber": "+8613812345678", "Fee": 1 if code == "Ok" else 0,
              "SessionContext": "42", "Code": code, "Message": message, "IsoCode": "CN"}
    return Answer.json(200, {"Response": {"SendStatusSet": [status], "RequestId": REQUEST_ID}})


def error_code(answer: Answer) -> str:
    response = json.loads(answer.body)["Response"]
    return response["Error"]["Code"] if "Error" in response else response["SendStatusSet"][0]["Code"]


def provider_for(address: str) -> TencentSmsProvider:
    return TencentSmsProvider(Settings.from_env({
        "TENCENT_SECRET_ID": SECRET_ID, "TENCENT_SECRET_KEY": "test-secret-key", "TENCENT_SMS_SDK_APP_ID": "1400006666",
        "TENCENT_SMS_SIGN_NAME": "驿站", "TENCENT_SMS_ENDPOINT": f"http://{address}"}))


@pytest.fixture
def tencent(start_fake_api):
    return start_fake_api(tencent_check)


def test_sending_calls_sendsms_with_the_approved_template_and_returns_the_serial_number(tencent):
    tencent.answer(per_number())

    assert provider_for(tencent.address).send(make_message()) == SERIAL_NO

    [request] = tencent.received
    assert request.headers["x-tc-region"] == "ap-guangzhou"
    assert request.json() == {"PhoneNumberSet": ["+8613812345678"], "SmsSdkAppId": "1400006666", "SignName": "驿站",
                              "TemplateId": "SMS_460770154", "TemplateParamSet": ["议事厅", "9月18日", "10:00"],
                              "SessionContext": "42"}


def test_template_parameters_go_in_the_order_the_params_were_given(tencent):
    tencent.answer(per_number())
    provider_for(tencent.address).send(make_message(params={"time": "10:00", "venue": "议事厅"}))
    assert tencent.received[0].json()["TemplateParamSet"] == ["10:00", "议事厅"]


def test_a_template_without_a_tencent_id_is_refused_before_calling(tencent):
    with pytest.raises(PermanentError, match="no Tencent template id"):
        provider_for(tencent.address).send(make_message(sms_template_code=None))
    assert tencent.received == []


@pytest.mark.parametrize("answer", [
    api_error("LimitExceeded.DeliveryFrequencyLimit", "下发短信命中了频率限制策略"),
    api_error("InternalError.Timeout", "请求下发短信超时"),
    api_error("RequestLimitExceeded", "请求的次数超过了频率限制"),
    per_number("LimitExceeded.PhoneNumberDailyLimit", "单个手机号日下发短信条数超过设定的上限", serial_no=""),
    per_number("InternalError.OtherError", "其他错误", serial_no=""),
    Answer(502, b"<html>502 Bad Gateway</html>", "text/html"),
], ids=["frequency-limit", "internal-timeout", "request-limit", "number-daily-limit", "number-internal", "http-502"])
def test_limits_and_tencents_internal_errors_are_worth_retrying(tencent, answer):
    tencent.answer(answer)
    with pytest.raises(TransientError):
        provider_for(tencent.address).send(make_message())


@pytest.mark.parametrize("answer", [
    api_error("FailedOperation.TemplateIncorrectOrUnapproved", "模板未审批或内容不匹配"),
    api_error("InvalidParameterValue.TemplateParameterFormatError", "验证码模板参数格式错误"),
    api_error("AuthFailure.SecretIdNotFound", "The SecretId is not found"),
    per_number("InvalidParameterValue.IncorrectPhoneNumber", "手机号格式错误", serial_no=""),
    per_number("FailedOperation.PhoneNumberInBlacklist", "手机号在免打扰名单库中", serial_no=""),
], ids=lambda answer: error_code(answer))
def test_bad_numbers_unapproved_templates_and_auth_errors_are_permanent(tencent, answer):
    tencent.answer(answer)
    with pytest.raises(PermanentError, match=error_code(answer).replace(".", r"\.")):
        provider_for(tencent.address).send(make_message())


@pytest.mark.parametrize("code", ["LimitExceeded.PhoneNumberDailyLimit", "LimitExceeded.PhoneNumberThirtySecondLimit"])
def test_a_limit_on_one_number_is_retried_without_blaming_the_provider(tencent, code):
    tencent.answer(per_number(code, "单个手机号下发短信条数超过设定的上限", serial_no=""))
    with pytest.raises(RecipientLimited):
        provider_for(tencent.address).send(make_message())


def test_a_template_without_a_tencent_id_is_unsendable_before_calling(tencent):
    with pytest.raises(UnsendableMessage):
        provider_for(tencent.address).send(make_message(sms_template_code=None))
    assert tencent.received == []


def test_a_refused_connection_is_worth_retrying(closed_address):
    with pytest.raises(TransientError, match="ClientNetworkError"):
        provider_for(closed_address).send(make_message())


def test_the_provider_refuses_to_start_without_its_keys_app_and_sign():
    with pytest.raises(ConfigurationError, match="TENCENT_SECRET_ID, .*TENCENT_SMS_SIGN_NAME"):
        TencentSmsProvider(Settings.from_env({}))


def test_a_configured_provider_without_its_sdk_says_which_extra_to_install(monkeypatch):
    monkeypatch.setitem(sys.modules, "tencentcloud.sms.v20210111.sms_client", None)  # as if not installed
    with pytest.raises(ConfigurationError, match=r"yizhan\[tencent\]"):
        provider_for("127.0.0.1:9")


def test_status_callbacks_become_delivered_and_failed_receipts():
    body = json.dumps([
        {"user_receive_time": "2026-09-17 10:00:04", "nationcode": "86", "mobile": "13812345678",
         "report_status": "SUCCESS", "errmsg": "DELIVRD", "description": "用户短信送达成功", "sid": SERIAL_NO},
        {"user_receive_time": "2026-09-17 10:00:09", "nationcode": "86", "mobile": "13900000002",
         "report_status": "FAIL", "errmsg": "MK:0001", "description": "空号", "sid": "5000:1045710669157053657849499620"},
    ], ensure_ascii=False).encode()

    receipts, inbound = provider_for("127.0.0.1:9").parse_receipts(body, {}, {})

    assert receipts == [(SERIAL_NO, "delivered", "DELIVRD: 用户短信送达成功"),
                        ("5000:1045710669157053657849499620", "failed", "MK:0001: 空号")]
    assert inbound == []


@pytest.mark.parametrize("text", ["退订", "TD"])
def test_reply_callbacks_become_inbound_sms_such_as_an_opt_out(text):
    body = json.dumps({"extend": "", "mobile": "13812345678", "nationcode": "86", "sign": "驿站",
                       "text": text, "time": 1789000000}, ensure_ascii=False).encode()
    assert provider_for("127.0.0.1:9").parse_receipts(body, {}, {}) == ([], [("13812345678", text)])


def test_a_reply_from_outside_the_mainland_keeps_its_country_code():
    body = json.dumps({"mobile": "61234567", "nationcode": "852", "text": "STOP", "time": 1789000000}).encode()
    assert provider_for("127.0.0.1:9").parse_receipts(body, {}, {}) == ([], [("+85261234567", "STOP")])


@pytest.mark.parametrize("body", [b"", b"result=0", b'{"result": 0, "errmsg": "OK"}', b"[42]"])
def test_an_unreadable_callback_is_refused(body):
    with pytest.raises(ValueError):
        provider_for("127.0.0.1:9").parse_receipts(body, {}, {})
