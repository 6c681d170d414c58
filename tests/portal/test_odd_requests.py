"""No address or form the portal is sent gives a 500 or a traceback: each answer is a page."""

import pytest
import requests

# The pages act the same on either database: once, on SQLite (tests/portal/conftest.py).
PAGES_ON_SQLITE_ONLY = True

pytestmark = pytest.mark.e2e

ODD_PATHS = ["/venues/99999999999999999999", "/venues/0", "/venues/-1", "/venues/3?week=%00", "/venues/3?week=9999-12-31",
             "/venues/3?week=0001-01-01", "/venues/3?week=2026-13-45", "/language/xx", "/language/en?next=%00",
             "/language/en?next=//evil.example", "/sign-in?next=%0d%0a", "/sign-in/code", "/account", "/static/../seed.py",
             "/%E9%A9%BF", "/sign-out"]


@pytest.mark.parametrize("path", ODD_PATHS)
def test_an_odd_address_is_answered_with_a_page(running_portal, path):
    answer = requests.get(running_portal.portal.url + path, allow_redirects=False, timeout=10)
    assert answer.status_code < 500, (path, answer.status_code)
    assert "Traceback" not in answer.text
    if answer.status_code >= 300 and answer.status_code < 400:
        location = answer.headers["Location"]
        assert location.startswith("/") and not location.startswith("//"), location


@pytest.mark.parametrize("form", [{"phone": "1" * 5000}, {"phone": "\u0000"}, {"phone": ["1", "2"]}, {}])
def test_an_odd_form_is_answered_with_a_page(running_portal, form):
    client = requests.Session()
    page = client.get(f"{running_portal.portal.url}/sign-in", timeout=10).text
    token = page.split('name="csrf_token" value="', 1)[1].split('"', 1)[0]
    answer = client.post(f"{running_portal.portal.url}/sign-in", data={**form, "csrf_token": token}, timeout=10)
    assert answer.status_code in (400, 413, 422) and "Traceback" not in answer.text
