"""An errand from another community system, through real workers, to the resident's phone."""

import json
import uuid

import pytest
import redis

from shared import contracts
from tests.conftest import auth
from tests.processes import wait_until
from tests.raw_tasks import post_task

pytestmark = pytest.mark.e2e


def test_an_errand_posted_by_another_system_is_done_and_the_resident_told_each_step(running_station):
    station = running_station
    phone = "13900000088"
    key = f"street-office-{uuid.uuid4()}"
    client = redis.Redis.from_url(station.env["REDIS_URL"])
    post_task(client, contracts.CREATE_TICKET, {
        "v": 1, "idempotency_key": key, "type": "elderly_subsidy", "summary": "高龄老人补贴申领 Subsidy claim",
        "resident": {"name": "黄朝安", "phone": phone, "id_number": "11010519491231002X"}, "details": "90岁"})
    client.close()

    def ticket():
        items = station.http("desk", "GET", "/tickets?type=elderly_subsidy&per_page=100").json()["items"]
        return [t for t in items if t["resident"]["phone"] == "139****0088"]
    found = wait_until(ticket, 30, 0.3, "the ticket")[0]
    assert found["status"] == "submitted" and found["resident"]["id_number"] == "1101**********002X"

    steps = [("accepted", {}), ("in_progress", {}),
             ("waiting_on_resident", {"missing_documents": ["老人本人银行卡或存折"]}), ("in_progress", {}), ("done", {})]
    for status, extra in steps:
        moved = station.http("desk", "POST", f"/tickets/{found['id']}/transition", json={"status": status, **extra})
        assert moved.status_code == 200, moved.text

    def texts():
        path = station.log_dir / "sms.log"
        lines = [json.loads(line) for line in path.read_text().splitlines()] if path.exists() else []
        return [line["body"] for line in lines if line["to"] == "+86" + phone]  # notify stores E.164
    try:
        bodies = wait_until(lambda: len(texts()) >= 4 and texts(), 30, 0.3, "four SMS to the resident")
    except AssertionError:
        print(station.logs())
        raise
    assert len(bodies) == 4  # delivered by parallel worker processes, so in any order
    assert any("已受理" in b and f"工单{found['id']}" in b for b in bodies)
    assert any("还需补充:老人本人银行卡或存折" in b for b in bodies)
    assert any("补充的材料已收到" in b for b in bodies)
    assert any("已办结" in b for b in bodies)
    assert all("11010519491231002X" not in b for b in bodies)
    # The done SMS links, whole, to the portal's follow-up question (issue 12, resident item 3).
    portal = station.env.get("YIZHAN_PORTAL_URL", "http://127.0.0.1:8080").rstrip("/")
    done = next(b for b in bodies if "已办结" in b)
    assert done.endswith(f"请为本次服务打分: {portal}/errands/{found['id']}/follow-up"), done


def test_no_log_line_or_dead_letter_listing_holds_a_secret_a_phone_or_an_id_number(running_station):
    import subprocess

    from tests.processes import BIN

    station = running_station
    client = redis.Redis.from_url(station.env["REDIS_URL"])
    key = f"leaky-{uuid.uuid4()}"
    post_task(client, contracts.CREATE_TICKET, {  # refused (no such type), so it becomes a dead letter
        "v": 1, "idempotency_key": key, "type": "no-such-errand", "summary": "x",
        "resident": {"name": "黄", "phone": "13900000089", "id_number": "11010519491231002X"}})
    client.close()
    cli = [str(BIN / "yizhan"), "dead-letters", "list", "--service", "desk"]
    listing = wait_until(lambda: (out := subprocess.run(cli, env=station.env, capture_output=True, text=True,
                                                         check=True).stdout) and key in out and out,
                         30, 0.5, "the dead letter")
    logs = "\n".join(p.log_text() for p in station.processes.values())
    for secret in ("13900000088", "13900000089", "11010519491231002X", station.env["YIZHAN_SECRET_KEY"]):
        assert secret not in logs, f"{secret[:4]}… in a log line"
        assert secret not in listing, f"{secret[:4]}… in the dead-letter listing"
    assert "139****0089" in listing


def test_a_key_reused_by_another_system_for_another_resident_is_refused_not_merged(running_station):
    """Tasks carry no token, so every system posting desk.create_ticket shares one owner ("task");
    a key already used for another resident is refused as a dead letter, never merged into that ticket."""
    from sqlalchemy import select

    from services.services_desk.models import Ticket

    station = running_station
    key = f"shared-{uuid.uuid4()}"
    client = redis.Redis.from_url(station.env["REDIS_URL"])
    post_task(client, contracts.CREATE_TICKET, {"v": 1, "idempotency_key": key, "type": "consultation",
                                                "summary": "甲 A", "resident": {"name": "甲", "phone": "13900000091"}})

    def tickets():
        with station.database("desk").reader() as session:
            return session.scalars(select(Ticket).where(Ticket.idempotency_key == key)).all()
    first = wait_until(tickets, 30, 0.3, "the first ticket")[0]
    refused_id = post_task(client, contracts.CREATE_TICKET, {
        "v": 1, "idempotency_key": key, "type": "consultation", "summary": "乙 B",
        "resident": {"name": "乙", "phone": "13900000092"}})
    client.close()
    dead = station.database("desk").infrastructure.dead_letter

    def letter():
        with station.database("desk").reader() as session:
            return session.scalars(select(dead).where(dead.task_id == refused_id)).all()
    found = wait_until(letter, 30, 0.3, "the refused repeat's dead letter")[0]
    assert "idempotency_key" in found.reason
    assert [t.id for t in tickets()] == [first.id] and tickets()[0].resident_phone == "13900000091"

    # A resident token whose subject is "system" is still not the task's owner.
    response = station.http("desk", "GET", f"/tickets/{first.id}", headers=auth("resident", sub="system"))
    assert response.status_code == 403
