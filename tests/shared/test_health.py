"""/healthz checks the database and the broker; /metrics speaks Prometheus."""

import pytest

from services.services_desk import create_app

CLOSED_PORT_REDIS = "redis://127.0.0.1:1/0"
UNREACHABLE_DATABASE = "postgresql+psycopg://postgres@127.0.0.1:1/nothing"


def test_healthy_when_database_and_broker_answer(station):
    response = station.client("desk").get("/healthz")
    assert response.status_code == 200
    assert response.json["checks"] == {"database": "ok", "broker": "ok"}


def test_unavailable_when_the_broker_is_down(station):
    app = create_app(station.settings.with_overrides(redis_url=CLOSED_PORT_REDIS))
    response = app.test_client().get("/healthz")
    assert response.status_code == 503
    assert response.json["checks"]["broker"].startswith("down")
    assert response.json["checks"]["database"] == "ok"


def test_unavailable_when_the_database_is_down(station):
    urls = {**station.settings.database_urls, "desk": UNREACHABLE_DATABASE}
    app = create_app(station.settings.with_overrides(database_urls=urls))
    response = app.test_client().get("/healthz")
    assert response.status_code == 503
    assert response.json["checks"]["database"].startswith("down")


@pytest.mark.parametrize("service", ["booking", "desk", "notify"])
def test_metrics_count_requests_by_endpoint_and_status(station, service):
    client = station.client(service)
    client.get("/healthz")
    text = client.get("/metrics").get_data(as_text=True)
    assert 'yizhan_http_requests_total{endpoint="/healthz",method="GET",service="%s",status="200"}' % service in text
    assert "yizhan_http_request_duration_seconds_bucket" in text
