"""Staff give an organisation more contact phones; the portal's sign-in lookup finds them."""

import pytest

from tests.conftest import auth


def add(station, organization_id, phone, role="staff", org=None):
    return station.client("booking").post(f"/organizations/{organization_id}/contact-phones", json={"phone": phone},
                                          headers=auth(role, org))


def lookup(station, phone) -> list[int]:
    answer = station.client("booking").get("/organizations", query_string={"contact_phone": phone},
                                           headers=auth("system"))
    assert answer.status_code == 200, answer.json
    return [o["id"] for o in answer.json["items"]]


def test_staff_add_a_phone_that_the_sign_in_lookup_then_finds_and_remove_it(station):
    assert lookup(station, "13900001301") == []
    added = add(station, 1, "139 0000 1301")
    assert added.status_code == 201, added.json
    assert added.json["phone"] == "+8613900001301" and added.json["created_by"] == "test-staff"
    for written in ("13900001301", "+86 139-0000-1301"):
        assert lookup(station, written) == [1]
    listed = station.client("booking").get("/organizations/1/contact-phones", headers=auth("admin"))
    assert [p["phone"] for p in listed.json["items"]] == ["+8613900001301"]
    assert lookup(station, "13800000001") == [1]  # the organisation's own contact still signs in
    removed = station.client("booking").delete("/organizations/1/contact-phones/13900001301", headers=auth("staff"))
    assert removed.status_code == 204
    assert lookup(station, "13900001301") == []
    again = station.client("booking").delete("/organizations/1/contact-phones/13900001301", headers=auth("staff"))
    assert again.status_code == 404


def test_a_phone_already_a_contact_of_another_organisation_is_refused(station):
    assert add(station, 2, "13900001302").status_code == 201
    for phone in ("13800000002",  # organisation 2's own contact
                  "13900001302"):  # organisation 2's extra phone
        refused = add(station, 1, phone)
        assert refused.status_code == 409, refused.json
        assert "phone" in refused.json["error"]["fields"]
        assert lookup(station, phone) == [2]
    assert add(station, 2, "+8613900001302").status_code == 409  # nor twice to the same one


@pytest.mark.parametrize("phone", ["12345", "not a phone", "02066668888", "+1 202 555 0100", ""])
def test_anything_but_a_mainland_mobile_is_refused_next_to_its_field(station, phone):
    refused = add(station, 1, phone)
    assert refused.status_code == 422 and "phone" in refused.json["error"]["fields"], refused.json
    gone = station.client("booking").delete(f"/organizations/1/contact-phones/{phone or 'x'}", headers=auth("staff"))
    assert gone.status_code == 422


@pytest.mark.parametrize("role, org", [("org", 1), ("org", 2), ("resident", None), ("system", None)])
def test_only_staff_add_or_remove_phones(station, role, org):
    assert add(station, 1, "13900001303", role, org).status_code == 403
    assert lookup(station, "13900001303") == []
    assert station.client("booking").delete("/organizations/1/contact-phones/13900001303",
                                            headers=auth(role, org)).status_code == 403


def test_an_unknown_organisation_gets_no_phone(station):
    assert add(station, 999_999, "13900001304").status_code == 404
