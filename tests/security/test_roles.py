"""Every endpoint enforces SPEC §5's roles: tried with no token, an expired token,
a token signed with another key, each role, and another organisation's token."""

import re

import pytest

from services.services_desk.domain import reviews
from shared import contracts
from shared.auth import ROLES, issue_token
from shared.contracts import load_payload
from tests.conftest import auth, make_booking
from tests.shared.test_contracts import EXAMPLES

ANY = set(ROLES)
STAFF = {"staff", "admin"}
# (service, method, path, roles allowed). {booking}, {review}, … are filled in by the fixture.
MATRIX = [
    ("booking", "GET", "/venues", ANY),
    ("booking", "GET", "/venues/3", ANY),
    ("booking", "GET", "/venues/3/availability?date=2027-01-05", ANY),
    ("booking", "GET", "/venues/3/calendar.ics", ANY),
    ("booking", "POST", "/bookings", {"org", "system"} | STAFF),
    ("booking", "GET", "/bookings", {"org", "system"} | STAFF),
    ("booking", "GET", "/bookings/{booking}", {"org", "system"} | STAFF),
    ("booking", "POST", "/bookings/{booking}/cancel", {"org"} | STAFF),
    ("booking", "POST", "/bookings/{booking}/check-in", {"org"} | STAFF),
    ("booking", "POST", "/organizations", STAFF),
    ("booking", "GET", "/organizations", STAFF),
    ("booking", "GET", "/organizations?contact_phone=13800000001", {"system"} | STAFF),
    ("booking", "GET", "/organizations/1", {"org"} | STAFF),
    ("booking", "PATCH", "/organizations/1", STAFF),
    ("booking", "POST", "/organizations/1/credit-adjustments", STAFF),
    ("booking", "POST", "/organizations/1/lift-suspension", STAFF),
    ("booking", "GET", "/organizations/1/credit-events", {"org"} | STAFF),
    ("booking", "GET", "/organizations/1/contact-phones", STAFF),
    ("booking", "POST", "/organizations/1/contact-phones", STAFF),
    ("booking", "DELETE", "/organizations/1/contact-phones/13800000777", STAFF),
    ("booking", "GET", "/booking-requests/some-key?organization_id=1", {"system"} | STAFF),
    ("desk", "GET", "/reviews", STAFF),
    ("desk", "GET", "/reviews/{review}", STAFF),
    ("desk", "POST", "/reviews/{review}/decision", STAFF),
    ("desk", "GET", "/ticket-types", ANY),
    ("desk", "PUT", "/ticket-types/consultation", {"admin"}),
    ("desk", "POST", "/ticket-types", {"admin"}),
    ("desk", "PATCH", "/ticket-types/consultation", {"admin"}),
    ("desk", "POST", "/tickets", {"resident"} | STAFF),
    ("desk", "GET", "/tickets", {"resident"} | STAFF),
    ("desk", "GET", "/tickets/{ticket}", {"resident"} | STAFF),
    ("desk", "POST", "/tickets/{ticket}/transition", STAFF),
    ("desk", "POST", "/tickets/{ticket}/assign", STAFF),
    ("desk", "POST", "/tickets/{ticket}/notes", STAFF),
    ("desk", "POST", "/tickets/{ticket}/follow-up", {"resident"} | STAFF),
    ("desk", "POST", "/tickets/{ticket}/reveal", STAFF),
    ("notify", "POST", "/messages", {"system"} | STAFF),
    ("notify", "GET", "/messages", STAFF),
    ("notify", "GET", "/messages/{message}", {"system"} | STAFF),
    ("notify", "GET", "/templates", STAFF),
    ("notify", "PUT", "/templates/booking_received", {"admin"}),
    ("notify", "PATCH", "/templates/booking_received", {"admin"}),
    ("notify", "POST", "/templates/booking_received/preview", {"admin"}),
    ("notify", "POST", "/opt-outs", {"system"} | STAFF),
    ("notify", "GET", "/opt-outs", STAFF),
    ("notify", "GET", "/opt-outs/sms/13800000599", {"system"} | STAFF),
    ("notify", "DELETE", "/opt-outs/sms/13800000599", {"system"} | STAFF),
    ("notify", "POST", "/receipts/log", {"system", "admin"}),
    # The big screen's day (issue 13): no personal data, read by the portal as `system`, and by staff.
    ("booking", "GET", "/schedule?date=2027-01-05", {"system"} | STAFF),
    # The station's numbers (issue 13): admins, and other community systems.
    ("booking", "GET", "/statistics?month=2027-01", {"system", "admin"}),
    ("desk", "GET", "/statistics?month=2027-01", {"system", "admin"}),
    ("notify", "GET", "/statistics?month=2027-01", {"system", "admin"}),
    *((service, method, path, {"admin"}) for service in ("booking", "desk", "notify")
      for method, path in (("GET", "/dead-letters"), ("POST", "/dead-letters/999999/replay"), ("GET", "/audit-log"))),
]
OPEN = {"/healthz", "/metrics", "/openapi.json", "/docs"}


@pytest.fixture(scope="module")
def ids(station):
    booking = station.client("booking").post("/bookings", json=make_booking(), headers=auth("staff")).json["id"]
    payload = {**EXAMPLES[contracts.REVIEW_BOOKING], "booking_id": 777_001, "idempotency_key": "roles-review"}
    with station.database("desk").transaction() as session:
        review = reviews.open_review(session, load_payload(contracts.REVIEW_BOOKING, payload)).id
    ticket = station.client("desk").post("/tickets", headers=auth("resident", sub="test-resident"), json={
        "type": "consultation", "summary": "咨询", "resident": {"name": "王", "phone": "13800000501"}}).json["id"]
    message = station.client("notify").post("/messages", headers=auth("system"), json={
        "channel": "email", "recipient": "roles@example.org", "template": "booking_received", "idempotency_key": "roles",
        "params": {"title": "t", "venue": "v", "start": "s", "booking_id": "1"}}).json["id"]
    return {"booking": booking, "review": review, "ticket": ticket, "message": message}


def call(station, ids, service, method, path, headers):
    return station.client(service).open(path.format(**ids), method=method, headers=headers,
                                        json={} if method in ("POST", "PUT", "PATCH") else None)


@pytest.mark.parametrize("service, method, path, allowed", MATRIX, ids=[f"{m} {s}{p}" for s, m, p, _ in MATRIX])
def test_each_role_is_let_in_or_refused_as_spec_says(station, ids, service, method, path, allowed):
    for role in ROLES:
        response = call(station, ids, service, method, path, auth(role, 1 if role == "org" else None,
                                                                   sub="test-resident" if role == "resident" else f"test-{role}"))
        if role in allowed:
            assert response.status_code not in (401, 403), f"{role} refused: {response.get_json()}"
        else:
            assert response.status_code == 403, f"{role} let in: {response.status_code}"
            assert response.json["error"]["code"] == "forbidden"


@pytest.mark.parametrize("service, method, path, allowed", MATRIX, ids=[f"{m} {s}{p}" for s, m, p, _ in MATRIX])
def test_no_expired_or_forged_token_gets_in(station, ids, service, method, path, allowed):
    forged = issue_token("some-other-deployment-secret-0123456789", "admin", "mallory")
    for headers, code in [({}, "unauthorized"), (auth("admin", ttl=-5), "token_expired"),
                          ({"Authorization": f"Bearer {forged}"}, "invalid_token"),
                          ({"Authorization": "Basic YWRtaW46YWRtaW4="}, "unauthorized")]:
        response = call(station, ids, service, method, path, headers)
        assert response.status_code == 401 and response.json["error"]["code"] == code


@pytest.mark.parametrize("method, path", [("GET", "/bookings/{booking}"), ("POST", "/bookings/{booking}/cancel"),
                                          ("POST", "/bookings/{booking}/check-in"), ("GET", "/organizations/1"),
                                          ("GET", "/organizations/1/credit-events")])
def test_another_organisations_token_is_refused(station, ids, method, path):
    response = call(station, ids, "booking", method, path, auth("org", 2))
    assert response.status_code == 403


def test_the_matrix_covers_every_endpoint_in_the_openapi_documents(station):
    covered = {(s, m, re.sub(r"\?.*", "", p)) for s, m, p, _ in MATRIX}
    for service in ("booking", "desk", "notify"):
        spec = station.client(service).get("/openapi.json").json
        for path, operations in spec["paths"].items():
            for method in operations:
                if method.upper() not in ("GET", "POST", "PUT", "DELETE", "PATCH") or path in OPEN:
                    continue
                pattern = "^" + re.sub(r"\{[^}]+\}", "[^/]+", path) + "$"
                assert any(s == service and m == method.upper() and re.match(pattern, p) for s, m, p in covered), \
                    f"{method.upper()} {service}{path} has no row in the role matrix"


@pytest.mark.parametrize("written", ["13800000001", "+86 138 0000 0001", "+8613800000001", "138-0000-0001"])
def test_the_system_role_finds_an_organisation_by_its_contacts_phone_however_written(station, written):
    response = station.client("booking").get("/organizations", query_string={"contact_phone": written},
                                              headers=auth("system"))
    assert response.status_code == 200
    assert [o["id"] for o in response.json["items"]] == [1]


@pytest.mark.parametrize("written", ["13800009999", "12345", "not a phone"])
def test_a_phone_no_organisation_has_finds_none(station, written):
    response = station.client("booking").get("/organizations", query_string={"contact_phone": written},
                                              headers=auth("system"))
    assert response.status_code == 200 and response.json["items"] == []
