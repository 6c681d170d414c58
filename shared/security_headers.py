"""Headers every response of a service carries, whatever made it (issue 11 §6).

After the OWASP Secure Headers Project: a browser must not guess a JSON body
into a script or a page, must not show our pages inside another site's frame,
and must not keep a copy of what we answer. The rule for caching is the
simplest one that is safe: `Cache-Control: no-store` on every response that
does not set its own. Every API answer is about a caller or changes with time
(bookings with contact phones, tickets, messages, and refusals that echo the
input), so none should sit in a browser's or proxy's cache; the only response
that sets its own is the Swagger UI's files (shared/swagger_ui.py), which hold
no personal data.

gunicorn adds `Server: gunicorn` itself, without its version; it has no setting
to drop it (gunicorn/http/wsgi.py Response.default_headers), and the name alone
tells an attacker little. A `Server` header from the application, such as one
a proxy passes on from upstream, is dropped.
"""

SECURITY_HEADERS = {
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    # The same as X-Frame-Options, for browsers that follow CSP Level 2 instead.
    "Content-Security-Policy": "frame-ancestors 'none'",
}
DEFAULT_CACHE_CONTROL = "no-store"


class SecurityHeaders:
    """WSGI middleware: what it wraps answers with the security headers, errors and all.

    Middleware rather than Flask's after_request, so that a response made
    outside Flask's handlers (the gateway's own, another middleware's) has them too.
    """

    def __init__(self, wsgi_app):
        self.wsgi_app = wsgi_app

    def __call__(self, environ, start_response):
        def start_with_headers(status, headers, exc_info=None):
            return start_response(status, with_security_headers(headers), exc_info)

        return self.wsgi_app(environ, start_with_headers)


def with_security_headers(headers: list[tuple[str, str]]) -> list[tuple[str, str]]:
    replaced = {name.lower() for name in SECURITY_HEADERS} | {"server"}
    kept = [(name, value) for name, value in headers if name.lower() not in replaced]
    kept += SECURITY_HEADERS.items()
    if not any(name.lower() == "cache-control" for name, _ in kept):
        kept.append(("Cache-Control", DEFAULT_CACHE_CONTROL))
    return kept


def register_security_headers(app) -> None:
    app.wsgi_app = SecurityHeaders(app.wsgi_app)
