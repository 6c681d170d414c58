"""The integrity (诚信) ledger: points lost for violations, suspension after three, recovery over time."""

import pytest
from sqlalchemy import select

from services.booking.domain import integrity, lifecycle
from services.booking.models import Organization
from shared import contracts
from shared.errors import Refused
from tests.booking.conftest import station_time
from tests.booking.test_lifecycle import credit_events, decide, outbox_tasks
from tests.conftest import auth


def no_show(desk, start):
    booking = desk.request("2026-03-02 10:00", start).first.id
    decide(desk, booking)
    end = station_time(start).replace(hour=station_time(start).hour + 1)
    with desk.database.transaction() as session:
        lifecycle.sweep_attendance(session, end, desk.policy)
    return booking


def standing(desk, now):
    with desk.database.reader() as session:
        organization = session.get(Organization, desk.organization_id)
        return integrity.credit_summary(session, organization, station_time(now), desk.policy)


def organization_messages(desk):
    return [p["template"] for n, p in outbox_tasks(desk) if n == contracts.SEND_MESSAGE and p["channel"] == "sms"
            and p["idempotency_key"].startswith(f"organization:{desk.organization_id}:")]


def test_three_violations_within_ninety_days_suspend_booking_for_thirty_days(desk):
    no_show(desk, "2026-03-10 09:00")
    no_show(desk, "2026-03-11 09:00")
    assert standing(desk, "2026-03-12 10:00") == {"credit_score": 80, "suspended_until": None, "recent_violations": 2}
    assert organization_messages(desk) == ["credit_warning", "credit_warning"]
    no_show(desk, "2026-03-12 09:00")
    summary = standing(desk, "2026-03-12 11:00")
    assert summary["credit_score"] == 70
    assert summary["suspended_until"] == station_time("2026-04-11 10:00")  # 30 days after the sweep at 10:00
    assert organization_messages(desk)[-1] == "credit_suspended"
    with pytest.raises(Refused) as refused:
        desk.request("2026-03-13 10:00", "2026-03-20 09:00")
    assert refused.value.code == "suspended"
    assert standing(desk, "2026-04-12 10:00")["suspended_until"] is None
    assert desk.request("2026-04-12 10:00", "2026-04-20 09:00").bookings


def test_violations_older_than_ninety_days_do_not_count(desk):
    no_show(desk, "2026-03-10 09:00")
    no_show(desk, "2026-03-11 09:00")
    assert standing(desk, "2026-06-10 12:00")["recent_violations"] == 0


def test_a_clean_month_gives_two_points_back_up_to_the_start_score(desk):
    no_show(desk, "2026-03-10 09:00")  # 90
    recover = lambda now: _recover(desk, now)  # noqa: E731
    assert recover("2026-04-01 01:00") == 0  # March had a violation
    assert recover("2026-05-01 01:00") == 1  # April was clean: +2
    assert recover("2026-05-15 01:00") == 0  # once per month
    assert standing(desk, "2026-05-15 02:00")["credit_score"] == 92
    for month in range(6, 11):
        recover(f"2026-{month:02d}-01 01:00")
    assert standing(desk, "2026-10-02 02:00")["credit_score"] == 100
    assert recover("2026-11-01 01:00") == 0  # already at 100
    assert [k for k, _ in credit_events(desk)].count("recovery") == 5


def _recover(desk, now):
    with desk.database.transaction() as session:
        return integrity.recover_monthly_credit(session, station_time(now), desk.policy)


def test_the_ledger_and_score_are_shown_to_staff_and_to_the_organisation_itself(desk):
    no_show(desk, "2026-03-10 09:00")
    client = desk.station.client("booking")
    org = desk.organization_id
    mine = client.get(f"/organizations/{org}", headers=auth("org", org)).json
    assert mine["credit_score"] == 90 and mine["recent_violations"] >= 0
    events = client.get(f"/organizations/{org}/credit-events", headers=auth("staff")).json
    assert [(e["kind"], e["points"]) for e in events["items"]] == [("no_show", -10)]
    assert client.get(f"/organizations/{org}", headers=auth("org", org + 1)).status_code == 403
    assert client.get("/organizations", headers=auth("org", org)).status_code == 403


def test_staff_register_an_organisation(station):
    client = station.client("booking")
    body = {"name": "垦家大院舞蹈队", "kind": "social_group",
            "contact": {"name": "吴芬", "phone": "13800000055", "email": None}}
    created = client.post("/organizations", json=body, headers=auth("staff"))
    assert created.status_code == 201
    assert created.json["credit_score"] == 100 and created.json["suspended_until"] is None
    assert client.post("/organizations", json=body, headers=auth("staff")).status_code == 409
    assert client.post("/organizations", json={**body, "kind": "club"}, headers=auth("staff")).status_code == 422
    assert client.post("/organizations", json={**body, "name": "x"}, headers=auth("org", 1)).status_code == 403
    with station.database("booking").reader() as session:
        assert session.scalar(select(Organization).where(Organization.name == "垦家大院舞蹈队")) is not None


def test_the_one_statement_summary_answers_as_the_three_questions_do(desk):
    """credit_summary reads the ledger in one statement (issue 14); at each step of a ledger with
    violations, a suspension, a lift and violations after it, it must say what credit_score,
    suspended_until and recent_violations say one query at a time."""

    def both_ways(now):
        moment = station_time(now)
        with desk.database.reader() as session:
            organization = session.get(Organization, desk.organization_id)
            one = integrity.credit_summary(session, organization, moment, desk.policy)
            three = {"credit_score": integrity.credit_score(session, organization.id, desk.policy),
                     "suspended_until": integrity.suspended_until(session, organization.id, moment),
                     "recent_violations": integrity.recent_violations(session, organization.id, moment, desk.policy)}
        assert one == three, now
        return one

    assert both_ways("2026-03-09 10:00") == {"credit_score": 100, "suspended_until": None, "recent_violations": 0}
    for day in ("10", "11", "12"):
        no_show(desk, f"2026-03-{day} 09:00")
        both_ways(f"2026-03-{day} 12:00")
    assert both_ways("2026-03-13 10:00")["suspended_until"] is not None
    with desk.database.transaction() as session:
        integrity.lift_suspension(session, session.get(Organization, desk.organization_id), "误判 a mistake",
                                  "staff:test", station_time("2026-03-13 11:00"))
    assert both_ways("2026-03-13 12:00")["suspended_until"] is None
    no_show(desk, "2026-03-16 09:00")
    assert both_ways("2026-03-16 12:00")["recent_violations"] == 1
    assert both_ways("2026-09-01 12:00")["recent_violations"] == 0
