"""Weekly or monthly requests: one booking per occurrence, one series, one review."""

from dataclasses import replace
from datetime import date

import pytest

from shared import contracts
from shared.errors import Conflict, Refused
from tests.booking.conftest import station_time
from tests.booking.test_lifecycle import decide, outbox_tasks, status
from tests.conftest import auth

NOW = "2026-03-02 10:00"


def weekly(count=None, until=None):
    rule = {"frequency": "weekly"}
    rule.update({"count": count} if count else {"until": date.fromisoformat(until)})
    return rule


def test_a_weekly_series_is_one_booking_per_week_under_one_review(desk):
    result = desk.request(NOW, "2026-03-10 09:00", recurrence=weekly(count=4))
    assert len(result.bookings) == 4 and len({b.series_id for b in result.bookings}) == 1
    assert result.bookings[-1].start == station_time("2026-03-31 09:00")  # four Tuesdays, 09:00 station time
    reviews = [p for n, p in outbox_tasks(desk) if n == contracts.REVIEW_BOOKING and p["booking_id"] == result.first.id]
    assert len(reviews) == 1 and len(reviews[0]["series"]["occurrences"]) == 4
    decide(desk, result.first.id)
    assert {status(desk, b.id)[0] for b in result.bookings} == {"approved"}


def test_a_series_may_end_on_a_date(desk):
    result = desk.request(NOW, "2026-03-10 09:00", recurrence=weekly(until="2026-04-07"))
    assert len(result.bookings) == 5


def test_a_monthly_series_skips_months_without_the_day(desk):
    result = desk.request(NOW, "2026-03-31 09:00", recurrence={"frequency": "monthly", "count": 3})
    assert [b.start.date().isoformat() for b in result.bookings] == ["2026-03-31", "2026-05-31", "2026-07-31"]


def test_a_series_of_more_than_52_is_refused(desk):
    with pytest.raises(Refused) as refused:
        desk.request(NOW, "2026-03-10 09:00", recurrence=weekly(until="2027-12-31"))
    assert refused.value.code == "too_many_occurrences"


def test_a_conflicting_date_refuses_the_series_and_names_the_date(desk, station):
    blocker = desk.request(NOW, "2026-03-17 09:00").first.id
    with pytest.raises(Conflict) as refused:
        desk.request(NOW, "2026-03-10 09:00", recurrence=weekly(count=4))
    assert "2026-03-17" in refused.value.message and "2026-03-10" not in refused.value.message
    assert status(desk, blocker)[0] == "pending_review"


def test_with_skip_conflicts_the_free_dates_are_booked_and_the_taken_ones_returned(desk):
    desk.request(NOW, "2026-03-17 09:00")
    result = desk.request(NOW, "2026-03-10 09:00", recurrence=weekly(count=4), skip_conflicts=True)
    assert [b.start.date().isoformat() for b in result.bookings] == ["2026-03-10", "2026-03-24", "2026-03-31"]
    assert [d.isoformat() for d in result.skipped] == ["2026-03-17"]


def test_over_http_a_series_answers_with_every_occurrence_and_the_skipped_dates(station):
    body = {"venue_id": 7, "organization_id": 2, "start": "2027-05-04T07:00:00+08:00",
            "end": "2027-05-04T08:00:00+08:00", "title": "晨练 Morning exercise", "attendees": 20,
            "contact": {"name": "符志强", "phone": "13800000002"}}
    client = station.client("booking")
    assert client.post("/bookings", json={**body, "start": "2027-05-11T07:00:00+08:00",
                                          "end": "2027-05-11T08:00:00+08:00"}, headers=auth("staff")).status_code == 201
    refused = client.post("/bookings", json={**body, "recurrence": {"frequency": "weekly", "count": 3}},
                          headers=auth("org", 2))
    assert refused.status_code == 409 and "2027-05-11" in refused.json["error"]["message"]
    booked = client.post("/bookings", json={**body, "recurrence": {"frequency": "weekly", "count": 3},
                                            "skip_conflicts": True}, headers=auth("org", 2))
    assert booked.status_code == 201
    series = booked.json["series"]
    assert [b["start"] for b in series["bookings"]] == ["2027-05-04T07:00:00+08:00", "2027-05-18T07:00:00+08:00"]
    assert series["skipped"] == ["2027-05-11"]
    listed = client.get(f"/bookings?series_id={series['id']}", headers=auth("org", 2)).json
    assert listed["total"] == 2


def test_a_recurrence_needs_a_count_or_an_end_date(station):
    body = {"venue_id": 7, "organization_id": 2, "start": "2027-05-04T07:00:00+08:00",
            "end": "2027-05-04T08:00:00+08:00", "title": "x", "attendees": 2,
            "contact": {"name": "符", "phone": "13800000002"}, "recurrence": {"frequency": "weekly"}}
    response = station.client("booking").post("/bookings", json=body, headers=auth("staff"))
    assert response.status_code == 422 and "recurrence" in response.json["error"]["fields"]


def test_a_series_whose_first_date_is_taken_is_refused_for_it_or_books_the_rest(desk):
    """The first occurrence's conflict is read with the venue (issue 14), the later ones each by
    themselves: a taken first date counts as taken, and only that date."""
    desk.request(NOW, "2026-03-10 09:00")
    with pytest.raises(Conflict) as refused:
        desk.request(NOW, "2026-03-10 09:00", recurrence=weekly(count=3))
    assert "2026-03-10" in refused.value.message and "2026-03-17" not in refused.value.message
    result = desk.request(NOW, "2026-03-10 09:00", recurrence=weekly(count=3), skip_conflicts=True)
    assert [b.start.date().isoformat() for b in result.bookings] == ["2026-03-17", "2026-03-24"]
    assert [d.isoformat() for d in result.skipped] == ["2026-03-10"]


@pytest.mark.parametrize("full, held_after", [("2026-03-05 09:00", 4),   # the first month is full: 2 + 24 and 31 March
                                              ("2026-04-14 09:00", 3)])  # the second is: 2 + 7 April
def test_a_series_over_two_months_counts_each_months_quota(desk, full, held_after):
    """The first occurrence's month is read with the venue (issue 14), a later month by itself: each
    month's bookings count against that month's quota only."""
    desk.policy = replace(desk.policy, monthly_bookings=2, monthly_hours=100)
    desk.request(NOW, full)
    desk.request(NOW, full.replace("09:00", "11:00"))
    with pytest.raises(Refused) as refused:
        desk.request(NOW, "2026-03-24 09:00", recurrence=weekly(count=3))  # 24 and 31 March, 7 April
    assert refused.value.code == "quota"
    assert refused.value.fields["organization_id"] == [f"{full[:7]}: {held_after} bookings, {2 * held_after:g} hours"]
