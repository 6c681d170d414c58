"""Security headers on every response, and a Swagger UI that needs no internet (issue 11 §6).

Each service's responses, whatever their status, carry X-Content-Type-Options,
X-Frame-Options (and CSP frame-ancestors) and Cache-Control: no-store, and no
Server header naming a version; /docs loads its JavaScript and CSS from the
service itself, since a station's intranet may have no internet.
"""

import re
from html.parser import HTMLParser
from urllib.parse import urljoin, urlsplit

import pytest
import requests

from tests.conftest import auth
from tests.processes import api_process, free_port, wait_healthy

SERVICES = ("booking", "desk", "notify")
# One request of each kind per service: (method, path, authenticated, json body, expected status).
RESPONSES = [
    ("GET", "/healthz", False, None, 200),
    ("GET", "/metrics", False, None, 200),
    ("GET", "/openapi.json", False, None, 200),
    ("GET", "/docs", False, None, 200),
    ("GET", "/no-such-page", False, None, 404),
    ("DELETE", "/healthz", False, None, 405),
]
AUTHENTICATED = {  # a page each service answers with personal or per-caller data, and one it refuses (401, 422)
    "booking": [("GET", "/bookings", 200), ("GET", "/venues", 401), ("POST", "/bookings", 422)],
    "desk": [("GET", "/tickets", 200), ("GET", "/tickets", 401), ("POST", "/tickets", 422)],
    "notify": [("GET", "/templates", 200), ("GET", "/templates", 401), ("POST", "/messages", 422)],
}


def assert_security_headers(headers, what: str) -> None:
    assert headers.get("X-Content-Type-Options") == "nosniff", what
    assert headers.get("X-Frame-Options") == "DENY", what
    assert "frame-ancestors 'none'" in headers.get("Content-Security-Policy", ""), what
    assert not re.search(r"\d", headers.get("Server", "")), f"{what}: Server {headers.get('Server')!r} names a version"


@pytest.mark.parametrize("service", SERVICES)
def test_every_kind_of_response_carries_the_security_headers(station, service):
    client = station.client(service)
    for method, path, _, body, status in RESPONSES:
        response = client.open(path, method=method, json=body)
        assert response.status_code == status, f"{method} {path}: {response.status_code}"
        assert_security_headers(response.headers, f"{method} {path}")
        assert response.headers.get("Cache-Control") == "no-store", f"{method} {path}"


@pytest.mark.parametrize("service", SERVICES)
def test_authenticated_answers_and_refusals_are_never_stored_by_a_browser_or_proxy(station, service):
    client = station.client(service)
    for method, path, status in AUTHENTICATED[service]:
        headers = {} if status == 401 else auth("staff")
        response = client.open(path, method=method, json={} if method == "POST" else None, headers=headers)
        assert response.status_code == status, f"{method} {path}: {response.status_code}"
        assert_security_headers(response.headers, f"{method} {path} ({status})")
        assert response.headers.get("Cache-Control") == "no-store", f"{method} {path} ({status})"


class Links(HTMLParser):
    """Every src= and href= of a page."""

    def __init__(self):
        super().__init__()
        self.urls = []

    def handle_starttag(self, tag, attrs):
        self.urls += [value for name, value in attrs if name in ("src", "href") and value]


def referenced_urls(html: str) -> list[str]:
    parser = Links()
    parser.feed(html)
    return parser.urls


@pytest.mark.parametrize("service", SERVICES)
def test_the_swagger_ui_is_served_by_the_service_itself(station, service):
    client = station.client(service)
    page = client.get("/docs")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    urls = referenced_urls(html)
    assert any(u.endswith(".js") for u in urls) and any(u.endswith(".css") for u in urls), urls
    assert not re.search(r"https?://", html), "the page names an external host"
    # Swagger UI would otherwise send the spec's URL to validator.swagger.io for its badge.
    assert '"validatorUrl": null' in html
    for url in urls:
        absolute = urljoin("http://localhost/docs", url)
        assert urlsplit(absolute).netloc == "localhost", url
        asset = client.get(urlsplit(absolute).path)
        assert asset.status_code == 200, f"{url}: {asset.status_code}"
        assert asset.mimetype in ("text/javascript", "application/javascript", "text/css"), asset.mimetype
        assert len(asset.get_data()) > 10_000, url
        assert_security_headers(asset.headers, url)


def test_behind_a_prefix_the_swagger_ui_asks_for_its_files_under_that_prefix(station):
    """nginx and the local gateway strip /booking and send X-Forwarded-Prefix: the page's links must keep it."""
    client = station.client("booking")
    html = client.get("/docs", headers={"X-Forwarded-Prefix": "/booking"}).get_data(as_text=True)
    for url in referenced_urls(html):
        path = urlsplit(urljoin("http://station/booking/docs", url)).path
        assert path.startswith("/booking/"), url
        assert client.get(path.removeprefix("/booking")).status_code == 200, url


@pytest.mark.e2e
def test_under_gunicorn_no_response_names_a_server_version(station, tmp_path):
    """The headers as a client sees them from gunicorn, which adds its own Server header."""
    port = free_port()
    process = api_process("desk", port, station.env, tmp_path).start()
    try:
        base = f"http://127.0.0.1:{port}"
        wait_healthy(base)
        for path, status in (("/healthz", 200), ("/no-such-page", 404), ("/tickets", 401), ("/docs", 200)):
            response = requests.get(base + path, timeout=10)
            assert response.status_code == status, path
            assert_security_headers(response.headers, path)
            assert "," not in response.headers.get("Server", ""), "two Server headers"
        page = requests.get(base + "/docs", timeout=10).text
        for url in referenced_urls(page):
            assert requests.get(urljoin(base + "/docs", url), timeout=10).status_code == 200, url
    finally:
        process.stop()
