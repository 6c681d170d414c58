"""An admin previews a template edit with sample values and its SMS segment count, rendered by the
same code that sends it, then saves it with PATCH; an edit whose placeholders its senders do not
fill is refused."""

import pytest

from services.notify.domain.templates import render
from tests.conftest import auth

APPROVED_ZH = "【驿站】您预约的{venue}({start})“{title}”已通过审核,请按时到场签到。预约号{booking_id}。"


def preview(station, key="booking_approved", role="admin", **body):
    return station.client("notify").post(f"/templates/{key}/preview", json=body, headers=auth(role))


def test_the_preview_renders_the_typed_text_with_sample_values_and_counts_ucs2_segments(station):
    answer = preview(station, sms_body="【驿站】{venue}的“{title}”已通过。预约号{booking_id},{start}见。")
    assert answer.status_code == 200, answer.json
    assert answer.json["sms_body"] == "【驿站】党群会议室的“支部主题党日”已通过。预约号1024,12月7日 14:00见。"
    assert answer.json["sms_encoding"] == "UCS-2"
    assert answer.json["sms_chars"] == len(answer.json["sms_body"]) and answer.json["sms_segments"] == 1
    assert answer.json["placeholders"] == ["booking_id", "start", "title", "venue"]


def test_a_longer_chinese_text_costs_67_characters_a_part(station):
    filler = "请" * 60
    answer = preview(station, sms_body=APPROVED_ZH + filler).json
    assert answer["sms_chars"] > 70 and answer["sms_segments"] == -(-answer["sms_chars"] // 67)


def test_an_english_text_is_gsm7_at_160_and_153_a_part(station):
    # Notify's GSM-7 set is the basic one: "[" and "]" (an escape each) already make a text UCS-2.
    body = "Yizhan: {title} at {venue}, {start}, is approved. Ref {booking_id}."
    short = preview(station, locale="en", sms_body=body).json
    assert short["sms_encoding"] == "GSM-7" and short["sms_segments"] == 1
    long = preview(station, locale="en", sms_body=body + " Please" * 20).json
    assert long["sms_chars"] > 160 and long["sms_segments"] == -(-long["sms_chars"] // 153)


def test_the_preview_is_what_sending_renders(station):
    from services.notify.models import Template

    answer = preview(station).json
    template = Template(key="booking_approved", locale="zh-CN", sms_body=APPROVED_ZH)
    sent = render(template, "sms", answer["sample_values"], 30, "http://127.0.0.1:8080")["body"]
    assert answer["sms_body"] == sent


# Dropped from every text: the senders' booking_id would be an unknown value, and render refuses those.
WITHOUT_BOOKING_ID = {"sms_body": APPROVED_ZH.replace("{booking_id}", ""), "email_subject": "预约已通过",
                      "email_body": "{title} {venue} {start}", "email_html": None}


@pytest.mark.parametrize("texts, problem", [
    ({"sms_body": APPROVED_ZH + "{secret}"}, "unknown: {secret}"),
    (WITHOUT_BOOKING_ID, "no longer used: {booking_id}"),
])
def test_a_placeholder_the_senders_do_not_fill_is_refused_in_the_preview_and_the_save(station, texts, problem):
    previewed = preview(station, **texts)
    assert previewed.status_code == 422 and previewed.json["error"]["code"] == "template_placeholders"
    assert problem in " ".join(sum(previewed.json["error"]["fields"].values(), []))
    saved = station.client("notify").patch("/templates/booking_approved", json=texts, headers=auth("admin"))
    assert saved.status_code == 422 and saved.json["error"]["code"] == "template_placeholders"


def test_a_too_long_or_malformed_text_is_refused_as_a_save_would_be(station):
    too_long = preview(station, sms_body=APPROVED_ZH + "长" * 280)
    assert too_long.status_code == 422 and "sms_body" in too_long.json["error"]["fields"]
    bad = preview(station, sms_body=APPROVED_ZH + "{venue:>99}")
    assert bad.status_code == 422 and "sms_body" in bad.json["error"]["fields"]


def test_an_admin_saves_an_edit_and_only_the_fields_sent_change(station):
    client = station.client("notify")
    before = next(t for t in client.get("/templates?per_page=100", headers=auth("admin")).json["items"]
                  if t["key"] == "booking_cancelled" and t["locale"] == "en")
    text = "[Yizhan] Cancelled: {title} at {venue}, {start}. Ref {booking_id}."
    saved = client.patch("/templates/booking_cancelled", json={"locale": "en", "sms_body": text}, headers=auth("admin"))
    assert saved.status_code == 200, saved.json
    assert saved.json["sms_body"] == text and saved.json["email_body"] == before["email_body"]
    assert saved.json["sms_segments"] == 1


def test_an_unknown_template_is_a_404_and_bad_input_a_422(station):
    client = station.client("notify")
    assert preview(station, key="no_such_template", sms_body="x").status_code == 404
    assert client.patch("/templates/no_such_template", json={"sms_body": "x"}, headers=auth("admin")).status_code == 404
    assert preview(station, locale="fr", sms_body="x").status_code == 422
    assert client.patch("/templates/booking_approved", json={"surprise": 1}, headers=auth("admin")).status_code == 422


@pytest.mark.parametrize("role", ["staff", "system", "resident"])
def test_only_an_admin_previews_or_edits_a_template(station, role):
    client = station.client("notify")
    assert preview(station, role=role, sms_body=APPROVED_ZH).status_code == 403
    assert client.patch("/templates/booking_approved", json={"sms_body": APPROVED_ZH},
                        headers=auth(role)).status_code == 403


def test_the_new_endpoints_are_in_the_openapi_document(station):
    paths = station.client("notify").get("/openapi.json").json["paths"]
    assert "patch" in paths["/templates/{key}"] and "post" in paths["/templates/{key}/preview"]


def test_a_saved_edit_is_in_the_audit_log_with_the_text_before_and_after(station):
    client = station.client("notify")
    before = next(t for t in client.get("/templates?per_page=100", headers=auth("admin")).json["items"]
                  if t["key"] == "booking_reminder" and t["locale"] == "zh-CN")
    text = before["sms_body"].replace("提醒", "温馨提醒")
    saved = client.patch("/templates/booking_reminder", json={"sms_body": text}, headers=auth("admin", sub="portal:7"))
    assert saved.status_code == 200, saved.json
    log = client.get("/audit-log?subject=template:booking_reminder:zh-CN", headers=auth("admin")).json["items"]
    assert log[0]["action"] == "template.update" and log[0]["actor"] == "admin:portal:7"
    assert log[0]["changes"] == {"sms_body": [before["sms_body"], text]}
