"""Bearer tokens and the roles of SPEC §5."""

import subprocess
import time

import jwt
import pytest

from shared.auth import decode_token, issue_token
from shared.errors import Unauthorized
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


# --- claims of the wrong type or value: a 401 that says which, never a 500 (issue 11 §6) ---

FAR_FUTURE = 4102444800  # 2100-01-01


def forged(claims: dict) -> dict:
    """A token signed with the right key but carrying whatever claims a careless or hostile issuer chose."""
    return {"Authorization": f"Bearer {jwt.encode(claims, TEST_SECRET, algorithm='HS256')}"}


@pytest.mark.parametrize("claims, names", [
    ({"sub": "x", "role": "staff", "exp": str(FAR_FUTURE)}, "exp"),
    ({"sub": "x", "role": "staff", "exp": True}, "exp"),
    ({"sub": "x", "role": "staff", "exp": [FAR_FUTURE]}, "exp"),
    ({"sub": "x", "role": "staff", "exp": FAR_FUTURE, "iat": "0"}, "iat"),
    ({"sub": "", "role": "staff", "exp": FAR_FUTURE}, "sub"),
    ({"sub": "   ", "role": "staff", "exp": FAR_FUTURE}, "sub"),
    ({"sub": "x" * 101, "role": "staff", "exp": FAR_FUTURE}, "sub"),
    ({"sub": "a\x00b", "role": "staff", "exp": FAR_FUTURE}, "sub"),
    ({"sub": "\ud800", "role": "staff", "exp": FAR_FUTURE}, "sub"),
    ({"sub": "x", "role": "org", "org_id": True, "exp": FAR_FUTURE}, "org_id"),
    ({"sub": "x", "role": "org", "org_id": 0, "exp": FAR_FUTURE}, "org_id"),
    ({"sub": "x", "role": "org", "org_id": -3, "exp": FAR_FUTURE}, "org_id"),
    ({"sub": "x", "role": "org", "org_id": "1", "exp": FAR_FUTURE}, "org_id"),
    ({"sub": "x", "role": "org", "org_id": 1.0, "exp": FAR_FUTURE}, "org_id"),
    ({"sub": "x", "role": "org", "exp": FAR_FUTURE}, "org_id"),
    ({"sub": "x", "role": "staff", "org_id": "abc", "exp": FAR_FUTURE}, "org_id"),
    ({"sub": "x", "role": ["staff"], "exp": FAR_FUTURE}, "role"),
    ({"sub": "x", "role": "Staff", "exp": FAR_FUTURE}, "role"),
])
def test_a_token_whose_claims_have_the_wrong_type_or_value_is_a_401_naming_the_claim(station, claims, names):
    response = station.client("booking").get("/venues", headers=forged(claims))
    assert response.status_code == 401, response.get_data(as_text=True)[:300]
    error = response.json["error"]
    assert error["code"] == "invalid_token"
    assert names in error["message"] and error["message"].isascii() is False  # Chinese first, English beside


def test_a_well_formed_forged_token_with_numeric_claims_is_accepted(station):
    """The checks refuse wrong types only: a float exp is a valid NumericDate (RFC 7519 §2)."""
    claims = {"sub": "branch-7", "role": "org", "org_id": 7, "exp": FAR_FUTURE + 0.5, "iat": 1_700_000_000}
    assert station.client("booking").get("/venues", headers=forged(claims)).status_code == 200


def token_command(station, *arguments):
    return subprocess.run([str(BIN / "yizhan"), "token", *arguments], env=station.env, capture_output=True, text=True)


@pytest.mark.parametrize("arguments, says", [
    (["--role", "staff", "--ttl", str(366 * 24 * 3600)], "ttl"),
    (["--role", "staff", "--ttl", "0"], "ttl"),
    (["--role", "staff", "--ttl", "-60"], "ttl"),
    (["--role", "org", "--org", "0"], "organisation"),
    (["--role", "org", "--org", "-2"], "organisation"),
    (["--role", "staff", "--sub", ""], "sub"),
])
def test_the_token_command_refuses_what_the_services_would_not_accept(station, arguments, says):
    result = token_command(station, *arguments)
    assert result.returncode != 0, result.stdout
    assert says in result.stderr.lower() and not result.stdout.strip()
    assert "Traceback" not in result.stderr


def test_the_token_command_accepts_a_ttl_of_one_year(station):
    result = token_command(station, "--role", "staff", "--ttl", str(365 * 24 * 3600))
    claims = jwt.decode(result.stdout.strip(), TEST_SECRET, algorithms=["HS256"])
    assert claims["exp"] - claims["iat"] == 365 * 24 * 3600


def test_a_token_verified_once_is_still_refused_once_it_expires(monkeypatch):
    """decode_token remembers a verified signature (issue 14), never a verdict on time."""
    import shared.auth as auth_module

    token = issue_token("s" * 32, "staff", "clerk", ttl_seconds=60)
    assert decode_token("s" * 32, token).sub == "clerk"  # verified, and remembered
    later = time.time() + 61
    monkeypatch.setattr(auth_module.time, "time", lambda: later)
    with pytest.raises(Unauthorized) as refused:
        decode_token("s" * 32, token)
    assert refused.value.code == "token_expired"


def test_a_remembered_token_is_not_taken_under_another_secret():
    token = issue_token("s" * 32, "staff", "clerk")
    assert decode_token("s" * 32, token).role == "staff"
    for _ in range(2):  # refused each time: a refusal is never remembered as anything
        with pytest.raises(Unauthorized):
            decode_token("t" * 32, token)
