"""Hostile HTTP bodies, methods and dates: every one a clear JSON 4xx or a sane answer, never a 500."""

import json

import pytest

from tests.conftest import auth, make_booking

# One writing endpoint per service, with a body that is valid apart from what each test changes.
WRITE_ENDPOINTS = {
    "booking": ("/bookings", "staff", lambda: make_booking()),
    "desk": ("/tickets", "staff", lambda: {"type": "consultation", "summary": "咨询",
                                            "resident": {"name": "王", "phone": "13800000001"}}),
    "notify": ("/messages", "system", lambda: {"channel": "sms", "recipient": "13800000001",
                                                "template": "booking_received", "idempotency_key": "k-1"}),
}


def post_text(station, service: str, text: str):
    path, role, _ = WRITE_ENDPOINTS[service]
    return station.client(service).post(path, data=text, content_type="application/json", headers=auth(role))


def assert_json_refusal(response):
    assert 400 <= response.status_code < 500, (response.status_code, response.get_data(as_text=True)[:300])
    error = response.json["error"]
    assert set(error) == {"code", "message", "fields"} and error["message"]


@pytest.mark.parametrize("service", sorted(WRITE_ENDPOINTS))
@pytest.mark.parametrize("shape", ["array", "object", "inside_a_field"])
def test_json_nested_a_thousand_deep_is_refused(station, service, shape):
    deep = {"array": "[" * 1000 + "]" * 1000, "object": '{"a":' * 1000 + "1" + "}" * 1000,
            "inside_a_field": '{"title": ' + "[" * 100_000 + "]" * 100_000 + "}"}[shape]
    response = post_text(station, service, deep)
    assert_json_refusal(response)
    assert response.status_code == 400


def with_lone_surrogate(body: dict, field: str) -> str:
    """The JSON text of body with field set to a lone surrogate, written as JSON writes it: `\\ud800`."""
    return json.dumps({**body, field: "SURROGATE"}).replace('"SURROGATE"', '"a\\ud800b"')


@pytest.mark.parametrize("service, field", [("booking", "title"), ("booking", "idempotency_key"),
                                            ("desk", "summary"), ("desk", "idempotency_key"),
                                            ("notify", "recipient"), ("notify", "idempotency_key")])
def test_a_lone_surrogate_in_any_string_field_is_refused_at_the_door(station, service, field):
    _, _, body = WRITE_ENDPOINTS[service]
    response = post_text(station, service, with_lone_surrogate(body(), field))
    assert_json_refusal(response)
    assert response.json["error"]["code"] == "refused"


def test_a_lone_surrogate_in_a_key_or_a_nested_value_is_refused(station):
    _, _, body = WRITE_ENDPOINTS["notify"]
    for text in (json.dumps({**body(), "params": {"KEY": "王"}}).replace('"KEY"', '"\\udfff"'),
                 json.dumps({**body(), "params": {"name": "VALUE"}}).replace('"VALUE"', '"\\ud83d"')):
        response = post_text(station, "notify", text)
        assert_json_refusal(response)
        assert response.json["error"]["code"] == "refused"


def test_a_proper_surrogate_pair_is_just_an_emoji(station):
    _, _, body = WRITE_ENDPOINTS["desk"]
    text = json.dumps({**body(), "summary": "咨询 😀"})  # ensure_ascii writes 😀 as \ud83d\ude00
    assert "\\ud83d\\ude00" in text
    response = post_text(station, "desk", text)
    assert response.status_code == 201 and response.json["summary"] == "咨询 😀"


def test_a_date_before_1901_keeps_the_stations_offset():
    # zoneinfo's Asia/Shanghai gives local mean time (+08:05:43) before 1901 and summer time in 1986-1991;
    # the station's clock is +08:00 for every year. (Availability itself now refuses dates before 1970.)
    from datetime import datetime, timezone

    from shared.timefmt import to_station_time

    for year in (1, 1900, 1988, 9999):
        moment = datetime(year, 7, 1, 4, 0, tzinfo=timezone.utc)
        assert to_station_time(moment).isoformat().endswith("+08:00"), year


@pytest.mark.parametrize("method", ["FOO", "PROPFIND", "X" * 200])
def test_an_unknown_method_does_not_make_a_metrics_series_of_its_own(station, method):
    client = station.client("desk")
    response = client.open("/ticket-types", method=method, headers=auth("staff"))
    assert response.status_code == 405
    metrics = client.get("/metrics").get_data(as_text=True)
    assert f'method="{method}"' not in metrics
    assert 'method="other"' in metrics


@pytest.mark.parametrize("field, value", [("from", "0001-01-01T00:00:00%2B08:00"), ("to", "9999-12-31T23:59:59-12:00")])
def test_a_moment_at_the_end_of_the_calendar_is_refused_naming_the_field(station, field, value):
    """Python's datetimes run from year 1 to 9999: these cannot be moved to UTC to be compared."""
    response = station.client("booking").get(f"/bookings?{field}={value}", headers=auth("staff"))
    assert_json_refusal(response)
    assert response.status_code == 422 and field in response.json["error"]["fields"]
