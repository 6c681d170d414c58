"""A phone staff add to an organisation signs in to the portal as its contact; removed, it is a resident again."""

import pytest

from tests.portal.test_sign_in import sign_in_in_process

# The pages act the same on either database: once, on SQLite (tests/portal/conftest.py).
PAGES_ON_SQLITE_ONLY = True

pytestmark = pytest.mark.e2e

PHONE = "13900001401"


def test_an_added_phone_signs_in_as_the_organisations_contact_until_removed(running_portal, portal_app):
    station = running_portal
    name = station.http("booking", "GET", "/organizations/1").json()["name"]
    before = sign_in_in_process(portal_app, PHONE)
    assert "身份：居民" in before.get("/account").text

    added = station.http("booking", "POST", "/organizations/1/contact-phones", json={"phone": PHONE})
    assert added.status_code == 201, added.text
    contact = sign_in_in_process(portal_app, PHONE)
    assert f"身份：{name}的联系人" in contact.get("/account").text

    refused = station.http("booking", "POST", "/organizations/2/contact-phones", json={"phone": PHONE})
    assert refused.status_code == 409 and "phone" in refused.json()["error"]["fields"]
    for role, org in (("org", 1), ("resident", None)):
        answer = station.http("booking", "POST", "/organizations/1/contact-phones", role=role, org=org,
                              json={"phone": "13900001402"})
        assert answer.status_code == 403

    removed = station.http("booking", "DELETE", f"/organizations/1/contact-phones/{PHONE}")
    assert removed.status_code == 204
    after = sign_in_in_process(portal_app, PHONE)
    assert "身份：居民" in after.get("/account").text
