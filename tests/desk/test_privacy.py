"""Residents' mobile and ID numbers: masked in lists, tickets and messages; whole only for staff
who reveal them on purpose, and the reveal is recorded."""

import json

from tests.conftest import auth
from tests.desk.test_tickets import RESIDENT, move, open_ticket, resident_messages


def test_lists_show_numbers_masked(station):
    ticket = open_ticket(station)
    listed = station.client("desk").get("/tickets?per_page=100", headers=auth("staff")).json["items"]
    shown = next(t for t in listed if t["id"] == ticket["id"])["resident"]
    assert shown["phone"] == "138****5678"
    assert shown["id_number"] == "1101**********002X"
    assert RESIDENT["phone"] not in json.dumps(listed) and RESIDENT["id_number"] not in json.dumps(listed)


def test_staff_see_the_numbers_whole_only_when_they_reveal_them_and_the_reveal_is_recorded(station):
    ticket = open_ticket(station)
    assert ticket["resident"]["phone"] == "138****5678"  # the creation response is masked too
    opened = station.client("desk").get(f"/tickets/{ticket['id']}", headers=auth("staff", sub="staff-li")).json
    assert opened["resident"]["phone"] == "138****5678" and RESIDENT["id_number"] not in str(opened)
    seen = station.client("desk").post(f"/tickets/{ticket['id']}/reveal", headers=auth("staff", sub="staff-li")).json
    assert seen["resident"]["phone"] == "13812345678"
    assert seen["resident"]["id_number"] == "11010519491231002X"
    assert ("viewed", "staff-li") in [(h["kind"], h["actor"]) for h in seen["history"]]


def test_a_resident_sees_their_own_ticket_masked_and_no_one_elses(station):
    client = station.client("desk")
    body = {"type": "consultation", "summary": "咨询", "resident": RESIDENT}
    mine = client.post("/tickets", json=body, headers=auth("resident", sub="resident-wang")).json
    own = client.get(f"/tickets/{mine['id']}", headers=auth("resident", sub="resident-wang"))
    assert own.status_code == 200 and own.json["resident"]["phone"] == "138****5678"
    assert "viewed" not in [h["kind"] for h in own.json["history"]]
    assert client.get(f"/tickets/{mine['id']}", headers=auth("resident", sub="resident-zhao")).status_code == 403
    # Their list (the portal's "my errands") holds their own tickets only, masked too.
    listed = client.get("/tickets", headers=auth("resident", sub="resident-wang")).json["items"]
    assert [t["id"] for t in listed] == [mine["id"]] and listed[0]["resident"]["phone"] == "138****5678"
    assert client.get("/tickets", headers=auth("resident", sub="resident-zhao")).json["items"] == []


def test_messages_to_the_resident_carry_no_numbers_in_their_text(station):
    ticket = open_ticket(station)
    move(station, ticket["id"], "accepted")
    for message in resident_messages(station, ticket["id"]):
        text = json.dumps(message["params"], ensure_ascii=False)
        assert RESIDENT["phone"] not in text and RESIDENT["id_number"] not in text


def test_only_staff_move_tickets(station):
    ticket = open_ticket(station)
    for role in ("resident", "system"):
        response = station.client("desk").post(f"/tickets/{ticket['id']}/transition", json={"status": "accepted"},
                                               headers=auth(role))
        assert response.status_code == 403
