"""What the counter workbench needs of the desk (issue 13, page 2): a ticket taken in at the counter
belongs to the resident it is for, the workbench's lists, the ID number revealed only on purpose, and
an SMS when the missing documents are in."""

from datetime import timedelta

from services.services_desk.models import Ticket
from tests.conftest import auth
from tests.desk.test_tickets import RESIDENT, move, open_ticket, resident_messages

WALK_IN = {"name": "赵桂兰", "phone": "13800000731", "id_number": "11010519491231002X"}


def take_in(station, resident_subject="portal:731", resident=WALK_IN, staff="wang.fang", **changes):
    body = {"type": "elderly_subsidy", "summary": "高龄补贴申请 Subsidy", "resident": resident,
            "resident_subject": resident_subject, **changes}
    return station.client("desk").post("/tickets", json=body, headers=auth("staff", sub=staff))


def listed(station, query="", role="staff", sub="wang.fang"):
    response = station.client("desk").get(f"/tickets?per_page=100&{query}", headers=auth(role, sub=sub))
    assert response.status_code == 200, response.json
    return [t["id"] for t in response.json["items"]]


# --- a counter ticket is the resident's -------------------------------------------------------

def test_a_ticket_taken_in_for_a_resident_is_in_that_residents_list_and_no_one_elses(station):
    ticket = take_in(station, resident_subject="portal:731").json
    assert ticket["id"] in listed(station, role="resident", sub="portal:731")
    assert station.client("desk").get(f"/tickets/{ticket['id']}",
                                      headers=auth("resident", sub="portal:731")).status_code == 200
    assert ticket["id"] not in listed(station, role="resident", sub="portal:732")
    assert station.client("desk").get(f"/tickets/{ticket['id']}",
                                      headers=auth("resident", sub="portal:732")).status_code == 403


def test_the_history_still_names_the_staff_member_who_took_it_in(station):
    ticket = take_in(station, staff="li.counter").json
    assert [(h["kind"], h["actor"]) for h in ticket["history"]] == [("created", "li.counter")]


def test_an_organisation_account_with_that_subject_does_not_see_a_residents_ticket(station):
    ticket = take_in(station, resident_subject="portal:733").json
    assert station.client("desk").get(f"/tickets/{ticket['id']}",
                                      headers=auth("org", 1, sub="portal:733")).status_code == 403


def test_a_resident_cannot_open_a_ticket_in_someone_elses_name(station):
    body = {"type": "consultation", "summary": "咨询", "resident": RESIDENT, "resident_subject": "portal:734"}
    response = station.client("desk").post("/tickets", json=body, headers=auth("resident", sub="portal:999"))
    assert response.status_code == 403
    assert ticket_ids_of(station, "portal:734") == []


def ticket_ids_of(station, subject):
    return listed(station, role="resident", sub=subject)


def test_a_resident_subject_that_no_token_could_carry_is_refused(station):
    for bad in ("", " ", "x" * 101, "portal:\n1"):
        response = take_in(station, resident_subject=bad)
        assert response.status_code == 422, bad
        assert "resident_subject" in response.json["error"]["fields"]


# --- the workbench's lists -------------------------------------------------------------------

def set_due_date(station, ticket_id, days_from_today):
    from services.services_desk.api.tickets import today

    with station.database("desk").transaction() as session:
        session.get(Ticket, ticket_id).due_date = today() + timedelta(days=days_from_today)


def test_unassigned_and_mine_lists(station):
    ticket = take_in(station).json
    assert ticket["id"] in listed(station, "unassigned=true")
    station.client("desk").post(f"/tickets/{ticket['id']}/assign", json={"assignee": "wang.fang"},
                                headers=auth("staff", sub="wang.fang"))
    assert ticket["id"] not in listed(station, "unassigned=true")
    assert ticket["id"] in listed(station, "assignee=wang.fang")


def test_overdue_and_due_soon_lists_follow_the_deadline_flag(station):
    late, soon, later = (take_in(station).json["id"] for _ in range(3))
    set_due_date(station, late, -1)
    set_due_date(station, soon, 0)
    set_due_date(station, later, 30)
    overdue, due_soon = listed(station, "flag=overdue"), listed(station, "flag=due_soon")
    assert late in overdue and soon not in overdue and later not in overdue
    assert soon in due_soon and late not in due_soon and later not in due_soon


def test_a_closed_ticket_is_in_no_deadline_list_and_not_in_the_open_list(station):
    ticket = take_in(station).json["id"]
    set_due_date(station, ticket, -3)
    move(station, ticket, "rejected", reason="不符合条件 Not eligible")
    assert ticket not in listed(station, "flag=overdue")
    assert ticket not in listed(station, "open=true")
    assert ticket in listed(station, "open=false")


def test_an_unknown_list_filter_value_is_refused(station):
    response = station.client("desk").get("/tickets?flag=late", headers=auth("staff"))
    assert response.status_code == 422 and "flag" in response.json["error"]["fields"]


# --- the ID number, revealed on purpose -------------------------------------------------------

def test_staff_see_a_ticket_masked_and_nothing_is_recorded(station):
    ticket = take_in(station).json
    seen = station.client("desk").get(f"/tickets/{ticket['id']}", headers=auth("staff", sub="wang.fang")).json
    assert seen["resident"]["id_number"] == "1101**********002X" and seen["resident"]["phone"] == "138****0731"
    assert "viewed" not in [h["kind"] for h in seen["history"]]


def test_a_reveal_shows_the_numbers_whole_and_is_recorded_with_who_asked(station):
    ticket = take_in(station).json
    revealed = station.client("desk").post(f"/tickets/{ticket['id']}/reveal", headers=auth("staff", sub="wang.fang"))
    assert revealed.status_code == 200
    assert revealed.json["resident"]["id_number"] == WALK_IN["id_number"]
    assert revealed.json["resident"]["phone"] == WALK_IN["phone"]
    assert ("viewed", "wang.fang") in [(h["kind"], h["actor"]) for h in revealed.json["history"]]
    audit = station.client("desk").get(f"/audit-log?subject=ticket:{ticket['id']}", headers=auth("admin")).json
    assert [(e["actor"], e["action"]) for e in audit["items"]] == [("staff:wang.fang", "ticket.reveal_personal_data")]


def test_only_staff_reveal_and_an_unknown_ticket_is_404(station):
    ticket = take_in(station, resident_subject="portal:735").json
    for role, sub in (("resident", "portal:735"), ("org", "portal:735"), ("system", "x")):
        org = 1 if role == "org" else None
        response = station.client("desk").post(f"/tickets/{ticket['id']}/reveal", headers=auth(role, org, sub=sub))
        assert response.status_code == 403, role
    assert station.client("desk").post("/tickets/999999/reveal", headers=auth("staff")).status_code == 404


# --- what the resident is told ----------------------------------------------------------------

def test_the_resident_is_told_when_the_missing_documents_are_in(station):
    ticket = open_ticket(station)["id"]
    for status, extra in [("accepted", {}), ("in_progress", {}),
                          ("waiting_on_resident", {"missing_documents": ["户口簿", "银行卡"]}), ("in_progress", {})]:
        assert move(station, ticket, status, **extra).status_code == 200
    assert [m["template"] for m in resident_messages(station, ticket)] == [
        "ticket_accepted", "ticket_waiting", "ticket_resumed"]
