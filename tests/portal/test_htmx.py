"""htmx in the portal over HTTP: the vendored file is the one its README names and is served
from the portal itself, cacheable under its versioned address; the venue page answers htmx
with the week grid alone and everyone else with the whole page; the CSP stays strict."""

import hashlib
import re
from pathlib import Path

import requests

import services.portal
from services.portal.views.public import HTMX_VERSION

# The pages act the same on either database: once, on SQLite (tests/portal/conftest.py).
PAGES_ON_SQLITE_ONLY = True

VENDOR = Path(services.portal.__file__).parent / "static" / "vendor"
HTMX_REQUEST = {"HX-Request": "true", "HX-Current-URL": "http://127.0.0.1/venues/3", "HX-Target": "week"}


def readme() -> str:
    return (VENDOR / "README.md").read_text(encoding="utf-8")


def test_the_vendored_htmx_is_the_file_its_readme_names():
    digest = hashlib.sha256((VENDOR / "htmx.min.js").read_bytes()).hexdigest()
    assert digest in readme()
    row = next(line for line in readme().splitlines() if line.startswith("| `htmx.min.js`"))
    assert "`htmx.org`" in row and f"| {HTMX_VERSION} |" in row and "0BSD" in row
    assert f"htmx.org-{HTMX_VERSION}.tgz" in row
    assert f'version:"{HTMX_VERSION}"' in (VENDOR / "htmx.min.js").read_text(encoding="utf-8")


def test_every_page_loads_htmx_from_the_portal_with_eval_and_injected_styles_off(running_portal):
    html = requests.get(running_portal.portal.url + "/venues/3", timeout=10).text
    scripts = re.findall(r"<script[^>]*>", html)
    assert scripts == [f'<script src="/static/vendor/htmx.min.js?v={HTMX_VERSION}" defer>'], scripts
    assert '"allowEval":false' in html and '"includeIndicatorStyles":false' in html


def test_the_vendored_script_is_served_as_javascript_and_cached_for_a_year(running_portal):
    answer = requests.get(f"{running_portal.portal.url}/static/vendor/htmx.min.js", params={"v": HTMX_VERSION},
                          timeout=10)
    assert answer.status_code == 200
    assert answer.headers["Content-Type"].split(";")[0] == "text/javascript"
    assert answer.content == (VENDOR / "htmx.min.js").read_bytes()
    cache = answer.headers["Cache-Control"]
    assert "max-age=31536000" in cache and "immutable" in cache and "public" in cache, cache
    # Without the version in the address a later upgrade could not reach a browser: not cached for long.
    unversioned = requests.get(f"{running_portal.portal.url}/static/vendor/htmx.min.js", timeout=10)
    assert "immutable" not in unversioned.headers.get("Cache-Control", "")


def test_the_policy_allows_scripts_and_styles_from_the_portal_only(running_portal):
    policy = requests.get(running_portal.portal.url + "/venues/3", timeout=10).headers["Content-Security-Policy"]
    directives = dict(part.strip().split(" ", 1) for part in policy.split(";"))
    assert directives["script-src"] == "'self'" and directives["style-src"] == "'self'", policy
    assert "unsafe-inline" not in policy and "unsafe-eval" not in policy and "http" not in policy


def test_htmx_gets_the_week_grid_alone(running_portal):
    answer = requests.get(running_portal.portal.url + "/venues/3", headers=HTMX_REQUEST, timeout=10)
    assert answer.status_code == 200
    assert "<html" not in answer.text and "<head" not in answer.text and "<h1" not in answer.text
    assert answer.text.count('class="day"') == 7
    assert 'id="next-week"' in answer.text
    assert "HX-Request" in answer.headers["Vary"]
    # The menu's language link comes along out of band, pointing at the week now shown.
    assert '<li id="language-switch" hx-swap-oob="true"><a href="/language/en?next=/venues/3"' in answer.text


def test_a_plain_request_and_a_history_restore_get_the_whole_page(running_portal):
    for headers in ({}, {**HTMX_REQUEST, "HX-History-Restore-Request": "true"}):
        answer = requests.get(running_portal.portal.url + "/venues/3", headers=headers, timeout=10)
        assert answer.text.lstrip().startswith("<!doctype html>"), headers
        assert '<div id="week" aria-live="polite">' in answer.text
        assert answer.text.count('id="language-switch"') == 1 and "hx-swap-oob" not in answer.text
        assert answer.text.count('class="day"') == 7
        assert "HX-Request" in answer.headers["Vary"]


def test_the_partial_and_the_page_show_the_same_week(running_portal):
    url = running_portal.portal.url + "/venues/3"
    page = requests.get(url, timeout=10).text
    next_week = re.search(r'id="next-week" href="([^"]+)"', page).group(1).replace("&amp;", "&")
    whole = requests.get(running_portal.portal.url + next_week, timeout=10).text
    part = requests.get(running_portal.portal.url + next_week, headers=HTMX_REQUEST, timeout=10).text
    headings = re.compile(r"<h[23][^>]*>[^<]+</h[23]>")
    assert headings.findall(part) == headings.findall(whole)[:8]
    assert headings.findall(part) != headings.findall(page)[:8]
