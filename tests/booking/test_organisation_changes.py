"""Staff change an organisation (issue 13): edit its record, adjust its credit by hand with a
reason, lift a suspension with a reason; each change goes into the ledger with who made it."""

import itertools
from datetime import timedelta

import pytest
from sqlalchemy import select

from services.booking.domain import integrity
from services.booking.models import CreditEvent, Organization
from shared.db import utcnow
from shared.errors import Refused
from tests.booking.conftest import BookingDesk, station_time
from tests.booking.test_integrity import no_show
from tests.booking.test_integrity import standing as standing_at
from tests.conftest import auth

WRONG_ROLES = [("org", 1), ("resident", None), ("system", None)]
_numbers = itertools.count(1340)


def new_organization(station, name: str, phone: str) -> int:
    answer = station.client("booking").post("/organizations", headers=auth("staff"), json={
        "name": name, "kind": "social_group", "contact": {"name": "吴芬", "phone": phone, "email": None}})
    assert answer.status_code == 201, answer.json
    return answer.json["id"]


def patch(station, organization_id, body, role="staff", org=None):
    return station.client("booking").patch(f"/organizations/{organization_id}", json=body, headers=auth(role, org))


def adjust(station, organization_id, body, role="staff", org=None):
    return station.client("booking").post(f"/organizations/{organization_id}/credit-adjustments", json=body,
                                          headers=auth(role, org))


def lift(station, organization_id, body, role="staff", org=None):
    return station.client("booking").post(f"/organizations/{organization_id}/lift-suspension", json=body,
                                          headers=auth(role, org))


def ledger(station, organization_id) -> list[dict]:
    answer = station.client("booking").get(f"/organizations/{organization_id}/credit-events", headers=auth("staff"))
    return answer.json["items"]


def standing(station, organization_id) -> dict:
    return station.client("booking").get(f"/organizations/{organization_id}", headers=auth("staff")).json


def suspend(station, organization_id, days: int = 30) -> None:
    """A suspension as the third violation leaves one (integrity.record_violation), now."""
    with station.database("booking").transaction() as session:
        now = utcnow()
        session.add(CreditEvent(organization_id=organization_id, kind="suspension", points=0, at=now,
                                suspended_until=now + timedelta(days=days), note="3 violations in 90 days"))


# --- edit -------------------------------------------------------------------------------------

def test_staff_edit_the_name_kind_and_contact_and_the_rest_stays(station):
    organization_id = new_organization(station, "垦家大院读书会", "13800001301")
    answer = patch(station, organization_id, {"name": "垦家大院读书社", "name_en": "Kenjia reading club", "kind": "unit",
                                              "contact": {"name": "黄春梅", "phone": "139 0000 1305"}})
    assert answer.status_code == 200, answer.json
    assert (answer.json["name"], answer.json["name_en"], answer.json["kind"]) == ("垦家大院读书社", "Kenjia reading club", "unit")
    assert answer.json["contact"] == {"name": "黄春梅", "phone": "13900001305", "email": None}
    assert answer.json["credit_score"] == 100
    only_email = patch(station, organization_id, {"contact": {"email": "reading@example.org"}})
    assert only_email.json["contact"] == {"name": "黄春梅", "phone": "13900001305", "email": "reading@example.org"}
    assert only_email.json["name"] == "垦家大院读书社"
    # The new contact phone signs in for it; the old one no longer does.
    found = station.client("booking").get("/organizations", query_string={"contact_phone": "13900001305"},
                                          headers=auth("system"))
    assert [o["id"] for o in found.json["items"]] == [organization_id]
    gone = station.client("booking").get("/organizations", query_string={"contact_phone": "13800001301"},
                                         headers=auth("system"))
    assert gone.json["items"] == []


@pytest.mark.parametrize("body, field", [
    ({}, "_schema"),
    ({"name": ""}, "name"),
    ({"name": "   "}, "name"),
    ({"name": "x" * 201}, "name"),
    ({"kind": "club"}, "kind"),
    ({"contact": {"phone": "12345"}}, "contact"),
    ({"contact": {"phone": "02066668888"}}, "contact"),
    ({"contact": {"name": ""}}, "contact"),
    ({"contact": {"email": "not an address"}}, "contact"),
    ({"credit_score": 100}, "credit_score"),
])
def test_a_bad_edit_is_refused_naming_its_field(station, body, field):
    answer = patch(station, 1, body)
    assert answer.status_code == 422, answer.json
    assert field in answer.json["error"]["fields"], answer.json


def test_an_edit_may_not_take_another_organisations_name_or_phone(station):
    first = new_organization(station, "垦家大院门球协会", "13800001302")
    second = new_organization(station, "垦家大院太极队", "13800001303")
    assert station.client("booking").post(f"/organizations/{second}/contact-phones", json={"phone": "13900001306"},
                                          headers=auth("staff")).status_code == 201
    taken = patch(station, first, {"name": "垦家大院太极队"})
    assert taken.status_code == 409 and "name" in taken.json["error"]["fields"]
    for phone in ("13800001303", "+86 139 0000 1306"):
        refused = patch(station, first, {"contact": {"phone": phone}})
        assert refused.status_code == 409 and "phone" in refused.json["error"]["fields"]["contact"], refused.json
    assert patch(station, first, {"name": "垦家大院门球协会", "contact": {"phone": "13800001302"}}).status_code == 200


@pytest.mark.parametrize("role, org", WRONG_ROLES)
def test_only_staff_edit_an_organisation(station, role, org):
    assert patch(station, 1, {"name_en": "changed"}, role, org).status_code == 403
    assert standing(station, 1)["name_en"] != "changed"


def test_an_unknown_organisation_cannot_be_edited(station):
    assert patch(station, 999_999, {"name_en": "nobody"}).status_code == 404


def test_staff_find_organisations_by_part_of_their_name(station):
    new_organization(station, "垦家大院合唱团", "13800001304")
    client = station.client("booking")
    found = client.get("/organizations", query_string={"name": "合唱"}, headers=auth("staff")).json
    assert [o["name"] for o in found["items"]] == ["垦家大院合唱团"] and found["total"] == 1
    assert client.get("/organizations", query_string={"name": "%"}, headers=auth("staff")).json["items"] == []
    assert client.get("/organizations", query_string={"name": "合唱"}, headers=auth("system")).status_code == 403


# --- credit adjustments -----------------------------------------------------------------------

def test_a_manual_adjustment_changes_the_score_and_is_in_the_ledger_with_who_and_why(station):
    organization_id = new_organization(station, "垦家大院舞蹈队", "13800001311")
    taken = adjust(station, organization_id, {"points": -10, "reason": "损坏音响 Broke the speakers"})
    assert taken.status_code == 201, taken.json
    assert (taken.json["kind"], taken.json["points"]) == ("adjustment", -10)
    assert taken.json["note"] == "损坏音响 Broke the speakers" and taken.json["recorded_by"] == "test-staff"
    assert standing(station, organization_id)["credit_score"] == 90
    given = adjust(station, organization_id, {"points": 4, "reason": "义务打扫广场 Swept the square"}, role="admin")
    assert given.status_code == 201 and given.json["recorded_by"] == "test-admin"
    assert standing(station, organization_id)["credit_score"] == 94
    assert [(e["kind"], e["points"], e["recorded_by"]) for e in ledger(station, organization_id)] == [
        ("adjustment", 4, "test-admin"), ("adjustment", -10, "test-staff")]


def test_an_adjustment_keeps_the_score_between_zero_and_the_start_score(station):
    organization_id = new_organization(station, "垦家大院象棋社", "13800001312")
    above = adjust(station, organization_id, {"points": 1, "reason": "好"})
    assert above.status_code == 422 and "points" in above.json["error"]["fields"], above.json
    assert adjust(station, organization_id, {"points": -100, "reason": "全扣"}).status_code == 201
    below = adjust(station, organization_id, {"points": -1, "reason": "再扣"})
    assert below.status_code == 422 and "points" in below.json["error"]["fields"]
    assert standing(station, organization_id)["credit_score"] == 0


@pytest.mark.parametrize("body, field", [
    ({"reason": "没有分数"}, "points"),
    ({"points": 0, "reason": "零分"}, "points"),
    ({"points": "-10", "reason": "文字"}, "points"),
    ({"points": 1.5, "reason": "小数"}, "points"),
    ({"points": -101, "reason": "太多"}, "points"),
    ({"points": -10}, "reason"),
    ({"points": -10, "reason": ""}, "reason"),
    ({"points": -10, "reason": "  "}, "reason"),
    ({"points": -10, "reason": "x" * 501}, "reason"),
])
def test_an_adjustment_needs_whole_points_and_a_reason(station, body, field):
    answer = adjust(station, 1, body)
    assert answer.status_code == 422 and field in answer.json["error"]["fields"], answer.json


@pytest.mark.parametrize("role, org", WRONG_ROLES)
def test_only_staff_adjust_credit(station, role, org):
    before = standing(station, 1)["credit_score"]
    assert adjust(station, 1, {"points": -5, "reason": "自己扣"}, role, org).status_code == 403
    assert standing(station, 1)["credit_score"] == before


def test_an_unknown_organisation_has_no_credit_to_adjust(station):
    assert adjust(station, 999_999, {"points": -5, "reason": "没有"}).status_code == 404


# --- lifting a suspension ---------------------------------------------------------------------

def test_staff_lift_a_suspension_with_a_reason_and_it_is_in_the_ledger(station):
    organization_id = new_organization(station, "垦家大院志愿队", "13800001321")
    suspend(station, organization_id)
    assert standing(station, organization_id)["suspended_until"] is not None
    lifted = lift(station, organization_id, {"reason": "已当面说明情况 Explained in person"})
    assert lifted.status_code == 201, lifted.json
    assert (lifted.json["kind"], lifted.json["points"], lifted.json["recorded_by"]) == ("suspension_lifted", 0, "test-staff")
    assert lifted.json["note"] == "已当面说明情况 Explained in person"
    after = standing(station, organization_id)
    assert after["suspended_until"] is None and after["recent_violations"] == 0
    assert [e["kind"] for e in ledger(station, organization_id)] == ["suspension_lifted", "suspension"]
    again = lift(station, organization_id, {"reason": "再来一次"})
    assert again.status_code == 409 and again.json["error"]["code"] == "not_suspended"


def test_an_organisation_lifted_out_of_suspension_may_book_again(station):
    desk = BookingDesk(station)
    organization_id = desk.new_organization("垦家大院篮球队")
    suspend(station, organization_id)
    with station.database("booking").reader() as session:
        organization = session.get(Organization, organization_id)
        with pytest.raises(Refused):
            integrity.refuse_if_suspended(session, organization, utcnow())
    assert lift(station, organization_id, {"reason": "误判 A mistake"}).status_code == 201
    with station.database("booking").reader() as session:
        integrity.refuse_if_suspended(session, session.get(Organization, organization_id), utcnow())
    suspend(station, organization_id)  # a later suspension holds again
    assert standing(station, organization_id)["suspended_until"] is not None


@pytest.mark.parametrize("body", [{}, {"reason": ""}, {"reason": " "}, {"reason": "x" * 501}])
def test_lifting_needs_a_reason(station, body):
    n = next(_numbers)
    organization_id = new_organization(station, f"垦家大院读报组{n}", f"1380000{n:04d}")
    suspend(station, organization_id)
    answer = lift(station, organization_id, body)
    assert answer.status_code == 422 and "reason" in answer.json["error"]["fields"], answer.json
    assert standing(station, organization_id)["suspended_until"] is not None


@pytest.mark.parametrize("role, org", WRONG_ROLES)
def test_only_staff_lift_a_suspension(station, role, org):
    assert lift(station, 1, {"reason": "自己解"}, role, org).status_code == 403


def test_an_unknown_organisation_has_no_suspension_to_lift(station):
    assert lift(station, 999_999, {"reason": "没有"}).status_code == 404


def test_the_new_endpoints_are_in_the_openapi_document(station):
    paths = station.client("booking").get("/openapi.json").json["paths"]
    assert "patch" in paths["/organizations/{organization_id}"]
    assert "post" in paths["/organizations/{organization_id}/credit-adjustments"]
    assert "post" in paths["/organizations/{organization_id}/lift-suspension"]
    assert "name" in [p["name"] for p in paths["/organizations"]["get"]["parameters"]]


def test_the_ledger_keeps_who_made_each_change_in_the_database(station):
    organization_id = new_organization(station, "垦家大院摄影社", "13800001391")
    adjust(station, organization_id, {"points": -3, "reason": "迟还钥匙"})
    with station.database("booking").reader() as session:
        event = session.scalar(select(CreditEvent).where(CreditEvent.organization_id == organization_id))
        assert (event.recorded_by, event.note, event.points) == ("test-staff", "迟还钥匙", -3)


def test_after_a_lift_the_violations_before_it_no_longer_count_towards_the_next_suspension(desk):
    for day in (10, 11, 12):
        no_show(desk, f"2026-03-{day} 09:00")
    assert standing_at(desk, "2026-03-13 10:00")["suspended_until"] is not None
    with desk.database.transaction() as session:
        integrity.lift_suspension(session, session.get(Organization, desk.organization_id), "误判 A mistake",
                                  "wang.fang", station_time("2026-03-13 10:00"))
    assert standing_at(desk, "2026-03-13 11:00") == {"credit_score": 70, "suspended_until": None, "recent_violations": 0}
    no_show(desk, "2026-03-20 09:00")
    assert standing_at(desk, "2026-03-21 10:00") == {"credit_score": 60, "suspended_until": None, "recent_violations": 1}


# --- the audit log ----------------------------------------------------------------------------

def audit(station, organization_id) -> list[tuple]:
    answer = station.client("booking").get("/audit-log", query_string={"subject": f"organization:{organization_id}",
                                                                       "per_page": 50}, headers=auth("admin"))
    assert answer.status_code == 200, answer.json
    return [(e["actor"], e["action"], e["changes"], e["reason"]) for e in reversed(answer.json["items"])]


def test_every_staff_change_to_an_organisation_is_in_the_audit_log(station):
    organization_id = new_organization(station, "垦家大院书画社", "13800001401")
    patch(station, organization_id, {"name_en": "Kenjia painters", "contact": {"phone": "13800001402"}})
    patch(station, organization_id, {"name_en": "Kenjia painters"})  # nothing changed: no entry
    client = station.client("booking")
    client.post(f"/organizations/{organization_id}/contact-phones", json={"phone": "13900001403"}, headers=auth("staff"))
    client.delete(f"/organizations/{organization_id}/contact-phones/13900001403", headers=auth("admin"))
    adjust(station, organization_id, {"points": -10, "reason": "损坏音响"})
    suspend(station, organization_id)
    lifted = lift(station, organization_id, {"reason": "当面说明"}).json
    entries = audit(station, organization_id)
    assert [(actor, action) for actor, action, _, _ in entries] == [
        ("staff:test-staff", "organization.create"), ("staff:test-staff", "organization.update"),
        ("staff:test-staff", "organization.contact_phone_add"), ("admin:test-admin", "organization.contact_phone_remove"),
        ("staff:test-staff", "credit.adjust"), ("staff:test-staff", "credit.lift_suspension")]
    created, updated, added, removed, adjusted, lifted_entry = entries
    assert created[2]["name"] == [None, "垦家大院书画社"] and created[2]["contact_phone"] == [None, "13800001401"]
    assert updated[2] == {"name_en": ["", "Kenjia painters"], "contact_phone": ["13800001401", "13800001402"]}
    assert added[2] == {"contact_phones": [[], ["+8613900001403"]]}
    assert removed[2] == {"contact_phones": [["+8613900001403"], []]}
    assert adjusted[2] == {"credit_score": [100, 90]} and adjusted[3] == "损坏音响"
    assert lifted_entry[2]["suspended_until"][1] is None and lifted_entry[2]["suspended_until"][0]
    assert lifted_entry[3] == "当面说明" and lifted["kind"] == "suspension_lifted"


def test_a_refused_change_leaves_no_audit_entry(station):
    organization_id = new_organization(station, "垦家大院花艺社", "13800001411")
    assert adjust(station, organization_id, {"points": 5, "reason": "超过满分"}).status_code == 422
    assert lift(station, organization_id, {"reason": "没有暂停"}).status_code == 409
    assert patch(station, organization_id, {"name": "华垦社区党支部"}).status_code == 409
    assert [action for _, action, _, _ in audit(station, organization_id)] == ["organization.create"]
