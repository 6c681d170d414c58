"""Rate limits, counted in Redis: a flood gets 429 in the error format, health checks never do."""

import uuid

from services.services_desk import create_app
from tests.conftest import auth


def limited_app(station, per_minute):
    environ = {**station.settings.environ, "YIZHAN_RATE_LIMIT_PER_MINUTE": str(per_minute)}
    app = create_app(station.settings.with_overrides(environ=environ))
    app.extensions["limiter"].reset()
    return app.test_client()


def test_a_flood_of_writes_from_one_resident_is_stopped(station):
    client = limited_app(station, 20)  # a write costs 4: five tickets a minute
    headers = auth("resident", sub=f"flooder-{uuid.uuid4()}")
    body = {"type": "consultation", "summary": "咨询", "resident": {"name": "匿名", "phone": "13800000401"}}
    codes = [client.post("/tickets", json=body, headers=headers).status_code for _ in range(7)]
    assert codes[:5] == [201] * 5 and codes[5:] == [429, 429]
    refused = client.post("/tickets", json=body, headers=headers)
    assert refused.json["error"]["code"] == "too_many_requests" and "Retry-After" in refused.headers
    other = client.post("/tickets", json=body, headers=auth("resident", sub=f"neighbour-{uuid.uuid4()}"))
    assert other.status_code == 201  # one client's flood does not stop the others


def test_reads_cost_less_and_health_checks_are_never_limited(station):
    client = limited_app(station, 8)
    headers = auth("resident", sub=f"reader-{uuid.uuid4()}")
    assert [client.get("/ticket-types", headers=headers).status_code for _ in range(9)][-1] == 429
    assert all(client.get("/healthz").status_code == 200 for _ in range(20))


def test_one_token_written_several_ways_has_one_budget(station):
    client = limited_app(station, 8)
    token = auth("resident", sub=f"respeller-{uuid.uuid4()}")["Authorization"].split(" ", 1)[1]
    spellings = [f"Bearer {token}", f"bearer {token}", f"Bearer  {token}", f"BEARER {token}", f"Bearer {token} "]
    codes = [client.get("/ticket-types", headers={"Authorization": spellings[i % len(spellings)]}).status_code
             for i in range(9)]
    assert codes[:8] == [200] * 8 and codes[8] == 429


def test_a_new_token_for_the_same_person_shares_their_budget(station):
    client = limited_app(station, 8)
    sub = f"reissuer-{uuid.uuid4()}"
    codes = [client.get("/ticket-types", headers=auth("resident", sub=sub, ttl=600 + i)).status_code for i in range(9)]
    assert codes[-1] == 429


def test_tokens_that_do_not_verify_are_counted_on_the_address(station):
    client = limited_app(station, 8)
    codes = [client.get("/ticket-types", headers={"Authorization": f"Bearer not-a-token-{i}"}).status_code
             for i in range(9)]
    assert codes[:8] == [401] * 8 and codes[8] == 429
