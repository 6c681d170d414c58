"""A request's arguments are read by one schema instance per schema class (shared/api.py
OneSchemaParser, issue 14): webargs made a new instance for every request."""

import pytest

from services.booking.schemas import BookingRequestSchema
from shared.api import OneSchemaParser
from tests.conftest import auth, make_booking


def test_every_services_blueprints_read_arguments_with_one_instance_per_schema(station):
    """A blueprint made from flask_smorest's own Blueprint would instantiate its schemas per request again."""
    for service, app in station.apps.items():
        for name, blueprint in app.blueprints.items():
            if hasattr(blueprint, "ARGUMENTS_PARSER"):
                assert isinstance(blueprint.ARGUMENTS_PARSER, OneSchemaParser), (service, name)


def test_two_booking_requests_make_no_new_schema(station, monkeypatch):
    client = station.client("booking")
    assert client.post("/bookings", json=make_booking(), headers=auth("org", 1)).status_code == 201
    made = []
    original = BookingRequestSchema.__init__

    def counted(self, *args, **kwargs):
        made.append(self)
        original(self, *args, **kwargs)
    monkeypatch.setattr(BookingRequestSchema, "__init__", counted)
    for _ in range(2):
        assert client.post("/bookings", json=make_booking(), headers=auth("org", 1)).status_code == 201
    assert made == []


@pytest.mark.parametrize("body, field", [({"title": ""}, "title"), ({"attendees": 0}, "attendees")])
def test_one_shared_schema_still_answers_each_request_with_its_own_errors(station, body, field):
    """One instance serves every request: a refused request's errors are its own, never the one before's."""
    client = station.client("booking")
    refused = client.post("/bookings", json=make_booking(**body), headers=auth("org", 1))
    assert refused.status_code == 422 and list(refused.get_json()["error"]["fields"]) == [field]
    assert client.post("/bookings", json=make_booking(), headers=auth("org", 1)).status_code == 201
