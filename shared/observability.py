"""`/healthz` and `/metrics`, the two endpoints every service answers without a token."""

import os
import time

import redis
from flask import Blueprint, Response, current_app, g, jsonify, request

from shared.series import series
from shared.state_metrics import StateCollector
from prometheus_client import (CONTENT_TYPE_LATEST, REGISTRY, CollectorRegistry, Counter, Histogram,
                               generate_latest, multiprocess)

HTTP_REQUESTS = Counter("yizhan_http_requests_total", "HTTP requests answered",
                        ["service", "endpoint", "method", "status"])
HTTP_LATENCY = Histogram("yizhan_http_request_duration_seconds", "Time to answer an HTTP request",
                         ["service", "endpoint"])

# A label value is a new time series for as long as the process lives (prometheus_client docs,
# "Labels"): a client inventing methods must not invent series, so the rest count as "other".
KNOWN_METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})

blueprint = Blueprint("observability", __name__)


def _check(probe) -> str:
    try:
        probe()
        return "ok"
    except Exception as exc:  # any failure means "down"; the type says why
        return f"down: {type(exc).__name__}"


def _ping_redis():
    client = redis.Redis.from_url(current_app.config["REDIS_URL"], socket_connect_timeout=1, socket_timeout=1)
    try:
        client.ping()
    finally:
        client.close()


@blueprint.get("/healthz")
def healthz():
    service = current_app.extensions["yizhan"]
    checks = {"database": _check(service.database.ping), "broker": _check(_ping_redis)}
    healthy = all(v == "ok" for v in checks.values())
    body = {"status": "ok" if healthy else "unavailable", "service": service.name, "checks": checks}
    return jsonify(body), 200 if healthy else 503


@blueprint.get("/metrics")
def metrics():
    service = current_app.extensions["yizhan"]
    body = generate_latest(_registry())
    state = CollectorRegistry()
    state.register(StateCollector(service, current_app.extensions.get("state_metrics")))
    return Response(body + generate_latest(state), mimetype=CONTENT_TYPE_LATEST)


def _registry():
    """With several gunicorn processes, merge what each wrote to PROMETHEUS_MULTIPROC_DIR
    (prometheus_client docs, "Multiprocess Mode")."""
    if not os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        return REGISTRY
    registry = CollectorRegistry()
    multiprocess.MultiProcessCollector(registry)
    return registry


def start_timer():
    g.started_at = time.perf_counter()


def record_request(response):
    endpoint = request.url_rule.rule if request.url_rule else "unmatched"
    service = current_app.extensions["yizhan"].name
    method = request.method if request.method in KNOWN_METHODS else "other"
    series(HTTP_REQUESTS, service, endpoint, method, str(response.status_code)).inc()
    if "started_at" in g:
        series(HTTP_LATENCY, service, endpoint).observe(time.perf_counter() - g.started_at)
    return response
