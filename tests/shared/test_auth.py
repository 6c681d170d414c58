"""Bearer tokens and the roles of SPEC §5."""

import subprocess

import jwt
import pytest

from shared.auth import issue_token
from tests.conftest import TEST_SECRET, auth, make_booking
from tests.processes import BIN


def test_no_token_is_a_401_in_the_error_format(station):
    response = station.client("booking").get("/venues")
    assert response.status_code == 401
    assert response.json["error"]["code"] == "unauthorized"


def test_an_expired_token_is_refused(station):
    response = station.client("booking").get("/venues", headers=auth("staff", ttl=-10))
    assert response.status_code == 401
    assert response.json["error"]["code"] == "token_expired"


def test_a_token_signed_with_another_key_is_refused(station):
    forged = issue_token("another-secret-0123456789abcdef0123", "admin", "mallory")
    response = station.client("booking").get("/venues", headers={"Authorization": f"Bearer {forged}"})
    assert response.status_code == 401
    assert response.json["error"]["code"] == "invalid_token"


def test_a_token_with_an_unknown_role_is_refused(station):
    token = jwt.encode({"sub": "x", "role": "superuser", "exp": 4102444800}, TEST_SECRET, algorithm="HS256")
    assert station.client("booking").get("/venues", headers={"Authorization": f"Bearer {token}"}).status_code == 401


def test_a_resident_cannot_book_for_an_organisation(station):
    response = station.client("booking").post("/bookings", json=make_booking(), headers=auth("resident"))
    assert response.status_code == 403


def test_an_organisation_books_only_for_itself(station):
    response = station.client("booking").post("/bookings", json=make_booking(organization_id=1), headers=auth("org", 2))
    assert response.status_code == 403
    assert station.client("booking").post("/bookings", json=make_booking(organization_id=2),
                                          headers=auth("org", 2)).status_code == 201


def test_an_organisation_sees_only_its_own_bookings(station):
    client = station.client("booking")
    mine = client.post("/bookings", json=make_booking(organization_id=3), headers=auth("org", 3)).json
    theirs = client.post("/bookings", json=make_booking(organization_id=4), headers=auth("org", 4)).json
    assert client.get(f"/bookings/{mine['id']}", headers=auth("org", 3)).status_code == 200
    assert client.get(f"/bookings/{theirs['id']}", headers=auth("org", 3)).status_code == 403
    listed = client.get("/bookings?per_page=100", headers=auth("org", 3)).json["items"]
    assert {b["organization_id"] for b in listed} == {3}


@pytest.mark.parametrize("role", ["resident", "org", "system"])
def test_only_staff_see_and_decide_reviews(station, role):
    client = station.client("desk")
    headers = auth(role, 1 if role == "org" else None)
    assert client.get("/reviews", headers=headers).status_code == 403
    assert client.post("/reviews/1/decision", json={"decision": "approve"}, headers=headers).status_code == 403


def test_admin_may_do_what_staff_may(station):
    assert station.client("desk").get("/reviews", headers=auth("admin")).status_code == 200


def test_the_token_command_prints_a_token_the_services_accept(station):
    printed = subprocess.run([str(BIN / "yizhan"), "token", "--role", "org", "--org", "2", "--sub", "branch-2",
                              "--ttl", "60"], env=station.env, capture_output=True, text=True, check=True).stdout.strip()
    claims = jwt.decode(printed, TEST_SECRET, algorithms=["HS256"])
    assert (claims["role"], claims["org_id"], claims["sub"]) == ("org", 2, "branch-2")
    assert claims["exp"] - claims["iat"] == 60
    response = station.client("booking").get("/venues", headers={"Authorization": f"Bearer {printed}"})
    assert response.status_code == 200


def test_the_token_command_refuses_an_org_token_without_an_organisation(station):
    result = subprocess.run([str(BIN / "yizhan"), "token", "--role", "org"], env=station.env,
                            capture_output=True, text=True)
    assert result.returncode != 0 and "organisation" in result.stderr
