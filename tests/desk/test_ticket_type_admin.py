"""An admin adds an errand type (POST /ticket-types) and changes some of its fields
(PATCH /ticket-types/{code}); staff and residents may only read the list."""

import uuid

import pytest

from tests.conftest import auth


def new_type(**changes) -> dict:
    return {"code": f"t_{uuid.uuid4().hex[:8]}", "name_zh": "残疾人证办理", "name_en": "Disability card",
            "documents_zh": ["身份证", "户口簿"], "documents_en": ["ID card", "Household register"],
            "limit_working_days": 10, **changes}


def test_an_admin_adds_an_errand_type_and_the_counter_can_use_it(station):
    client = station.client("desk")
    body = new_type()
    created = client.post("/ticket-types", json=body, headers=auth("admin"))
    assert created.status_code == 201, created.json
    assert created.json == {**body, "active": True}
    listed = client.get("/ticket-types?per_page=100", headers=auth("resident")).json["items"]
    assert body["code"] in [t["code"] for t in listed]
    ticket = client.post("/tickets", headers=auth("staff"), json={
        "type": body["code"], "summary": "办证", "details": "", "resident": {"name": "王秀英", "phone": "13812345678"}})
    assert ticket.status_code == 201, ticket.json


def test_a_taken_code_is_a_409(station):
    client = station.client("desk")
    answer = client.post("/ticket-types", json=new_type(code="consultation"), headers=auth("admin"))
    assert answer.status_code == 409 and answer.json["error"]["fields"] == {"code": ["taken"]}


@pytest.mark.parametrize("changes, field", [
    ({"code": "Bad Code"}, "code"),
    ({"limit_working_days": 0}, "limit_working_days"),
    ({"name_zh": ""}, "name_zh"),
    ({"documents_en": ["ID card"]}, "documents_en"),
    ({"surprise": 1}, "surprise"),
])
def test_a_bad_new_type_is_refused_naming_its_field(station, changes, field):
    answer = station.client("desk").post("/ticket-types", json=new_type(**changes), headers=auth("admin"))
    assert answer.status_code == 422 and field in answer.json["error"]["fields"], answer.json


def test_an_admin_changes_only_the_fields_sent_and_can_retire_a_type(station):
    client = station.client("desk")
    body = new_type()
    client.post("/ticket-types", json=body, headers=auth("admin"))
    changed = client.patch(f"/ticket-types/{body['code']}", json={"limit_working_days": 3, "active": False},
                           headers=auth("admin"))
    assert changed.status_code == 200, changed.json
    assert changed.json == {**body, "limit_working_days": 3, "active": False}


def test_a_change_that_leaves_the_checklists_unequal_is_refused(station):
    client = station.client("desk")
    body = new_type()
    client.post("/ticket-types", json=body, headers=auth("admin"))
    answer = client.patch(f"/ticket-types/{body['code']}", json={"documents_zh": ["身份证"]}, headers=auth("admin"))
    assert answer.status_code == 422 and "documents_en" in answer.json["error"]["fields"]
    kept = client.get("/ticket-types?per_page=100", headers=auth("admin")).json["items"]
    assert next(t for t in kept if t["code"] == body["code"])["documents_zh"] == body["documents_zh"]


def test_changing_an_unknown_type_is_a_404_and_bad_values_a_422(station):
    client = station.client("desk")
    assert client.patch("/ticket-types/no_such_type", json={"active": False}, headers=auth("admin")).status_code == 404
    answer = client.patch("/ticket-types/consultation", json={"limit_working_days": "soon"}, headers=auth("admin"))
    assert answer.status_code == 422 and "limit_working_days" in answer.json["error"]["fields"]


@pytest.mark.parametrize("role", ["staff", "resident", "org", "system"])
def test_only_an_admin_adds_or_changes_errand_types(station, role):
    client = station.client("desk")
    headers = auth(role, 1 if role == "org" else None)
    assert client.post("/ticket-types", json=new_type(), headers=headers).status_code == 403
    assert client.patch("/ticket-types/consultation", json={"active": False}, headers=headers).status_code == 403


def test_the_new_endpoints_are_in_the_openapi_document(station):
    paths = station.client("desk").get("/openapi.json").json["paths"]
    assert "post" in paths["/ticket-types"] and "patch" in paths["/ticket-types/{code}"]


def test_each_change_of_an_errand_type_is_in_the_audit_log_with_who_and_what(station):
    client = station.client("desk")
    body = new_type()
    admin = auth("admin", sub="portal:7")
    client.post("/ticket-types", json=body, headers=admin)
    client.patch(f"/ticket-types/{body['code']}", json={"limit_working_days": 3}, headers=admin)
    log = client.get(f"/audit-log?subject=errand_type:{body['code']}", headers=auth("admin")).json["items"]
    assert [(e["action"], e["actor"]) for e in log] == [("errand_type.update", "admin:portal:7"),
                                                        ("errand_type.create", "admin:portal:7")]
    assert log[0]["changes"] == {"limit_working_days": [10, 3]}
    assert log[1]["changes"]["name_zh"] == [None, "残疾人证办理"]
