"""GET /schedule: one day's bookings at every venue and the station's own sessions, for the
station's wall screen (issue 13): what is on, when and by which organisation; nothing personal."""

import json

import pytest

from services.booking.domain import lifecycle
from tests.booking.conftest import station_time
from tests.conftest import auth

REQUESTED = "2026-03-02 10:00"
DAY = "2026-03-10"  # a Tuesday, a school day: the after-school class is held


def schedule(station, day=DAY, role="system", org=None):
    return station.client("booking").get("/schedule", query_string={"date": day} if day else None,
                                         headers=auth(role, org))


def approve(desk, booking_id):
    with desk.database.transaction() as session:
        lifecycle.apply_review_decision(session, {"booking_id": booking_id, "decision": "approve", "reason": None,
                                                  "decided_by": "staff-test"})


def test_the_days_approved_and_checked_in_bookings_of_every_venue_with_the_organisation(desk, station, request):
    approved = desk.request(REQUESTED, f"{DAY} 09:00", venue_id=2).first.id
    approve(desk, approved)
    checked_in = desk.request(REQUESTED, f"{DAY} 10:00", venue_id=3, title="议事会 Council").first.id
    approve(desk, checked_in)
    with desk.database.transaction() as session:
        lifecycle.check_in(session, checked_in, "org-test", station_time(f"{DAY} 09:55"), desk.policy)
    pending = desk.request(REQUESTED, f"{DAY} 14:00", venue_id=3).first.id
    tomorrow = desk.request(REQUESTED, "2026-03-11 09:00", venue_id=2).first.id
    approve(desk, tomorrow)

    answer = schedule(station)
    assert answer.status_code == 200, answer.json
    assert answer.json["date"] == DAY
    ours = [item for item in answer.json["items"] if item["kind"] == "booking"]
    assert [(i["booking_id"], i["venue_id"], i["status"]) for i in ours] == [
        (approved, 2, "approved"), (checked_in, 3, "checked_in")]
    assert pending not in [i["booking_id"] for i in ours] and tomorrow not in [i["booking_id"] for i in ours]
    first = ours[0]
    assert first["start"] == f"{DAY}T09:00:00+08:00" and first["end"] == f"{DAY}T11:00:00+08:00"
    assert first["organization_name"] == f"测试组织 {request.node.name}"[:200]
    assert first["title"] == "议事会 Residents' council"


def test_no_contact_name_phone_or_email_is_in_the_answer(desk, station):
    booking = desk.request(REQUESTED, f"{DAY} 15:00", venue_id=2,
                           contact={"name": "符秀英", "phone": "13800000077", "email": "fu@example.org"}).first.id
    approve(desk, booking)
    answer = schedule(station)
    item = next(i for i in answer.json["items"] if i.get("booking_id") == booking)
    assert set(item) == {"kind", "booking_id", "venue_id", "start", "end", "title", "status", "organization_name",
                         "organization_name_en"}
    text = json.dumps(answer.json, ensure_ascii=False)
    for personal in ("符秀英", "13800000077", "fu@example.org", "13800000099", "org@example.org", '"contact'):
        assert personal not in text


def test_the_stations_own_sessions_are_on_the_schedule(station):
    sessions = [i for i in schedule(station).json["items"] if i["kind"] == "station"]
    assert [(s["title"], s["start"], s["end"], s["booking_id"], s["organization_name"]) for s in sessions] == [
        ("四点半课堂 After-school class", f"{DAY}T16:30:00+08:00", f"{DAY}T19:00:00+08:00", None, None)]
    assert not [i for i in schedule(station, "2026-03-08").json["items"] if i["kind"] == "station"]  # a Sunday


@pytest.mark.parametrize("role, org", [("staff", None), ("admin", None), ("system", None)])
def test_staff_and_other_systems_may_read_the_schedule(station, role, org):
    assert schedule(station, role=role, org=org).status_code == 200


@pytest.mark.parametrize("role, org", [("org", 1), ("resident", None)])
def test_an_organisation_or_a_resident_may_not(station, role, org):
    answer = schedule(station, role=role, org=org)
    assert answer.status_code == 403, answer.json


def test_without_a_token_the_schedule_is_refused(station):
    assert station.client("booking").get("/schedule", query_string={"date": DAY}).status_code == 401


@pytest.mark.parametrize("day", [None, "tomorrow", "2026-02-30", "0001-01-01", "9999-12-31"])
def test_a_missing_or_impossible_date_is_refused_naming_the_field(station, day):
    answer = schedule(station, day)
    assert answer.status_code == 422, answer.json
    assert "date" in answer.json["error"]["fields"]


def test_the_schedule_is_in_the_openapi_document(station):
    spec = station.client("booking").get("/openapi.json").json
    operation = spec["paths"]["/schedule"]["get"]
    assert [p["name"] for p in operation["parameters"] if p["in"] == "query"] == ["date"]
    item = spec["components"]["schemas"]["ScheduleItem"]["properties"]
    assert "organization_name" in item and not {"contact", "contact_name", "contact_phone"} & set(item)
