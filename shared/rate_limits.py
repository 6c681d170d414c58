"""Rate limits (Flask-Limiter, counted in Redis so every API process shares them).

One budget per client per minute on each endpoint: the client is who its
verified token says it is (role, subject, organisation), else its address. A write costs as much as four
reads. The SMS channel has its own, stricter guard: the daily cap per
recipient in notify. If Redis cannot be asked, requests go through: a limiter
must not take the station down.
"""

import hashlib
import json

from flask import request
from flask_limiter import Limiter

from shared.auth import current_principal
from shared.errors import Unauthorized

EXEMPT_PATHS = ("/healthz", "/metrics", "/openapi.json", "/docs")
WRITE_COST = 4


def client_key() -> str:
    """The verified caller, not the header's text: keyed on the raw `Authorization`,
    `bearer <t>`, an extra space or a new token for the same person made a fresh budget."""
    try:
        principal = current_principal()
    except Unauthorized:  # no token, or one that does not verify: the address is all we know
        return "addr:" + (request.remote_addr or "unknown")
    caller = json.dumps([principal.role, principal.sub, principal.org_id])
    return "caller:" + hashlib.sha256(caller.encode()).hexdigest()[:32]


def request_cost() -> int:
    return WRITE_COST if request.method in ("POST", "PUT", "PATCH", "DELETE") else 1


def register_rate_limits(app, settings) -> Limiter:
    per_minute = int(settings.environ.get("YIZHAN_RATE_LIMIT_PER_MINUTE", "240"))
    limiter = Limiter(
        client_key, app=app, storage_uri=settings.redis_url,
        storage_options={"socket_connect_timeout": 1, "socket_timeout": 1},
        default_limits=[f"{per_minute} per minute"], default_limits_cost=request_cost,
        default_limits_exempt_when=lambda: request.path.startswith(EXEMPT_PATHS),
        key_prefix=f"yizhan:ratelimit:{app.name}", headers_enabled=True, swallow_errors=True,
        enabled=per_minute > 0, strategy="fixed-window",
    )
    return limiter
