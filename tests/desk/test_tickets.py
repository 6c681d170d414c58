"""Errand tickets: types, the status machine, working-day deadlines, what residents are told."""

import pytest
from sqlalchemy import select

from services.services_desk.domain import tickets
from services.services_desk.models import Ticket
from shared import contracts
from shared.errors import Refused
from shared.working_days import WorkingCalendar
from tests.conftest import auth

RESIDENT = {"name": "王秀英", "phone": "13812345678", "id_number": "11010519491231002X"}


def open_ticket(station, **changes):
    body = {"type": "pension_insurance", "summary": "养老保险待遇申领 Pension claim", "details": "",
            "resident": RESIDENT, **changes}
    response = station.client("desk").post("/tickets", json=body, headers=auth("staff"))
    assert response.status_code == 201, response.json
    return response.json


def move(station, ticket_id, status, **extra):
    return station.client("desk").post(f"/tickets/{ticket_id}/transition", json={"status": status, **extra},
                                       headers=auth("staff"))


def resident_messages(station, ticket_id):
    outbox = station.database("desk").infrastructure.outbox
    with station.database("desk").reader() as session:
        return [r.payload for r in session.scalars(select(outbox).where(outbox.task_name == contracts.SEND_MESSAGE)
                                                   .order_by(outbox.created_at))
                if r.payload["params"].get("ticket_id") == str(ticket_id)]


def test_the_station_errand_types_are_listed_with_documents_and_time_limits(station):
    types = station.client("desk").get("/ticket-types", headers=auth("resident")).json["items"]
    by_code = {t["code"]: t for t in types}
    assert set(by_code) == {"party_membership_transfer", "medical_insurance", "pension_insurance",
                            "elderly_subsidy", "consultation"}
    assert by_code["elderly_subsidy"]["name_zh"] == "高龄老人补贴"
    assert "户口簿" in by_code["elderly_subsidy"]["documents_zh"]
    assert all(t["limit_working_days"] >= 1 and len(t["documents_zh"]) == len(t["documents_en"]) for t in types)


def test_an_admin_changes_a_checklist_without_a_code_change(station):
    client = station.client("desk")
    body = {"name_zh": "咨询", "name_en": "Consultation", "documents_zh": ["身份证"], "documents_en": ["ID card"],
            "limit_working_days": 2}
    assert client.put("/ticket-types/consultation", json=body, headers=auth("staff")).status_code == 403
    changed = client.put("/ticket-types/consultation", json=body, headers=auth("admin"))
    assert changed.status_code == 200 and changed.json["documents_zh"] == ["身份证"]
    ticket = open_ticket(station, type="consultation")
    assert ticket["due_date"] >= ticket["created_at"][:10]


def test_every_allowed_transition_to_done_and_a_follow_up(station):
    ticket = open_ticket(station)
    for status, extra in [("accepted", {}), ("in_progress", {}),
                          ("waiting_on_resident", {"missing_documents": ["户口簿 Household register"]}),
                          ("in_progress", {}), ("done", {})]:
        response = move(station, ticket["id"], status, **extra)
        assert response.status_code == 200, response.json
        assert response.json["status"] == status
    follow_up = station.client("desk").post(f"/tickets/{ticket['id']}/follow-up",
                                            json={"satisfaction": 5, "remark": "很满意"}, headers=auth("staff"))
    assert follow_up.status_code == 200 and follow_up.json["satisfaction"] == 5
    history = follow_up.json["history"]
    assert [(h["from_status"], h["to_status"]) for h in history if h["kind"] == "transition"] == [
        ("submitted", "accepted"), ("accepted", "in_progress"), ("in_progress", "waiting_on_resident"),
        ("waiting_on_resident", "in_progress"), ("in_progress", "done")]
    assert all(h["actor"] == "test-staff" for h in history if h["kind"] != "created")
    assert [m["template"] for m in resident_messages(station, ticket["id"])] == [
        "ticket_accepted", "ticket_waiting", "ticket_resumed", "ticket_done"]
    waiting = resident_messages(station, ticket["id"])[1]
    assert waiting["params"]["missing"] == "户口簿 Household register" and waiting["recipient"] == "13812345678"
    done = resident_messages(station, ticket["id"])[3]
    assert done["params"]["link"] == f"http://127.0.0.1:8080/errands/{ticket['id']}/follow-up"


def test_the_done_sms_links_to_the_follow_up_page_of_the_configured_portal(station):
    ticket = open_ticket(station)
    for status in ("accepted", "in_progress"):
        assert move(station, ticket["id"], status).status_code == 200
    with station.database("desk").transaction() as session:
        tickets.transition(session, ticket["id"], "done", "test-staff", portal_url="https://yizhan.example.cn/")
    done = resident_messages(station, ticket["id"])[-1]
    assert done["template"] == "ticket_done"
    assert done["params"]["link"] == f"https://yizhan.example.cn/errands/{ticket['id']}/follow-up"


@pytest.mark.parametrize("path", [["rejected"], ["accepted", "rejected"], ["accepted", "in_progress", "rejected"],
                                  ["accepted", "in_progress", "waiting_on_resident", "rejected"]])
def test_an_open_ticket_may_be_rejected_with_a_reason(station, path):
    ticket = open_ticket(station)
    for status in path[:-1]:
        extra = {"missing_documents": ["身份证"]} if status == "waiting_on_resident" else {}
        assert move(station, ticket["id"], status, **extra).status_code == 200
    assert move(station, ticket["id"], "rejected").status_code == 422
    rejected = move(station, ticket["id"], "rejected", reason="不符合申领条件 Not eligible")
    assert rejected.status_code == 200 and rejected.json["status"] == "rejected"
    assert resident_messages(station, ticket["id"])[-1]["params"]["reason"] == "不符合申领条件 Not eligible"


def test_a_transition_the_machine_does_not_allow_names_the_allowed_ones(station):
    ticket = open_ticket(station)
    refused = move(station, ticket["id"], "done")
    assert refused.status_code == 409
    assert refused.json["error"]["fields"]["status"] == ["allowed: accepted, rejected"]
    move(station, ticket["id"], "rejected", reason="重复 duplicate")
    closed = move(station, ticket["id"], "accepted")
    assert closed.status_code == 409 and "none" in closed.json["error"]["fields"]["status"][0]


def test_waiting_on_the_resident_names_what_is_missing(station):
    ticket = open_ticket(station)
    move(station, ticket["id"], "accepted")
    move(station, ticket["id"], "in_progress")
    response = move(station, ticket["id"], "waiting_on_resident")
    assert response.status_code == 422 and "missing_documents" in response.json["error"]["fields"]


def test_assignment_and_notes_are_in_the_history(station):
    ticket = open_ticket(station)
    client = station.client("desk")
    assert client.post(f"/tickets/{ticket['id']}/assign", json={"assignee": "staff-chen"},
                       headers=auth("staff")).json["assignee"] == "staff-chen"
    noted = client.post(f"/tickets/{ticket['id']}/notes", json={"text": "已电话联系 Called the resident"},
                        headers=auth("staff"))
    assert noted.status_code == 201
    kinds = [(h["kind"], h["text"]) for h in noted.json["history"]]
    assert ("assigned", "— → staff-chen") in kinds and ("note", "已电话联系 Called the resident") in kinds
    mine = client.get("/tickets?assignee=staff-chen", headers=auth("staff")).json["items"]
    assert ticket["id"] in [t["id"] for t in mine]


@pytest.mark.parametrize("resident, field", [
    ({"name": "王", "phone": "12345678901"}, "resident.phone"),
    ({"name": "王", "phone": "01012345678"}, "resident.phone"),  # a landline is not a mobile
    ({"name": "王", "phone": "13812345678", "id_number": "110105194912310021"}, "resident.id_number"),
])
def test_a_resident_whose_numbers_do_not_check_out_is_refused(station, resident, field):
    response = station.client("desk").post("/tickets", headers=auth("staff"), json={
        "type": "consultation", "summary": "x", "resident": resident})
    assert response.status_code == 422 and field in response.json["error"]["fields"]


def test_an_unknown_errand_type_is_refused(station):
    response = station.client("desk").post("/tickets", headers=auth("staff"), json={
        "type": "passport", "summary": "x", "resident": RESIDENT})
    assert response.status_code == 422 and response.json["error"]["code"] == "unknown_type"


def test_the_same_idempotency_key_opens_one_ticket(station):
    first = open_ticket(station, idempotency_key="counter-2026-001")
    again = open_ticket(station, idempotency_key="counter-2026-001")
    assert first["id"] == again["id"]


@pytest.mark.parametrize("opened, limit, due", [
    ("2026-09-18", 1, "2026-09-20"),   # Friday → the make-up Sunday
    ("2026-09-18", 3, "2026-09-22"),
    ("2026-09-30", 5, "2026-10-13"),   # across National Day, with Saturday 10 October (调休) a working day
    ("2026-12-30", 2, "2027-01-01"),   # 2027 not bundled: Monday–Friday
])
def test_the_due_date_counts_working_days_on_the_official_calendar(station, opened, limit, due):
    from datetime import date

    data = {"type": "consultation", "summary": "x", "details": "", "idempotency_key": None,
            "resident": {"name": "王", "phone": "13812345678"}}
    with station.database("desk").transaction() as session:
        from services.services_desk.models import TicketType
        ticket_type = session.get(TicketType, "consultation")
        original, ticket_type.limit_working_days = ticket_type.limit_working_days, limit
        ticket = tickets.create_ticket(session, data, "staff", "staff:test", WorkingCalendar(),
                                       date.fromisoformat(opened))
        assert ticket.due_date.isoformat() == due
        ticket_type.limit_working_days = original


@pytest.mark.parametrize("today, flag", [("2026-10-08", None), ("2026-10-12", "due_soon"), ("2026-10-13", "due_soon"),
                                         ("2026-10-14", "overdue")])
def test_tickets_near_or_past_their_limit_are_flagged(today, flag):
    from datetime import date

    ticket = Ticket(status="in_progress", due_date=date(2026, 10, 13))
    assert tickets.deadline_flag(ticket, WorkingCalendar(), date.fromisoformat(today)) == flag
    ticket.status = "done"
    assert tickets.deadline_flag(ticket, WorkingCalendar(), date.fromisoformat(today)) is None


def test_the_overdue_list_holds_only_open_tickets_due_within_a_working_day(station):
    from datetime import date

    fresh = open_ticket(station)  # pension: 10 working days ahead
    with station.database("desk").transaction() as session:
        late = tickets.create_ticket(session, {"type": "consultation", "summary": "late", "details": "",
                                               "idempotency_key": None, "resident": RESIDENT},
                                     "staff", "staff:test", WorkingCalendar(), date(2026, 1, 5))
        late_id = late.id
    listed = station.client("desk").get("/tickets?overdue=true&per_page=100", headers=auth("staff")).json["items"]
    ids = {t["id"]: t["flag"] for t in listed}
    assert ids.get(late_id) == "overdue" and fresh["id"] not in ids


def test_refusals_inside_the_domain_store_nothing(station):
    with pytest.raises(Refused):
        with station.database("desk").transaction() as session:
            tickets.create_ticket(session, {"type": "nope", "summary": "x", "resident": RESIDENT,
                                            "idempotency_key": "nothing-stored"}, "staff", "staff:test",
                                  WorkingCalendar(), None)
    with station.database("desk").reader() as session:
        assert session.scalar(select(Ticket).where(Ticket.idempotency_key == "nothing-stored")) is None
