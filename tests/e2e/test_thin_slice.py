"""One booking crosses all three services through real processes:
booking API → outbox → desk worker → staff decision → booking worker → notify worker → SMS log and SMTP."""

import json

import pytest

from tests.conftest import isolated_redis_url, launched_station, make_booking
from tests.processes import wait_until

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def running_station(backend, work_dir, redis_server):
    """As in conftest, but with two processes per API, as deployed, for the merged metrics."""
    with launched_station(backend, work_dir, isolated_redis_url(redis_server.url), api_workers=2) as station:
        yield station


def poll_json(station, service, path, predicate, what, timeout=30):
    def check():
        response = station.http(service, "GET", path)
        assert response.status_code == 200, response.text
        body = response.json()
        return body if predicate(body) else None
    try:
        return wait_until(check, timeout, 0.2, what)
    except AssertionError:
        print(station.logs())
        raise


@pytest.fixture(scope="module")
def approved_slice(running_station):
    """One booking requested, reviewed, approved and told to its booker; the metrics tests read what it left."""
    station = running_station
    request = make_booking(contact={"name": "林海燕", "phone": "13800000011", "email": "slice@example.org"})

    created = station.http("booking", "POST", "/bookings", role="org", org=1, json=request,
                           headers={"X-Request-ID": "slice-request-0001"})
    assert created.status_code == 201, created.text
    booking = created.json()
    reviews = poll_json(station, "desk", "/reviews?status=open",
                        lambda b: any(r["booking_id"] == booking["id"] for r in b["items"]), "the review case")
    review = next(r for r in reviews["items"] if r["booking_id"] == booking["id"])
    decided = station.http("desk", "POST", f"/reviews/{review['id']}/decision", json={"decision": "approve"})
    assert decided.status_code == 200, decided.text
    approved = poll_json(station, "booking", f"/bookings/{booking['id']}",
                         lambda b: b["status"] == "approved", "the booking to be approved")

    def approval_messages(body):
        mine = [m for m in body["items"] if m["idempotency_key"].startswith(f"booking:{booking['id']}:booking_approved")]
        return len(mine) == 1 and mine[0]["status"] == "sent"
    sms = poll_json(station, "notify", "/messages?recipient=13800000011", approval_messages, "the approval SMS")
    email = poll_json(station, "notify", "/messages?recipient=slice@example.org", approval_messages, "the approval e-mail")
    return {"created": booking, "review": review, "decided": decided.json(), "approved": approved,
            "sms": sms, "email": email}


def test_an_approved_booking_reaches_the_booker_by_sms_and_email(running_station, approved_slice):
    station, slice_ = running_station, approved_slice
    assert slice_["created"]["status"] == "pending_review"
    assert slice_["review"]["venue"]["code"] == "meeting-room"
    assert slice_["review"]["organization"]["credit_score"] == 100
    assert slice_["decided"]["status"] == "approved"
    assert [h["to_status"] for h in slice_["approved"]["history"]] == ["pending_review", "approved"]
    assert {m["provider"] for m in slice_["sms"]["items"]} == {"log"}
    assert {m["provider"] for m in slice_["email"]["items"]} == {"smtp"}

    sms_lines = [json.loads(line) for line in (station.log_dir / "sms.log").read_text().splitlines()]
    assert any(line["to"] == "+8613800000011" and "已通过审核" in line["body"] for line in sms_lines)
    def subjects():
        return {str(m["Subject"]) for m in station.smtp.received if m["To"] == "slice@example.org"}
    # The request's own e-mail went out first, unless a retry held it back: wait for both.
    wait_until(lambda: {"预约已通过:支部主题党日 Party day", "预约已收到:支部主题党日 Party day"} <= subjects(),
               30, 0.2, "both e-mails at the SMTP sink")


def test_the_request_id_travels_with_the_booking_through_every_worker(running_station):
    station = running_station
    created = station.http("booking", "POST", "/bookings", role="org", org=1, json=make_booking(),
                           headers={"X-Request-ID": "trace-me-4242"})
    assert created.status_code == 201
    assert created.headers["X-Request-ID"] == "trace-me-4242"
    for worker in ("desk-worker", "notify-worker"):
        process = station.processes[worker]
        wait_until(lambda: "trace-me-4242" in process.log_text(), 30, 0.2, f"request id in {worker}'s log")
    for line in station.processes["desk-worker"].log_text().splitlines():
        if "trace-me-4242" in line:
            entry = json.loads(line)
            assert entry["service"] == "desk" and entry["task_name"] == "desk.review_booking"
            break


def test_every_service_answers_health_openapi_and_docs(running_station):
    for service in ("booking", "desk", "notify"):
        assert running_station.http(service, "GET", "/healthz").json()["status"] == "ok"
        spec = running_station.http(service, "GET", "/openapi.json").json()
        assert spec["openapi"].startswith("3.") and spec["paths"]
        assert "swagger-ui" in running_station.http(service, "GET", "/docs").text


def test_metrics_are_merged_across_the_api_processes(running_station, approved_slice):
    from concurrent.futures import ThreadPoolExecutor

    with ThreadPoolExecutor(8) as pool:
        statuses = list(pool.map(lambda _: running_station.http("booking", "GET", "/venues").status_code, range(40)))
    assert statuses == [200] * 40
    counted_by = {path.stem.split("_")[-1] for path in (running_station.log_dir / "prometheus-booking").glob("counter_*.db")}
    assert len(counted_by) >= 2, f"one API process took every request: {counted_by}"
    text = running_station.http("booking", "GET", "/metrics").text
    line = next(l for l in text.splitlines()
                if l.startswith("yizhan_http_requests_total{") and 'endpoint="/venues"' in l and 'status="200"' in l)
    assert float(line.rsplit(" ", 1)[1]) == 40
    assert 'endpoint="/bookings",method="POST",service="booking",status="201"' in text


def test_metrics_show_queues_outboxes_and_messages(running_station, approved_slice):
    texts = {s: running_station.http(s, "GET", "/metrics").text for s in ("booking", "desk", "notify")}
    for service, text in texts.items():
        assert f'yizhan_outbox_backlog{{service="{service}"}}' in text
        assert f'yizhan_outbox_oldest_age_seconds{{service="{service}"}}' in text
        for queue in ("booking", "desk", "notify"):
            assert f'yizhan_queue_depth{{queue="{queue}"}}' in text
    sent = [line for line in texts["notify"].splitlines()
            if line.startswith('yizhan_messages{channel="sms",provider="log",status="sent"}')]
    assert sent and float(sent[0].rsplit(" ", 1)[1]) >= 1


def test_each_worker_serves_task_metrics_merged_across_its_processes(running_station, approved_slice):
    import requests

    for service in ("booking", "desk", "notify"):
        text = requests.get(running_station.processes[f"{service}-worker"].metrics_url, timeout=5).text
        assert 'yizhan_tasks_total{outcome="received"' in text
        succeeded = [l for l in text.splitlines() if l.startswith("yizhan_tasks_total{") and 'outcome="succeeded"' in l]
        assert sum(float(l.rsplit(" ", 1)[1]) for l in succeeded) >= 1, service
        assert "yizhan_task_duration_seconds_bucket" in text
