"""A booking request is stored as pending review, with its review task in the
same transaction; a refused request stores nothing."""

from datetime import datetime, timedelta
from urllib.parse import urlencode

import pytest
from sqlalchemy import func, select

from services.booking.models import Booking
from tests.conftest import auth, make_booking, next_slot


def counts(station):
    database = station.database("booking")
    outbox = database.infrastructure.outbox
    with database.reader() as session:
        return session.scalar(select(func.count(Booking.id))), session.scalar(select(func.count()).select_from(outbox))


def post(station, body, role="staff", org=None):
    return station.client("booking").post("/bookings", json=body, headers=auth(role, org))


def test_a_request_is_pending_review_with_its_tasks_in_the_outbox(station):
    before_bookings, before_outbox = counts(station)
    response = post(station, make_booking())
    assert response.status_code == 201
    assert response.json["status"] == "pending_review"
    assert response.json["start"].endswith("+08:00")
    database = station.database("booking")
    outbox = database.infrastructure.outbox
    with database.reader() as session:
        rows = session.scalars(select(outbox).order_by(outbox.created_at)).all()[before_outbox:]
    assert [r.task_name for r in rows] == ["desk.review_booking", "notify.send_message", "notify.send_message"]
    assert rows[0].payload["booking_id"] == response.json["id"]
    assert counts(station) == (before_bookings + 1, before_outbox + 3)


@pytest.mark.parametrize("change, status, field", [
    ({"venue_id": 999}, 422, "venue_id"),
    ({"venue_id": 1}, 422, "venue_id"),  # the service counter is not bookable
    ({"organization_id": 999}, 422, "organization_id"),
    ({"attendees": 500}, 422, "attendees"),
    ({"start": "2027-01-05T10:00:00+08:00", "end": "2027-01-05T09:00:00+08:00"}, 422, "end"),
    ({"start": "2027-01-05T10:00:00"}, 422, "start"),  # no offset
])
def test_a_refused_request_names_the_field_and_stores_nothing(station, change, status, field):
    before = counts(station)
    response = post(station, make_booking(**change))
    assert response.status_code == status, response.json
    assert field in response.json["error"]["fields"]
    assert counts(station) == before


def test_a_request_overlapping_a_pending_booking_is_a_conflict(station):
    first = make_booking()
    assert post(station, first).status_code == 201
    before = counts(station)
    clash = post(station, make_booking(start=first["start"], end=first["end"], title="另一个活动"))
    assert clash.status_code == 409
    assert clash.json["error"]["code"] == "conflict"
    assert counts(station) == before


def test_the_same_idempotency_key_returns_the_first_booking(station):
    body = make_booking(idempotency_key="retry-after-timeout-1")
    first, again = post(station, body), post(station, body)
    assert first.status_code == again.status_code == 201
    assert first.json["id"] == again.json["id"]


def test_bookings_are_listed_with_pagination_and_filters(station):
    created = post(station, make_booking(venue_id=4)).json
    page = station.client("booking").get("/bookings?venue_id=4&per_page=1", headers=auth("staff")).json
    assert set(page) == {"items", "total", "page", "per_page"}
    assert page["per_page"] == 1 and page["total"] >= 1
    assert all(b["venue_id"] == 4 for b in page["items"])
    detail = station.client("booking").get(f"/bookings/{created['id']}", headers=auth("staff")).json
    assert detail["history"][0]["to_status"] == "pending_review"


def test_staff_list_one_venues_bookings_on_one_day(station):
    """The review queue's "other bookings that day": GET /bookings?venue_id=&from=&to= (station times)."""
    start, end = next_slot()
    begin = datetime.fromisoformat(start)
    day = begin.replace(hour=0)
    that_day = post(station, make_booking(venue_id=4, start=start, end=end))
    other_venue = post(station, make_booking(venue_id=6, start=start, end=end))
    next_day = post(station, make_booking(venue_id=4, start=(begin + timedelta(days=1)).isoformat(),
                                          end=(datetime.fromisoformat(end) + timedelta(days=1)).isoformat()))
    assert that_day.status_code == other_venue.status_code == next_day.status_code == 201
    query = urlencode({"venue_id": 4, "from": day.isoformat(), "to": (day + timedelta(days=1)).isoformat()})
    page = station.client("booking").get(f"/bookings?{query}", headers=auth("staff")).json
    ids = [b["id"] for b in page["items"]]  # other tests may book that venue that day too
    assert that_day.json["id"] in ids and other_venue.json["id"] not in ids and next_day.json["id"] not in ids
    assert all(b["venue_id"] == 4 and b["start"][:10] == start[:10] for b in page["items"])


def test_the_catalogue_lists_every_station_venue(station):
    page = station.client("booking").get("/venues?per_page=100", headers=auth("resident")).json
    codes = {v["code"] for v in page["items"]}
    assert codes == {"service-counter", "party-activity-area", "meeting-room", "reading-area", "after-school-classroom",
                     "banyan-classroom", "culture-exhibition", "fitness-area", "basketball-court", "gateball-court",
                     "culture-square"}
    indoor = sum(v["area_m2"] for v in page["items"] if v["location"] == "indoor")
    square = sum(v["area_m2"] for v in page["items"] if v["location"] == "square")
    assert (indoor, square) == (92, 2833)


def test_an_organisation_cancels_its_own_booking_and_no_other(station):
    client = station.client("booking")
    booking = post(station, make_booking(organization_id=2), role="org", org=2).json
    assert client.post(f"/bookings/{booking['id']}/cancel", json={}, headers=auth("org", 3)).status_code == 403
    assert client.post(f"/bookings/{booking['id']}/cancel", json={}, headers=auth("resident")).status_code == 403
    done = client.post(f"/bookings/{booking['id']}/cancel", json={"reason": "改期"}, headers=auth("org", 2))
    assert done.status_code == 200 and done.json["status"] == "cancelled"
    again = client.post(f"/bookings/{booking['id']}/cancel", json={}, headers=auth("org", 2))
    assert again.status_code == 409 and again.json["error"]["code"] == "invalid_transition"


def test_checking_in_a_pending_booking_is_a_conflict_naming_the_status(station):
    booking = post(station, make_booking()).json
    response = station.client("booking").post(f"/bookings/{booking['id']}/check-in", headers=auth("staff"))
    assert response.status_code == 409 and response.json["error"]["fields"]["status"] == ["pending_review"]


def test_residents_read_the_catalogue_but_not_the_bookings(station):
    client = station.client("booking")
    assert client.get("/venues/3/availability?date=2027-01-05", headers=auth("resident")).status_code == 200
    assert client.get("/bookings", headers=auth("resident")).status_code == 403
