"""Who may open which page (issue 13): every staff page refuses a resident and an organisation's
contact with 403, every admin page refuses staff too; no one signed in is sent to the staff
sign-in. The pages are found in the portal's URL map, so a page added later is covered without
touching this test: a staff page is any path under /staff/ (but its sign-in), an admin page any
path under /admin."""

import uuid

import pytest

from services.portal import create_app
from services.portal.models import Account
from shared.settings import Settings
from tests.conftest import FreshDatabases, station_environment
from tests.processes import free_port

ROLES = ("resident", "org", "staff", "admin")
# Each route's parameters get a value of the right shape; the role check comes before any lookup.
SAMPLE_VALUES = {"int": 1, "default": "x", "string": "x", "path": "x"}


@pytest.fixture(scope="module")
def portal_app(work_dir):
    directory = work_dir / f"roles-{uuid.uuid4().hex[:8]}"
    directory.mkdir()
    databases = FreshDatabases("sqlite", directory)
    # No API answers here: a page that gets past the role check fails to reach it (503), which
    # is still not a 403.
    env = {**station_environment("redis://127.0.0.1:1/0", databases.urls, directory, free_port()),
           **{f"PORTAL_{s.upper()}_URL": f"http://127.0.0.1:{free_port()}" for s in ("booking", "desk", "notify")}}
    app = create_app(Settings.from_env(env))
    app.config["WTF_CSRF_ENABLED"] = False  # so a POST meets the role check, not the CSRF check
    with app.extensions["yizhan"].database.transaction() as db:
        for number, role in enumerate(ROLES):
            db.add(Account(role=role, phone=f"+861370000{number:04d}" if role in ("resident", "org") else None,
                           org_id=1 if role == "org" else None,
                           username=f"roles-{role}" if role in ("staff", "admin") else None))
    yield app
    app.extensions["yizhan"].database.dispose()


def pages(app, prefix: str, excluded=("/staff/sign-in",)) -> list[tuple[str, str]]:
    found = []
    for rule in app.url_map.iter_rules():
        if not rule.rule.startswith(prefix) or rule.rule.startswith(excluded):
            continue
        values = {name: SAMPLE_VALUES.get(type(converter).__name__.replace("Converter", "").lower(), "x")
                  for name, converter in rule._converters.items()}
        path = rule.build(values, append_unknown=False)[1]
        found.extend((method, path) for method in sorted(rule.methods - {"HEAD", "OPTIONS"}))
    return found


def client_as(app, role: str):
    client = app.test_client()
    client.get("/staff/sign-in")
    with app.extensions["yizhan"].database.reader() as db:
        account_id = db.query(Account).filter_by(role=role).one().id
    with client.session_transaction() as session:
        session.sign_in(account_id)
    return client


def statuses(app, role: str, prefix: str) -> dict:
    client = client_as(app, role)
    return {(method, path): client.open(path, method=method).status_code for method, path in pages(app, prefix)}


def test_there_are_staff_and_admin_pages_to_check(portal_app):
    assert len(pages(portal_app, "/staff")) >= 1
    assert len(pages(portal_app, "/admin")) >= 1


@pytest.mark.parametrize("role", ["resident", "org"])
def test_residents_and_organisations_get_403_on_every_staff_and_admin_page(portal_app, role):
    for prefix in ("/staff", "/admin"):
        answers = statuses(portal_app, role, prefix)
        assert {page: status for page, status in answers.items() if status != 403} == {}


def test_staff_get_403_on_every_admin_page_and_pass_the_role_check_on_staff_pages(portal_app):
    admin_pages = statuses(portal_app, "staff", "/admin")
    assert {page: status for page, status in admin_pages.items() if status != 403} == {}
    staff_pages = statuses(portal_app, "staff", "/staff")
    assert {page: status for page, status in staff_pages.items() if status == 403} == {}


def test_admins_pass_the_role_check_everywhere(portal_app):
    for prefix in ("/staff", "/admin"):
        answers = statuses(portal_app, "admin", prefix)
        assert {page: status for page, status in answers.items() if status == 403} == {}


def test_no_one_signed_in_is_sent_to_the_staff_sign_in(portal_app):
    client = portal_app.test_client()
    for prefix in ("/staff", "/admin"):
        for method, path in pages(portal_app, prefix):
            answer = client.open(path, method=method)
            assert answer.status_code == 302 and answer.headers["Location"].startswith("/staff/sign-in"), (method, path)
