"""Whose a ticket is: its idempotency key is scoped by who opened it, and a resident sees a ticket
only when their whole identity (role and subject) opened it (issue 11, section 2)."""

import json

from tests.conftest import auth

RESIDENT_A = {"name": "甲居民", "phone": "13800000701", "email": "a-resident@example.org"}
RESIDENT_B = {"name": "乙居民", "phone": "13800000702"}


def open_as(station, role, sub, resident, key=None, summary="咨询 Question"):
    body = {"type": "consultation", "summary": summary, "resident": resident}
    if key:
        body["idempotency_key"] = key
    return station.client("desk").post("/tickets", json=body, headers=auth(role, sub=sub))


def read_as(station, role, sub, ticket_id):
    return station.client("desk").get(f"/tickets/{ticket_id}", headers=auth(role, sub=sub))


def test_a_resident_reusing_another_residents_key_gets_a_ticket_of_their_own(station):
    first = open_as(station, "resident", "resident-a", RESIDENT_A, key="my-errand-1", summary="甲的私事 A's matter")
    second = open_as(station, "resident", "resident-b", RESIDENT_B, key="my-errand-1", summary="乙 B")
    assert first.status_code == second.status_code == 201
    assert second.json["id"] != first.json["id"]
    shown = json.dumps(second.json, ensure_ascii=False)
    for secret in ("甲居民", "a-resident@example.org", "甲的私事", "0701"):
        assert secret not in shown
    assert open_as(station, "resident", "resident-a", RESIDENT_A, key="my-errand-1").json["id"] == first.json["id"]


def test_staff_and_a_resident_with_the_same_subject_do_not_share_keys(station):
    by_staff = open_as(station, "staff", "zhang", RESIDENT_A, key="counter-zhang-1")
    by_resident = open_as(station, "resident", "zhang", RESIDENT_B, key="counter-zhang-1")
    assert by_staff.json["id"] != by_resident.json["id"]


def test_one_owner_reusing_a_key_for_another_resident_is_refused(station):
    assert open_as(station, "staff", "zhao", RESIDENT_A, key="counter-zhao-1").status_code == 201
    reused = open_as(station, "staff", "zhao", RESIDENT_B, key="counter-zhao-1")
    assert reused.status_code == 409 and "idempotency_key" in reused.json["error"]["fields"]
    assert "甲居民" not in reused.get_data(as_text=True) and "0701" not in reused.get_data(as_text=True)


def test_a_resident_whose_subject_equals_a_staff_members_cannot_read_the_staff_members_tickets(station):
    ticket = open_as(station, "staff", "liu", RESIDENT_A).json
    assert read_as(station, "resident", "liu", ticket["id"]).status_code == 403
    assert read_as(station, "staff", "liu", ticket["id"]).status_code == 200


def test_a_resident_reads_their_own_ticket(station):
    ticket = open_as(station, "resident", "resident-c", RESIDENT_B).json
    assert read_as(station, "resident", "resident-c", ticket["id"]).status_code == 200
    assert read_as(station, "resident", "resident-d", ticket["id"]).status_code == 403
