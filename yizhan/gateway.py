"""The local gateway of `make run`: one port, each service under its prefix.

    /booking/... → the booking API    /desk/... → the desk API    /notify/... → notify
    everything else → the portal (the pages), at /

It does what deploy/nginx.conf does in production: strips an API's prefix, passes
it on as X-Forwarded-Prefix (so /docs finds /booking/openapi.json), and gives
every request an X-Request-ID. `python -m yizhan.gateway HOST:PORT` serves it
with waitress, which reads each request whole before a thread runs this app
(waitress docs, "Design"), so clients that never finish sending hold no thread.
"""

import http.client
import json
import logging
import sys
import uuid
from urllib.parse import quote

import waitress
from waitress.channel import HTTPChannel
from waitress.task import ErrorTask

from shared.errors import HTTP_CODES, HTTP_MESSAGES
from shared.security_headers import with_security_headers
from shared.settings import PORTAL, SERVICES, load_settings

log = logging.getLogger(__name__)

HOP_BY_HOP = {"connection", "keep-alive", "proxy-authenticate", "proxy-authorization", "te", "trailers",
              "transfer-encoding", "upgrade"}
MAX_BODY = 1024 * 1024
# What RFC 3986 lets stand unencoded in a path (pchar and "/"); everything else is percent-encoded.
PATH_SAFE = "/:@!$&'()*+,;="
# In a query, "%" is already an escape and "?" and "/" are data: both stay as the client sent them.
QUERY_SAFE = PATH_SAFE + "%?"
# waitress holds at most this many connections, closes one idle this long (nginx's
# client_body_timeout is 60 s too), and refuses a body past this size before buffering
# it; the app refuses one past MAX_BODY, in JSON.
SERVER_OPTIONS = {"threads": 16, "connection_limit": 500, "channel_timeout": 60,
                  "max_request_body_size": 4 * MAX_BODY, "ident": "yizhan"}


def create_gateway(settings=None):
    settings = settings or load_settings()
    upstreams = {name: ("127.0.0.1", settings.service_ports[name]) for name in (*SERVICES, PORTAL)}

    def app(environ, start_response):
        try:
            return route(environ, start_response)
        except Exception:  # a gateway bug must still answer as every service does, never with an HTML page
            log.exception("gateway error")
            return _error(start_response, "502 Bad Gateway", "bad_gateway", "网关出错 The gateway failed.")

    def route(environ, start_response):
        path = environ.get("PATH_INFO", "")
        prefix, _, rest = path.lstrip("/").partition("/")
        if prefix not in SERVICES:  # the pages: the whole path goes to the portal, with no prefix
            prefix, rest = PORTAL, path.lstrip("/")
        body = _read_body(environ)
        if body is None:
            return _error(start_response, "413 Payload Too Large", "payload_too_large", "请求过大 The request is too large.")
        connection = http.client.HTTPConnection(*upstreams[prefix], timeout=60)
        try:
            connection.request(environ["REQUEST_METHOD"], upstream_target(rest, environ.get("QUERY_STRING", "")),
                               body=body or None, headers=_forwarded_headers(environ, "" if prefix == PORTAL else prefix))
            response = connection.getresponse()
            payload = response.read()
        except OSError:
            if prefix == PORTAL:  # a person with a browser, not a program: a page, in both languages
                return _page(start_response, "502 Bad Gateway", PORTAL_UNAVAILABLE)
            return _error(start_response, "502 Bad Gateway", "bad_gateway", f"{prefix} 服务暂不可用 {prefix} is not answering.")
        finally:
            connection.close()
        out = [(k, v) for k, v in response.getheaders() if k.lower() not in HOP_BY_HOP | {"content-length"}]
        out.append(("Content-Length", str(len(payload))))
        start_response(f"{response.status} {response.reason}", with_upstream_policy(out))
        return [payload]

    return app


def with_upstream_policy(headers: list) -> list:
    """The services' security headers on a proxied answer, once. A service's own
    Content-Security-Policy is kept: the portal's (no inline script, frame-ancestors
    'none') is stricter than the APIs' frame-ancestors alone."""
    own_policy = [value for name, value in headers if name.lower() == "content-security-policy"]
    merged = with_security_headers(headers)
    if own_policy:
        merged = [(name, value) for name, value in merged if name.lower() != "content-security-policy"]
        merged.append(("Content-Security-Policy", own_policy[0]))
    return merged


def upstream_target(rest: str, query: str) -> str:
    """The request target for the API, encoded again.

    PATH_INFO arrives percent-decoded, each byte as one latin-1 character (PEP 3333).
    Passed on as it is, a space, CR LF or any non-ASCII byte makes the request line
    invalid, and a `%3F` the client sent becomes a real `?` that starts a query.
    """
    target = "/" + quote(rest.encode("latin-1"), safe=PATH_SAFE)
    if query:
        target += "?" + quote(query.encode("latin-1"), safe=QUERY_SAFE)
    return target


def _read_body(environ) -> bytes | None:
    """The whole body, b"" for none, or None when it is over MAX_BODY.

    waitress has already read the request and gives a chunked body a CONTENT_LENGTH;
    without one, read until the server says the input ends (wsgi.input_terminated).
    """
    stream = environ["wsgi.input"]
    if environ.get("CONTENT_LENGTH"):
        length = int(environ["CONTENT_LENGTH"])
        return stream.read(length) if length <= MAX_BODY else None
    if environ.get("wsgi.input_terminated"):
        body = stream.read(MAX_BODY + 1)
        return body if len(body) <= MAX_BODY else None
    return b""


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


def _error(start_response, status: str, code: str, message: str):
    return _json(start_response, status, {"error": {"code": code, "message": message, "fields": {}}})


PORTAL_UNAVAILABLE = ("<!doctype html><html lang=\"zh-CN\"><head><meta charset=\"utf-8\">"
                      "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">"
                      "<title>驿站 Yizhan</title></head><body><main><h1>网页暂时打不开，请稍后再试</h1>"
                      "<p lang=\"en\">The station's pages are not answering; please try again shortly.</p>"
                      "</main></body></html>")


def _page(start_response, status: str, html: str):
    data = html.encode()
    start_response(status, with_security_headers([("Content-Type", "text/html; charset=utf-8"),
                                                  ("Content-Length", str(len(data)))]))
    return [data]


def _json(start_response, status: str, body: dict):
    data = json.dumps(body, ensure_ascii=False).encode()
    # The gateway's own answers (its 413, 502) carry the services' security headers too.
    start_response(status, with_security_headers([("Content-Type", "application/json"), ("Content-Length", str(len(data)))]))
    return [data]


class JsonErrorTask(ErrorTask):
    """What waitress answers itself (a request line that is not HTTP, raw non-ASCII bytes in
    the path, headers too large), in the services' JSON error shape rather than text."""

    def execute(self):
        error = self.request.error
        message = HTTP_MESSAGES.get(error.code, HTTP_MESSAGES[400])
        data = json.dumps({"error": {"code": HTTP_CODES.get(error.code, "bad_request"), "message": message,
                                     "fields": {}}}, ensure_ascii=False).encode()
        self.status = f"{error.code} {error.reason}"
        self.response_headers.append(("Content-Type", "application/json"))
        self.set_close_on_finish()
        self.content_length = len(data)
        self.write(data)


class JsonErrorChannel(HTTPChannel):
    error_task_class = JsonErrorTask


def serve(listen: str, settings=None) -> None:
    host, _, port = listen.rpartition(":")
    server = waitress.create_server(create_gateway(settings), host=host, port=int(port), **SERVER_OPTIONS)
    server.channel_class = JsonErrorChannel  # waitress makes each accepted connection's channel from this
    server.print_listen("yizhan gateway on http://{}:{}")
    server.run()


if __name__ == "__main__":
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(levelname)s %(message)s")
    serve(sys.argv[1])
