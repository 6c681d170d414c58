"""A sign-in code is an essential message (contract `kind: "sign_in"`, docs/tasks.md): it reaches a resident
who opted out of SMS, it does not eat the daily SMS cap that booking and errand notices share, and it has a
daily cap of its own."""

from dataclasses import replace

from services.notify.domain import messages
from services.notify.policy import NotifyPolicy
from shared import contracts
from tests.conftest import auth
from tests.notify.test_messages import POLICY, accept

CODE = {"template": "sign_in_code", "params": {"code": "123456", "minutes": 5}, "urgent": True}


def test_an_opted_out_resident_still_gets_a_sign_in_code_and_no_notice(station):
    assert station.client("notify").post("/opt-outs", json={"recipient": "13800000901"},
                                         headers=auth("system")).status_code == 201
    code = accept(station, "2026-03-10 12:00", recipient="13800000901", kind="sign_in", **CODE)
    assert code.status == "accepted", code.status_reason
    notice = accept(station, "2026-03-10 12:00", recipient="13800000901")
    assert notice.status == "suppressed" and "opted out" in notice.status_reason


def test_sign_in_codes_do_not_count_towards_the_notice_cap_and_have_their_own(station):
    policy = replace(POLICY, sms_daily_cap=2, sign_in_daily_cap=3)
    codes = [accept(station, "2026-03-10 12:00", recipient="13800000902", policy=policy, kind="sign_in", **CODE)
             for _ in range(3)]
    assert {m.status for m in codes} == {"accepted"}
    fourth = accept(station, "2026-03-10 12:00", recipient="13800000902", policy=policy, kind="sign_in", **CODE)
    assert fourth.status == "suppressed" and "sign-in" in fourth.status_reason
    notices = [accept(station, "2026-03-10 12:00", recipient="13800000902", policy=policy) for _ in range(2)]
    assert {m.status for m in notices} == {"accepted"}
    third_notice = accept(station, "2026-03-10 12:00", recipient="13800000902", policy=policy)
    assert third_notice.status == "suppressed" and "daily cap" in third_notice.status_reason


def test_the_contract_takes_kind_notice_or_sign_in_only():
    base = {"v": 1, "idempotency_key": "k", "channel": "sms", "recipient": "13800000903", **CODE}
    assert contracts.CONTRACTS[contracts.SEND_MESSAGE]().load(base)["kind"] == "notice"
    assert contracts.CONTRACTS[contracts.SEND_MESSAGE]().load({**base, "kind": "sign_in"})["kind"] == "sign_in"
    errors = contracts.CONTRACTS[contracts.SEND_MESSAGE]().validate({**base, "kind": "marketing"})
    assert "kind" in errors


def test_the_sign_in_cap_is_configuration():
    assert NotifyPolicy.from_env({"NOTIFY_SIGN_IN_DAILY_CAP": "7"}).sign_in_daily_cap == 7
    assert messages.SIGN_IN == "sign_in"


def test_a_recipient_opts_out_is_looked_up_in_any_spelling_and_opts_in_again(station):
    client = station.client("notify")
    assert client.get("/opt-outs/sms/13800000904", headers=auth("system")).status_code == 404
    assert client.post("/opt-outs", json={"recipient": "13800000904"}, headers=auth("system")).status_code == 201
    found = client.get("/opt-outs/sms/+8613800000904", headers=auth("system"))
    assert found.status_code == 200 and found.json["recipient"] == "+8613800000904"
    assert accept(station, "2026-03-10 12:00", recipient="13800000904").status == "suppressed"
    assert client.delete("/opt-outs/sms/13800000904", headers=auth("system")).status_code == 204
    assert client.get("/opt-outs/sms/13800000904", headers=auth("system")).status_code == 404
    assert accept(station, "2026-03-10 12:05", recipient="13800000904").status == "accepted"
    assert client.get("/opt-outs/sms/not-a-phone", headers=auth("system")).status_code == 422
    assert client.delete("/opt-outs/sms/13800000904", headers=auth("resident")).status_code == 403
