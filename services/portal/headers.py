"""The pages' own security headers, on top of every service's (shared/security_headers.py).

A Content-Security-Policy with no inline script or style and nothing from another
origin (the htmx and CSS files are served from /static), no framing, and no
Referer sent to other sites (a page's address may hold a booking's id).
"""

CONTENT_SECURITY_POLICY = ("default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
                           "font-src 'self'; connect-src 'self'; form-action 'self'; base-uri 'none'; "
                           "object-src 'none'; frame-ancestors 'none'")
PAGE_HEADERS = {
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "Referrer-Policy": "same-origin",
    "Permissions-Policy": "camera=(), microphone=(), geolocation=(), payment=()",
    "Cross-Origin-Opener-Policy": "same-origin",
}


class PortalHeaders:
    """WSGI middleware, outside SecurityHeaders: its CSP (frame-ancestors only) becomes the full one."""

    def __init__(self, wsgi_app):
        self.wsgi_app = wsgi_app

    def __call__(self, environ, start_response):
        def start_with_headers(status, headers, exc_info=None):
            names = {name.lower() for name in PAGE_HEADERS}
            kept = [(name, value) for name, value in headers if name.lower() not in names]
            return start_response(status, kept + list(PAGE_HEADERS.items()), exc_info)

        return self.wsgi_app(environ, start_with_headers)
