"""An idempotency key is the client's own: another caller's equal key makes a new booking and
never returns the first caller's data (issue 11, section 2)."""

import json

from tests.conftest import auth, make_booking

FIRST_ORGANISATION = {"title": "支部委员会 Branch committee (org 1 only)",
                      "contact": {"name": "私密联系人", "phone": "13700001111", "email": "secret-contact@example.org"}}


def post(station, body, role, org=None, sub=None):
    return station.client("booking").post("/bookings", json=body, headers=auth(role, org, sub=sub or f"test-{role}"))


def test_another_organisation_reusing_a_key_gets_its_own_booking_and_none_of_the_first(station):
    key = "shared-key-2026-001"
    first = post(station, make_booking(organization_id=1, idempotency_key=key, **FIRST_ORGANISATION), "org", 1)
    assert first.status_code == 201
    second = post(station, make_booking(organization_id=2, idempotency_key=key, title="门球赛 Gateball"), "org", 2)
    assert second.status_code == 201, second.json
    assert second.json["id"] != first.json["id"] and second.json["organization_id"] == 2
    shown = json.dumps(second.json, ensure_ascii=False)
    for secret in ("私密联系人", "13700001111", "secret-contact@example.org", "Branch committee"):
        assert secret not in shown
    again = post(station, make_booking(organization_id=1, idempotency_key=key), "org", 1)
    assert again.json["id"] == first.json["id"]  # the first organisation's retry still finds its own


def test_an_organisation_is_one_owner_whichever_of_its_tokens_retries(station):
    body = make_booking(organization_id=2, idempotency_key="org-two-retry")
    first, again = post(station, body, "org", 2, sub="clerk-a"), post(station, body, "org", 2, sub="clerk-b")
    assert first.json["id"] == again.json["id"]


def test_staff_and_systems_own_their_keys_by_role_and_subject(station):
    key = "desk-entered-7"
    by_staff = post(station, make_booking(idempotency_key=key), "staff", sub="li")
    by_other_staff = post(station, make_booking(idempotency_key=key), "staff", sub="wang")
    by_system = post(station, make_booking(idempotency_key=key), "system", sub="li")
    assert len({by_staff.json["id"], by_other_staff.json["id"], by_system.json["id"]}) == 3
    assert post(station, make_booking(idempotency_key=key), "staff", sub="li").json["id"] == by_staff.json["id"]
