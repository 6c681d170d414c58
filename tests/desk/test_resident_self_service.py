"""A resident follows their own errands and answers the follow-up question themself (issue 12, resident pages):
`GET /tickets` lists only the resident's own tickets, and `POST /tickets/<id>/follow-up` takes the resident's
score once, for their own done ticket only."""

from tests.conftest import auth

RESIDENT = {"name": "赵大爷", "phone": "13800000801"}
OTHER = {"name": "钱阿姨", "phone": "13800000802"}


def open_as(station, sub, resident, summary="高龄补贴 Subsidy"):
    response = station.client("desk").post("/tickets", headers=auth("resident", sub=sub), json={
        "type": "consultation", "summary": summary, "resident": resident})
    assert response.status_code == 201, response.json
    return response.json


def finish(station, ticket_id):
    for status in ("accepted", "in_progress", "done"):
        response = station.client("desk").post(f"/tickets/{ticket_id}/transition", json={"status": status},
                                               headers=auth("staff"))
        assert response.status_code == 200, response.json


def follow_up_as(station, sub, ticket_id, score):
    return station.client("desk").post(f"/tickets/{ticket_id}/follow-up", json={"satisfaction": score},
                                       headers=auth("resident", sub=sub))


def test_a_resident_lists_only_their_own_tickets(station):
    mine = open_as(station, "self-a", RESIDENT, summary="甲的事 A's errand")
    theirs = open_as(station, "self-b", OTHER, summary="乙的事 B's errand")
    listed = station.client("desk").get("/tickets", headers=auth("resident", sub="self-a"))
    assert listed.status_code == 200, listed.json
    ids = [item["id"] for item in listed.json["items"]]
    assert mine["id"] in ids and theirs["id"] not in ids
    assert "乙的事" not in listed.get_data(as_text=True)
    # Staff still see everyone's.
    everyone = station.client("desk").get("/tickets", headers=auth("staff"), query_string={"per_page": 100})
    assert {mine["id"], theirs["id"]} <= {item["id"] for item in everyone.json["items"]}


def test_a_resident_answers_the_follow_up_once_for_their_own_done_ticket(station):
    ticket = open_as(station, "self-c", RESIDENT)
    not_yet = follow_up_as(station, "self-c", ticket["id"], 4)
    assert not_yet.status_code == 409
    finish(station, ticket["id"])
    assert follow_up_as(station, "self-d", ticket["id"], 1).status_code == 403
    answered = follow_up_as(station, "self-c", ticket["id"], 4)
    assert answered.status_code == 200 and answered.json["satisfaction"] == 4
    again = follow_up_as(station, "self-c", ticket["id"], 1)
    assert again.status_code == 409 and again.json["error"]["code"] == "already_answered"
    shown = station.client("desk").get(f"/tickets/{ticket['id']}", headers=auth("resident", sub="self-c")).json
    assert shown["satisfaction"] == 4
    assert [event["actor"] for event in shown["history"] if event["kind"] == "follow_up"] == ["self-c"]
