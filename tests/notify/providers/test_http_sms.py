"""The generic HTTP gateway: signed JSON out, signed receipts back."""

import hashlib
import hmac
import json

import pytest

from services.notify.providers.base import PermanentError, TransientError
from services.notify.providers.http_sms import HttpSmsProvider, sign_body
from shared.settings import ConfigurationError, Settings
from tests.notify.providers.fakes import Answer, make_message

SECRET = "gateway-secret-for-tests"


def gateway_check(request):
    """What a gateway does first: refuse anything not signed with the shared secret."""
    expected = "sha256=" + hmac.new(SECRET.encode(), request.body, hashlib.sha256).hexdigest()
    if request.method != "POST" or request.headers.get("x-yizhan-signature") != expected:
        return Answer.json(401, {"error": "bad signature"})
    if not request.headers.get("x-yizhan-timestamp", "").isdigit():
        return Answer.json(400, {"error": "no timestamp"})
    return None


def provider_for(address: str) -> HttpSmsProvider:
    return HttpSmsProvider(Settings.from_env({"SMS_HTTP_URL": f"http://{address}/sms", "SMS_HTTP_SECRET": SECRET}))


@pytest.fixture
def gateway(start_fake_api):
    return start_fake_api(gateway_check)


def test_sending_posts_signed_json_and_returns_the_gateways_reference(gateway):
    gateway.answer(Answer.json(200, {"reference": "gw-0001"}))
    message = make_message()

    assert provider_for(gateway.address).send(message) == "gw-0001"

    [request] = gateway.received
    assert request.path == "/sms"
    assert request.json() == {"to": "+8613812345678", "text": message.body, "template": "booking.approved",
                              "params": message.params, "message_id": 42}


def test_an_accepted_message_without_a_readable_reference_is_not_sent_again(gateway):
    gateway.answer(Answer(202, b"queued", "text/plain"))
    assert provider_for(gateway.address).send(make_message()) is None


@pytest.mark.parametrize("status", [500, 502, 503, 429, 408])
def test_server_errors_and_throttling_are_worth_retrying(gateway, status):
    gateway.answer(Answer.json(status, {"error": "busy"}))
    with pytest.raises(TransientError, match=str(status)):
        provider_for(gateway.address).send(make_message())


@pytest.mark.parametrize("status", [400, 404, 422])
def test_client_errors_are_permanent(gateway, status):
    gateway.answer(Answer.json(status, {"error": "invalid number"}))
    with pytest.raises(PermanentError, match=str(status)):
        provider_for(gateway.address).send(make_message())


def test_a_gateway_that_rejects_our_signature_is_a_permanent_failure(gateway):
    provider = HttpSmsProvider(Settings.from_env({"SMS_HTTP_URL": f"http://{gateway.address}/sms",
                                                  "SMS_HTTP_SECRET": "not-the-gateways-secret"}))
    with pytest.raises(PermanentError, match="401"):
        provider.send(make_message())


def test_a_refused_connection_is_worth_retrying(closed_address):
    with pytest.raises(TransientError, match="unreachable"):
        provider_for(closed_address).send(make_message())


def test_the_provider_refuses_to_start_without_its_url_and_secret():
    with pytest.raises(ConfigurationError, match="SMS_HTTP_URL, SMS_HTTP_SECRET"):
        HttpSmsProvider(Settings.from_env({}))


def signed_receipt(payload, secret=SECRET):
    body = json.dumps(payload, ensure_ascii=False).encode()
    return body, {"X-Yizhan-Signature": sign_body(secret, body), "X-Yizhan-Timestamp": "1789000000"}


def test_signed_receipts_and_replies_are_read():
    body, headers = signed_receipt({
        "receipts": [{"reference": "gw-0001", "status": "delivered", "detail": "DELIVRD"},
                     {"reference": "gw-0002", "status": "failed", "detail": "UNDELIV"}],
        "inbound": [{"from": "+8613812345678", "text": "退订"}]})

    receipts, inbound = provider_for("127.0.0.1:9").parse_receipts(body, headers, {})

    assert receipts == [("gw-0001", "delivered", "DELIVRD"), ("gw-0002", "failed", "UNDELIV")]
    assert inbound == [("13812345678", "退订")]


def test_the_signature_header_is_found_whatever_its_case():
    body, headers = signed_receipt({"inbound": [{"from": "13812345678", "text": "TD"}]})
    lowered = {name.lower(): value for name, value in headers.items()}
    assert provider_for("127.0.0.1:9").parse_receipts(body, lowered, {}) == ([], [("13812345678", "TD")])


def test_a_tampered_receipt_is_refused():
    body, headers = signed_receipt({"receipts": [{"reference": "gw-0001", "status": "failed"}]})
    tampered = body.replace(b"failed", b"delivered")
    with pytest.raises(ValueError, match="does not match"):
        provider_for("127.0.0.1:9").parse_receipts(tampered, headers, {})


@pytest.mark.parametrize("headers", [{}, {"X-Yizhan-Signature": ""}, {"X-Yizhan-Signature": "sha256=00"}])
def test_an_unsigned_or_badly_signed_receipt_is_refused(headers):
    with pytest.raises(ValueError, match="X-Yizhan-Signature"):
        provider_for("127.0.0.1:9").parse_receipts(b'{"receipts": []}', headers, {})


def test_a_receipt_signed_with_another_secret_is_refused():
    body, headers = signed_receipt({"receipts": []}, secret="someone-else")
    with pytest.raises(ValueError):
        provider_for("127.0.0.1:9").parse_receipts(body, headers, {})


@pytest.mark.parametrize("payload", [b"not json", b"[1, 2]", b'{"receipts": [{"reference": "x", "status": "read"}]}',
                                     b'{"inbound": [{"text": "TD"}]}'])
def test_a_signed_but_unreadable_receipt_is_refused(payload):
    headers = {"X-Yizhan-Signature": sign_body(SECRET, payload)}
    with pytest.raises(ValueError):
        provider_for("127.0.0.1:9").parse_receipts(payload, headers, {})
