"""SMS_PROVIDERS names every adapter; the development provider reads our generic callback format."""

import json

import pytest

from services.notify.providers import SMS_PROVIDERS, providers_for
from services.notify.providers.receipts import mainland_mobile
from shared.settings import Settings

ALL_CONFIGURED = {
    "SMS_PROVIDERS": "tencent,aliyun,http,log",
    "SMS_HTTP_URL": "http://127.0.0.1:9/sms", "SMS_HTTP_SECRET": "s",
    "ALIYUN_ACCESS_KEY_ID": "id", "ALIYUN_ACCESS_KEY_SECRET": "secret", "ALIYUN_SMS_SIGN_NAME": "驿站",
    "TENCENT_SECRET_ID": "id", "TENCENT_SECRET_KEY": "key", "TENCENT_SMS_SDK_APP_ID": "1400006666",
    "TENCENT_SMS_SIGN_NAME": "驿站",
}


def test_every_adapter_is_registered_under_its_name():
    assert sorted(SMS_PROVIDERS) == ["aliyun", "http", "log", "tencent"]
    assert all(SMS_PROVIDERS[name].name == name for name in SMS_PROVIDERS)


def test_sms_providers_are_built_in_the_configured_order_for_failover():
    providers = providers_for(Settings.from_env(ALL_CONFIGURED), "sms")
    assert [provider.name for provider in providers] == ["tencent", "aliyun", "http", "log"]


def test_the_log_provider_reads_generic_receipts_and_replies_unsigned(tmp_path):
    log = SMS_PROVIDERS["log"](Settings.from_env({"SMS_LOG_PATH": str(tmp_path / "sms.log")}))
    body = json.dumps({"receipts": [{"reference": "abc", "status": "delivered"}],
                       "inbound": [{"from": "13812345678", "text": "退订"}]}, ensure_ascii=False).encode()

    assert log.parse_receipts(body, {}, {}) == ([("abc", "delivered", "")], [("13812345678", "退订")])


def test_the_log_provider_refuses_what_it_cannot_read(tmp_path):
    log = SMS_PROVIDERS["log"](Settings.from_env({"SMS_LOG_PATH": str(tmp_path / "sms.log")}))
    with pytest.raises(ValueError, match="JSON"):
        log.parse_receipts(b"\xff\xfe", {}, {})


@pytest.mark.parametrize("number, country, expected", [
    ("13812345678", "86", "13812345678"),
    ("+8613812345678", "86", "13812345678"),
    ("008613812345678", "86", "13812345678"),
    ("8613812345678", "86", "13812345678"),
    ("61234567", "852", "+85261234567"),
])
def test_reply_numbers_become_the_form_messages_are_addressed_to(number, country, expected):
    assert mainland_mobile(number, country) == expected
