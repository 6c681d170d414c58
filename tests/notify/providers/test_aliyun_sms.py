"""Alibaba Cloud SMS through its real SDK, against a local stand-in for dysmsapi.aliyuncs.com."""

import json
import sys

import pytest

from services.notify.providers.aliyun_sms import AliyunSmsProvider
from services.notify.providers.base import PermanentError, RecipientLimited, TransientError, UnsendableMessage
from shared.settings import ConfigurationError, Settings
from tests.notify.providers.fakes import Answer, make_message

ACCESS_KEY_ID = "LTAI5tTestAccessKeyId"
REQUEST_ID = "F655A8D5-B967-440B-8683-DAD6FF8DE990"


def dysmsapi_check(request):
    """SendSms as dysmsapi answers it: an ACS3-signed RPC call, parameters in the query string."""
    if request.method != "POST" or request.path != "/":
        return Answer.json(404, {"Code": "InvalidAction.NotFound", "Message": "Specified api is not found"})
    if (request.headers.get("x-acs-action"), request.headers.get("x-acs-version")) != ("SendSms", "2017-05-25"):
        return Answer.json(400, {"Code": "InvalidVersion", "Message": "Specified parameter Version is not valid."})
    authorization = request.headers.get("authorization", "")
    if not authorization.startswith(f"ACS3-HMAC-SHA256 Credential={ACCESS_KEY_ID},") or "Signature=" not in authorization:
        return Answer.json(400, {"Code": "IncompleteSignature", "Message": "The request signature is not valid."})
    missing = [name for name in ("PhoneNumbers", "SignName", "TemplateCode") if name not in request.query]
    if missing:
        return Answer.json(400, {"Code": f"MissingParameter.{missing[0]}", "Message": f"{missing[0]} is mandatory"})
    return None


def sent_ok(biz_id="900619746936498440^0"):
    return Answer.json(200, {"Code": "OK", "Message": "OK", "BizId": biz_id, "RequestId": REQUEST_ID})


def refused(code, message, status=200):
    """SendSms reports business errors in an HTTP 200 answer; the gateway's own errors come as 4xx/5xx."""
    return Answer.json(status, {"Code": code, "Message": message, "RequestId": REQUEST_ID})


def provider_for(address: str) -> AliyunSmsProvider:
    return AliyunSmsProvider(Settings.from_env({
        "ALIYUN_ACCESS_KEY_ID": ACCESS_KEY_ID, "ALIYUN_ACCESS_KEY_SECRET": "test-access-key-secret",
        "ALIYUN_SMS_SIGN_NAME": "驿站", "ALIYUN_SMS_ENDPOINT": f"http://{address}"}))


@pytest.fixture
def dysmsapi(start_fake_api):
    return start_fake_api(dysmsapi_check)


def test_sending_calls_sendsms_with_the_approved_template_and_returns_the_bizid(dysmsapi):
    dysmsapi.answer(sent_ok())
    message = make_message()

    assert provider_for(dysmsapi.address).send(message) == "900619746936498440^0"

    [request] = dysmsapi.received
    assert {name: values[0] for name, values in request.query.items()} == {
        "PhoneNumbers": "13812345678", "SignName": "驿站", "TemplateCode": "SMS_460770154", "OutId": "42",
        "TemplateParam": json.dumps(message.params, ensure_ascii=False)}


def test_a_template_without_params_sends_no_templateparam(dysmsapi):
    dysmsapi.answer(sent_ok())
    provider_for(dysmsapi.address).send(make_message(params={}))
    assert "TemplateParam" not in dysmsapi.received[0].query


def test_a_template_without_an_aliyun_code_is_refused_before_calling(dysmsapi):
    with pytest.raises(UnsendableMessage, match="no Aliyun template code"):
        provider_for(dysmsapi.address).send(make_message(sms_template_code=None))
    assert dysmsapi.received == []


@pytest.mark.parametrize("answer", [
    refused("isv.BUSINESS_LIMIT_CONTROL", "触发分钟级流控Permits:1"),
    refused("isv.DAY_LIMIT_CONTROL", "触发日发送限额"),
    refused("isp.SYSTEM_ERROR", "isp.SYSTEM_ERROR"),
    refused("Throttling.User", "Request was denied due to user flow control.", status=400),
    refused("ServiceUnavailable", "The request has failed due to a temporary failure of the server.", status=503),
    Answer(502, b"<html>502 Bad Gateway</html>", "text/html"),
], ids=lambda answer: json.loads(answer.body)["Code"] if answer.content_type == "application/json" else "html-502")
def test_throttling_and_server_trouble_are_worth_retrying(dysmsapi, answer):
    dysmsapi.answer(answer)
    with pytest.raises(TransientError):
        provider_for(dysmsapi.address).send(make_message())


@pytest.mark.parametrize("answer", [
    refused("isv.MOBILE_NUMBER_ILLEGAL", "非法手机号"),
    refused("isv.SMS_TEMPLATE_ILLEGAL", "该账号下找不到对应模板"),
    refused("isv.SMS_SIGNATURE_ILLEGAL", "该账号下找不到对应签名"),
    refused("isv.TEMPLATE_MISSING_PARAMETERS", "模板缺少变量"),
    refused("isv.OUT_OF_SERVICE", "业务停机"),
    refused("InvalidAccessKeyId.NotFound", "Specified access key is not found.", status=404),
    refused("SignatureDoesNotMatch", "Specified signature is not matched with our calculation.", status=400),
], ids=lambda answer: json.loads(answer.body)["Code"])
def test_bad_numbers_unapproved_templates_and_auth_errors_are_permanent(dysmsapi, answer):
    dysmsapi.answer(answer)
    code = json.loads(answer.body)["Code"]
    with pytest.raises(PermanentError, match=code.replace(".", r"\.")):
        provider_for(dysmsapi.address).send(make_message())


def test_a_refused_connection_is_worth_retrying(closed_address):
    with pytest.raises(TransientError, match="unreachable"):
        provider_for(closed_address).send(make_message())


def test_the_provider_refuses_to_start_without_its_keys_and_sign():
    with pytest.raises(ConfigurationError, match="ALIYUN_ACCESS_KEY_ID, ALIYUN_ACCESS_KEY_SECRET, ALIYUN_SMS_SIGN_NAME"):
        AliyunSmsProvider(Settings.from_env({}))


def test_a_configured_provider_without_its_sdk_says_which_extra_to_install(monkeypatch):
    monkeypatch.setitem(sys.modules, "alibabacloud_dysmsapi20170525.client", None)  # as if not installed
    with pytest.raises(ConfigurationError, match=r"yizhan\[aliyun\]"):
        provider_for("127.0.0.1:9")


def test_smsreport_pushes_become_delivered_and_failed_receipts():
    body = json.dumps([
        {"phone_number": "13812345678", "send_time": "2026-09-17 10:00:00", "report_time": "2026-09-17 10:00:05",
         "success": True, "err_code": "DELIVERED", "err_msg": "用户接收成功", "sms_size": "1",
         "biz_id": "900619746936498440^0", "out_id": "42"},
        {"phone_number": "13900000002", "send_time": "2026-09-17 10:00:00", "report_time": "2026-09-17 10:00:09",
         "success": False, "err_code": "MK:0001", "err_msg": "空号", "sms_size": "1",
         "biz_id": "900619746936498441^0", "out_id": "43"},
    ], ensure_ascii=False).encode()

    receipts, inbound = provider_for("127.0.0.1:9").parse_receipts(body, {"Content-Type": "application/json"}, {})

    assert receipts == [("900619746936498440^0", "delivered", "DELIVERED: 用户接收成功"),
                        ("900619746936498441^0", "failed", "MK:0001: 空号")]
    assert inbound == []


def test_smsup_pushes_become_inbound_sms_such_as_an_opt_out():
    body = json.dumps([{"phone_number": "13812345678", "send_time": "2026-09-17 10:05:00", "content": "退订",
                        "sign_name": "驿站", "dest_code": "1234", "sequence_id": 1234567890}],
                      ensure_ascii=False).encode()
    assert provider_for("127.0.0.1:9").parse_receipts(body, {}, {}) == ([], [("13812345678", "退订")])


@pytest.mark.parametrize("body", [b"", b"<xml/>", b'{"code": 0}', b'["DELIVERED"]', "[]".encode("utf-16")])
def test_an_unreadable_push_is_refused(body):
    with pytest.raises(ValueError):
        provider_for("127.0.0.1:9").parse_receipts(body, {}, {})


def test_flow_control_on_one_number_is_retried_without_blaming_the_provider(dysmsapi):
    dysmsapi.answer(refused("isv.BUSINESS_LIMIT_CONTROL", "触发号码天级流控Permits:10"))
    with pytest.raises(RecipientLimited):
        provider_for(dysmsapi.address).send(make_message())


def test_a_number_outside_the_mainland_goes_with_its_country_code_and_no_plus(dysmsapi):
    dysmsapi.answer(sent_ok())
    provider_for(dysmsapi.address).send(make_message(recipient="+85261234567"))
    assert dysmsapi.received[0].query["PhoneNumbers"] == ["85261234567"]
