"""The local gateway of `make run`: one port, each service under its prefix.

    /booking/... → the booking API    /desk/... → the desk API    /notify/... → notify

It does what deploy/nginx.conf does in production: strips the prefix, passes
it on as X-Forwarded-Prefix (so /docs finds /booking/openapi.json), and gives
every request an X-Request-ID. Served by gunicorn with threads.
"""

import http.client
import json
import uuid

from shared.settings import SERVICES, load_settings

HOP_BY_HOP = {"connection", "keep-alive", "proxy-authenticate", "proxy-authorization", "te", "trailers",
              "transfer-encoding", "upgrade"}
MAX_BODY = 1024 * 1024


def create_gateway(settings=None):
    settings = settings or load_settings()
    upstreams = {name: ("127.0.0.1", settings.service_ports[name]) for name in SERVICES}

    def app(environ, start_response):
        path = environ.get("PATH_INFO", "")
        prefix, _, rest = path.lstrip("/").partition("/")
        if path in ("", "/"):
            return _json(start_response, "200 OK", {"services": {n: f"/{n}/docs" for n in SERVICES}})
        if prefix not in upstreams:
            return _json(start_response, "404 Not Found",
                         {"error": {"code": "not_found", "message": "未找到 Not found.", "fields": {}}})
        length = int(environ.get("CONTENT_LENGTH") or 0)
        if length > MAX_BODY:
            return _json(start_response, "413 Payload Too Large",
                         {"error": {"code": "payload_too_large", "message": "请求过大 The request is too large.", "fields": {}}})
        body = environ["wsgi.input"].read(length) if length else None
        target = "/" + rest + (f"?{environ['QUERY_STRING']}" if environ.get("QUERY_STRING") else "")
        headers = _forwarded_headers(environ, prefix)
        connection = http.client.HTTPConnection(*upstreams[prefix], timeout=60)
        try:
            connection.request(environ["REQUEST_METHOD"], target, body=body, headers=headers)
            response = connection.getresponse()
            payload = response.read()
        except OSError:
            return _json(start_response, "502 Bad Gateway",
                         {"error": {"code": "bad_gateway", "message": f"{prefix} 服务暂不可用 {prefix} is not answering.", "fields": {}}})
        finally:
            connection.close()
        out = [(k, v) for k, v in response.getheaders() if k.lower() not in HOP_BY_HOP | {"content-length"}]
        out.append(("Content-Length", str(len(payload))))
        start_response(f"{response.status} {response.reason}", out)
        return [payload]

    return app


def _forwarded_headers(environ, prefix: str) -> dict:
    headers = {key[5:].replace("_", "-").title(): value for key, value in environ.items() if key.startswith("HTTP_")}
    headers = {k: v for k, v in headers.items() if k.lower() not in HOP_BY_HOP}
    if environ.get("CONTENT_TYPE"):
        headers["Content-Type"] = environ["CONTENT_TYPE"]
    headers["X-Forwarded-Prefix"] = f"/{prefix}"
    headers["X-Forwarded-For"] = environ.get("REMOTE_ADDR", "")
    headers["X-Forwarded-Proto"] = environ.get("wsgi.url_scheme", "http")
    headers["X-Forwarded-Host"] = environ.get("HTTP_HOST", "")
    headers.setdefault("X-Request-Id", uuid.uuid4().hex)
    return headers


def _json(start_response, status: str, body: dict):
    data = json.dumps(body, ensure_ascii=False).encode()
    start_response(status, [("Content-Type", "application/json"), ("Content-Length", str(len(data)))])
    return [data]
