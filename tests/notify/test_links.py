"""A `link` in an SMS: whole when it leads into the station's portal, refused anywhere else."""

from dataclasses import replace

import pytest

from services.notify.domain.templates import check_sms_length, longest_sms, sms_segments
from services.notify.policy import NotifyPolicy
from services.notify.seed import TEMPLATES
from shared.errors import Refused
from tests.conftest import auth
from tests.notify.test_messages import accept

PORTAL = NotifyPolicy().portal_url
DONE = {"errand": "高龄老人补贴申领", "ticket_id": "12"}


def test_a_link_into_the_portal_is_kept_whole_however_long(station):
    link = f"{PORTAL}/errands/1234567890123/follow-up?from=sms"  # longer than the 30-character cap
    sms = accept(station, "2026-03-10 12:00", recipient="13700000871", template="ticket_done",
                 params={**DONE, "link": link})
    assert len(link) > NotifyPolicy().sms_param_max_chars
    assert sms.body.endswith(f"请为本次服务打分: {link}") and sms.params["link"] == link
    english = accept(station, "2026-03-10 12:00", recipient="13700000871", template="ticket_done", locale="en",
                     params={**DONE, "link": link})
    assert english.body.endswith(f"Please rate our service: {link}")


@pytest.mark.parametrize("link", [
    "https://evil.example/errands/12/follow-up",
    f"{PORTAL}.evil.example/errands/12",  # the portal's address as a prefix of another host
    f"{PORTAL}@evil.example/errands/12",
    PORTAL.replace("http://", "https://") + "/errands/12/follow-up",
    f"{PORTAL}/errands/12 点此领取 https://evil.example",
    "免费领取",
])
def test_a_link_anywhere_else_is_refused_by_the_task_and_the_api(station, link):
    with pytest.raises(Refused) as refused:
        accept(station, "2026-03-10 12:00", recipient="13700000872", template="ticket_done",
               params={**DONE, "link": link})
    assert "params" in refused.value.fields
    response = station.client("notify").post("/messages", headers=auth("system"), json={
        "channel": "sms", "recipient": "13700000872", "template": "ticket_done",
        "params": {**DONE, "link": link}, "idempotency_key": f"phish-{link}"})
    assert response.status_code == 422, response.json
    assert "params" in response.json["error"]["fields"]


def test_the_portal_address_comes_from_yizhan_portal_url(station):
    policy = replace(NotifyPolicy.from_env({"YIZHAN_PORTAL_URL": "https://yizhan.example.cn/"}))
    assert policy.portal_url == "https://yizhan.example.cn/"
    sms = accept(station, "2026-03-10 12:00", recipient="13700000873", template="ticket_done", policy=policy,
                 params={**DONE, "link": "https://yizhan.example.cn/errands/12/follow-up"})
    assert sms.body.endswith("https://yizhan.example.cn/errands/12/follow-up")
    with pytest.raises(Refused):
        accept(station, "2026-03-10 12:00", recipient="13700000873", template="ticket_done", policy=policy,
               params={**DONE, "link": f"{PORTAL}/errands/12/follow-up"})


def test_the_done_template_with_its_link_still_fits_the_length_rule():
    policy = NotifyPolicy()
    for locale in ("zh-CN", "en"):
        body = TEMPLATES[("ticket_done", locale)]["sms_body"]
        assert "{link}" in body
        check_sms_length(body, policy)
        assert sms_segments(longest_sms(body, policy.sms_param_max_chars, policy.portal_url)) <= 5
