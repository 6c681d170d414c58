"""Errors are JSON as SPEC §4 says, with every offending field named, and never a traceback."""

import pytest

from tests.conftest import auth


def test_every_offending_field_is_named(station):
    response = station.client("booking").post("/bookings", json={"venue_id": "three", "start": "tomorrow"},
                                              headers=auth("staff"))
    assert response.status_code == 422
    error = response.json["error"]
    assert error["code"] == "validation_error"
    assert {"venue_id", "start", "end", "organization_id", "title", "attendees", "contact"} <= set(error["fields"])


def test_a_body_that_is_not_json_is_a_clear_400(station):
    response = station.client("booking").post("/bookings", data="{oops", content_type="application/json",
                                              headers=auth("staff"))
    assert response.status_code == 400
    assert set(response.json["error"]) == {"code", "message", "fields"}


@pytest.mark.parametrize("method, path, status", [("GET", "/nowhere", 404), ("DELETE", "/venues", 405),
                                                  ("GET", "/venues/999999", 404)])
def test_unknown_paths_and_methods_answer_json(station, method, path, status):
    response = station.client("booking").open(path, method=method, headers=auth("staff"))
    assert response.status_code == status
    assert response.json["error"]["code"] in {"not_found", "method_not_allowed"}


def test_an_oversized_body_is_refused(station):
    big = {"title": "x" * (2 * 1024 * 1024)}
    response = station.client("booking").post("/bookings", json=big, headers=auth("staff"))
    assert response.status_code == 413
    assert response.json["error"]["code"] == "payload_too_large"


def test_an_unexpected_error_is_a_json_500_without_a_traceback(station):
    app = station.apps["notify"]

    def explode():
        raise RuntimeError("secret detail 13812345678")
    if "explode" not in app.view_functions:
        app.add_url_rule("/explode", "explode", explode)
    response = app.test_client().get("/explode")
    assert response.status_code == 500
    assert response.json["error"]["code"] == "internal_error"
    assert "Traceback" not in response.get_data(as_text=True)
    assert "13812345678" not in response.get_data(as_text=True)


@pytest.mark.parametrize("service, path", [("booking", "/venues/2147483648"), ("desk", "/tickets/9223372036854775808"),
                                           ("notify", "/messages/99999999999999999999")])
def test_an_id_no_database_can_hold_is_a_404_not_a_500(station, service, path):
    response = station.client(service).get(path, headers=auth("admin"))
    assert response.status_code == 404 and response.json["error"]["code"] == "not_found"


def test_an_id_too_large_in_a_query_or_body_is_a_422(station):
    client = station.client("booking")
    assert client.get("/bookings?venue_id=2147483648", headers=auth("staff")).status_code == 422
    response = client.post("/bookings", json={"venue_id": 2147483648}, headers=auth("staff"))
    assert response.status_code == 422 and "venue_id" in response.json["error"]["fields"]


@pytest.mark.parametrize("method, path, body", [
    ("GET", "/tickets?assignee=%00", None),
    ("POST", "/tickets", {"type": "a\u0000", "summary": "x", "resident": {"name": "王", "phone": "13800000001"}}),
])
def test_a_nul_character_is_refused_at_the_door(station, method, path, body):
    response = station.client("desk").open(path, method=method, json=body, headers=auth("staff"))
    assert response.status_code == 422 and response.json["error"]["code"] == "refused"


def test_the_documented_error_format_is_the_one_returned(station):
    spec = station.client("booking").get("/openapi.json").json
    error = spec["components"]["schemas"]["Error"]["properties"]
    assert set(error) == {"error"}
