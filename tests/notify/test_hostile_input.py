"""Issue 11 for notify: one number in ten spellings is one number, a recipient is one valid
recipient, an organisation cannot aim the station's SMS at anyone, idempotency keys are
the poster's own, and templates hold only plain `{name}` placeholders."""

from dataclasses import replace

import pytest
from sqlalchemy import select

from services.booking.domain import lifecycle
from services.notify.domain import messages
from services.notify.domain.templates import check_sms_length, longest_sms, sms_segments
from services.notify.models import Message, Template
from services.notify.policy import NotifyPolicy
from services.notify.seed import TEMPLATES
from shared import contracts
from shared.contracts import ContractError, load_payload
from shared.errors import Refused
from tests.booking.conftest import desk, station_time  # noqa: F401 (the desk fixture)
from tests.conftest import auth
from tests.notify.test_messages import PARAMS, accept, deliveries_queued

TEN_SPELLINGS = ["13700000625", "+8613700000625", "008613700000625", "137-0000-0625", "137 0000 0625",
                 " 13700000625 ", "+86 137 0000 0625", "(137) 0000 0625", "+86-137-0000-0625", "86 13700000625"]
BAD_RECIPIENTS = {"sms": ["hello", "<script>", "13800000000,13900000000", "13800000000;13900000000",
                          "12345678901", "1380000000a"],
                  "email": ["hello", "<script>", "a@example.org,b@example.org", "a@example.org\r\nBcc: b@example.org",
                            "13800000000"]}


def test_ten_spellings_of_one_mobile_are_one_recipient_for_the_daily_cap(station):
    sent = [accept(station, "2026-03-10 12:00", recipient=spelling) for spelling in TEN_SPELLINGS]
    assert {m.status for m in sent} == {"accepted"}
    assert {m.recipient for m in sent} == {"+8613700000625"}
    eleventh = accept(station, "2026-03-10 12:30", recipient="0086-137-0000-0625")
    assert eleventh.status == "suppressed" and "daily cap" in eleventh.status_reason


def test_an_opt_out_stops_every_spelling_of_the_number(station):
    client = station.client("notify")
    assert client.post("/opt-outs", json={"recipient": "+86 137 0000 7777"}, headers=auth("staff")).status_code == 201
    for spelling in ("+8613700007777", "13700007777", "0086 137-0000-7777"):
        message = accept(station, "2026-03-10 12:00", recipient=spelling)
        assert message.status == "suppressed" and "opted out" in message.status_reason, spelling
        assert deliveries_queued(station, message.id) == []


def test_an_inbound_tuiding_stops_the_number_in_any_spelling(station):
    body = {"receipts": [], "inbound": [{"from": "008613700007778", "text": "TD"}, {"from": "hello", "text": "TD"}]}
    response = station.client("notify").post("/receipts/log", json=body, headers=auth("system"))
    assert response.status_code == 200 and response.json["opt_outs"] == 1  # `hello` is nobody to opt out
    assert accept(station, "2026-03-10 12:00", recipient="137 0000 7778").status == "suppressed"


def test_an_email_address_is_trimmed_and_its_domain_lower_cased(station):
    message = accept(station, "2026-03-10 12:00", channel="email", recipient="  Lin.Haiyan@Example.ORG ")
    assert message.recipient == "Lin.Haiyan@example.org"  # the local part is the receiving host's to interpret
    client = station.client("notify")
    assert client.post("/opt-outs", json={"recipient": "zhang@EXAMPLE.org ", "channel": "email"},
                       headers=auth("staff")).status_code == 201
    assert accept(station, "2026-03-10 12:00", channel="email", recipient="zhang@example.ORG").status == "suppressed"


@pytest.mark.parametrize("channel, recipient", [(c, r) for c, rs in BAD_RECIPIENTS.items() for r in rs])
def test_anything_but_one_valid_recipient_is_refused_by_the_api_and_the_task(station, channel, recipient):
    response = station.client("notify").post("/messages", headers=auth("system"), json={
        "channel": channel, "recipient": recipient, "template": "booking_approved", "params": PARAMS,
        "idempotency_key": f"bad-recipient-{channel}-{recipient}"})
    assert response.status_code == 422, response.json
    assert "recipient" in response.json["error"]["fields"]
    with pytest.raises(ContractError) as refused:  # what the notify.send_message task checks first: a dead letter
        load_payload(contracts.SEND_MESSAGE, {"v": 1, "idempotency_key": "k", "channel": channel,
                                              "recipient": recipient, "template": "booking_approved"})
    assert "recipient" in refused.value.messages
    with pytest.raises(Refused):  # and the domain, whoever calls it
        accept(station, "2026-03-10 12:00", channel=channel, recipient=recipient)


def test_an_organisation_can_have_only_a_few_messages_a_day_sent_to_someone_not_its_contact(station):
    policy = replace(NotifyPolicy(), on_behalf_daily_cap=3)
    victim = "13700000888"
    for_org_2 = [accept(station, "2026-03-10 12:00", recipient=victim, policy=policy, on_behalf_of="org:2")
                 for _ in range(3)]
    assert {m.status for m in for_org_2} == {"accepted"}
    fourth = accept(station, "2026-03-10 12:05", recipient="+86 137-0000-0888", policy=policy, on_behalf_of="org:2")
    assert fourth.status == "suppressed" and "org:2" in fourth.status_reason
    assert deliveries_queued(station, fourth.id) == []
    # The cap is per organisation; the station's own messages to the number keep the general cap only.
    assert accept(station, "2026-03-10 12:05", recipient=victim, policy=policy, on_behalf_of="org:3").status == "accepted"
    assert accept(station, "2026-03-10 12:05", recipient=victim, policy=policy).status == "accepted"
    assert accept(station, "2026-03-11 09:00", recipient=victim, policy=policy, on_behalf_of="org:2").status == "accepted"


def test_the_on_behalf_cap_is_configuration_and_the_contract_takes_only_an_organisation():
    assert NotifyPolicy.from_env({"NOTIFY_ON_BEHALF_DAILY_CAP": "2"}).on_behalf_daily_cap == 2
    payload = {"v": 1, "idempotency_key": "k", "channel": "sms", "recipient": "13700000888",
               "template": "booking_approved"}
    assert load_payload(contracts.SEND_MESSAGE, {**payload, "on_behalf_of": "org:2"})["on_behalf_of"] == "org:2"
    with pytest.raises(ContractError):
        load_payload(contracts.SEND_MESSAGE, {**payload, "on_behalf_of": "anyone"})


def test_booking_notices_to_a_contact_other_than_the_organisations_are_sent_on_its_behalf(desk):  # noqa: F811
    victim = desk.request("2026-03-02 10:00", "2026-03-16 09:00",
                          contact={"name": "受害者", "phone": "13700000999", "email": "victim@example.org"}).first.id
    own = desk.request("2026-03-02 10:00", "2026-03-17 09:00",
                       contact={"name": "符", "phone": "+8613800000099", "email": "org@EXAMPLE.org"}).first.id
    with desk.database.transaction() as session:
        lifecycle.cancel_booking(session, victim, "org", False, None, station_time("2026-03-03 10:00"), desk.policy)
    outbox = desk.database.infrastructure.outbox
    with desk.database.reader() as session:
        sent = [r.payload for r in session.scalars(select(outbox).where(outbox.task_name == contracts.SEND_MESSAGE))]
    to_victim = [p for p in sent if p["recipient"] in ("+8613700000999", "victim@example.org")]
    to_contact = [p for p in sent if p["idempotency_key"].startswith(f"booking:{own}:")]
    assert len(to_victim) == 4 and {p["on_behalf_of"] for p in to_victim} == {f"org:{desk.organization_id}"}
    assert len(to_contact) == 2 and {p["on_behalf_of"] for p in to_contact} == {None}
    assert {p["recipient"] for p in to_contact} == {"+8613800000099", "org@example.org"}


def test_a_bookers_free_text_is_cut_short_in_an_sms_but_not_in_an_email(station):
    title = "免费领取" * 50  # 200 characters of whatever the booker typed
    sms = accept(station, "2026-03-10 12:00", recipient="13700000889", params={**PARAMS, "title": title})
    cap = NotifyPolicy().sms_param_max_chars
    assert title[:cap - 1] + "…" in sms.body and title[:cap] not in sms.body
    assert sms.segments <= 2
    email = accept(station, "2026-03-10 12:00", channel="email", recipient="long@example.org",
                   params={**PARAMS, "title": title})
    assert title in email.body
    shorter = accept(station, "2026-03-10 12:00", recipient="13700000889", params={**PARAMS, "title": title},
                     policy=replace(NotifyPolicy(), sms_param_max_chars=5))
    assert "免费领取…" in shorter.body
    assert NotifyPolicy.from_env({"NOTIFY_SMS_PARAM_MAX_CHARS": "12"}).sms_param_max_chars == 12


def test_a_subject_never_holds_a_line_break(station):
    email = accept(station, "2026-03-10 12:00", channel="email", recipient="crlf@example.org",
                   params={**PARAMS, "title": "党课\r\nBcc: everyone@example.org"})
    assert "\r" not in email.subject and "\n" not in email.subject and "Bcc" in email.subject


def test_another_callers_idempotency_key_is_a_key_of_its_own(station):
    client = station.client("notify")
    body = {"channel": "sms", "recipient": "13700000101", "template": "booking_approved", "params": PARAMS,
            "idempotency_key": "shared-key-1"}
    first = client.post("/messages", json=body, headers=auth("system", sub="community-a"))
    again = client.post("/messages", json=body, headers=auth("system", sub="community-a"))
    other = client.post("/messages", json={**body, "recipient": "13700000102"},
                        headers=auth("system", sub="community-b"))
    staff = client.post("/messages", json={**body, "recipient": "13700000103"}, headers=auth("staff"))
    assert first.status_code == again.status_code == other.status_code == staff.status_code == 202
    assert again.json["id"] == first.json["id"]
    assert len({first.json["id"], other.json["id"], staff.json["id"]}) == 3
    assert other.json["recipient"] == "+8613700000102" and staff.json["recipient"] == "+8613700000103"
    # A task with the same key is another poster again.
    with station.database("notify").transaction() as session:
        task_message, created = messages.accept_message(session, {**body, "v": 1, "recipient": "13700000104"},
                                                        NotifyPolicy(), station_time("2026-03-10 12:00"))
        assert created and task_message.id not in (first.json["id"], other.json["id"])


def test_a_system_sees_only_the_messages_it_posted_and_staff_see_all(station):
    client = station.client("notify")
    posted = client.post("/messages", headers=auth("system", sub="community-c"), json={
        "channel": "sms", "recipient": "13700000105", "template": "booking_approved", "params": PARAMS,
        "idempotency_key": "visible-1"}).json
    path = f"/messages/{posted['id']}"
    assert client.get(path, headers=auth("system", sub="community-c")).status_code == 200
    assert client.get(path, headers=auth("system", sub="community-d")).status_code == 404
    assert client.get(path, headers=auth("staff")).json["recipient"] == "+8613700000105"
    assert client.get("/messages?recipient=13700000105", headers=auth("system", sub="community-c")).status_code == 403
    found = client.get("/messages?recipient=137-0000-0105", headers=auth("staff")).json["items"]
    assert [m["id"] for m in found] == [posted["id"]]


@pytest.mark.parametrize("text", ["{title:>100000}", "{title:d}", "{title:{0}}", "{title.upper}", "{title[0]}",
                                  "{title!r}", "{}", "{0}", "{title"])
def test_a_template_with_anything_but_plain_placeholders_is_refused(station, text):
    response = station.client("notify").put("/templates/hostile_demo", headers=auth("admin"),
                                            json={"locale": "en", "sms_body": f"[Yizhan] {text} done."})
    assert response.status_code == 422, response.json
    assert "sms_body" in response.json["error"]["fields"]
    with station.database("notify").reader() as session:
        assert session.scalar(select(Template).where(Template.key == "hostile_demo")) is None


def test_a_template_whose_sms_would_be_too_long_is_refused(station):
    client = station.client("notify")
    five_placeholders = "【驿站】" + "".join(f"{{p{n}}}" for n in range(5))
    fits = client.put("/templates/long_demo", headers=auth("admin"),
                      json={"sms_body": five_placeholders + "驿" * (300 - 4 - 5 * 30)})
    assert fits.status_code == 200, fits.json
    too_long = client.put("/templates/long_demo", headers=auth("admin"),
                          json={"sms_body": five_placeholders + "驿" * (301 - 4 - 5 * 30)})
    assert too_long.status_code == 422 and "sms_body" in too_long.json["error"]["fields"]
    assert "5 SMS" in too_long.json["error"]["fields"]["sms_body"][0]  # 301 UCS-2 characters: 67 a part


def test_every_seeded_template_passes_the_length_check():
    policy = NotifyPolicy()
    for (key, locale), texts in TEMPLATES.items():
        check_sms_length(texts.get("sms_body"), policy)
        if texts.get("sms_body"):
            assert sms_segments(longest_sms(texts["sms_body"], policy.sms_param_max_chars)) <= 5, (key, locale)


def test_messages_rows_keep_the_posters_scope(station):
    message = accept(station, "2026-03-10 12:00", recipient="13700000106")
    with station.database("notify").reader() as session:
        assert session.get(Message, message.id).idempotency_scope == messages.TASK_SCOPE


def test_a_long_or_odd_subject_still_gets_a_scope_that_fits():
    from shared.auth import Principal

    assert Principal(sub="community-a", role="system").key_owner == "system:community-a"
    assert Principal(sub="7", role="org", org_id=3).key_owner == "org:3"
    for odd in ("x" * 500, "a\x00b", "\ud800"):
        scope = Principal(sub=odd, role="system").key_owner
        assert len(scope) <= 120 and scope.startswith("system:sha256:")


def test_a_template_stored_before_the_check_is_refused_when_used_not_a_crash(station):
    with station.database("notify").transaction() as session:
        session.add(Template(key="stored_hostile", locale="zh-CN", sms_body="【驿站】{title:>100000}"))
    response = station.client("notify").post("/messages", headers=auth("system"), json={
        "channel": "sms", "recipient": "13700000107", "template": "stored_hostile", "params": {"title": "x"},
        "idempotency_key": "stored-hostile-1"})
    assert response.status_code == 422 and "template" in response.json["error"]["fields"], response.json
