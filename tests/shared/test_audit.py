"""The audit log (issue 13): an entry is written in the change's own transaction, names who,
what, which subject and the fields before and after; every API lists its own entries at
GET /audit-log, to admins only, newest first."""

from datetime import date, datetime, timedelta, timezone

import pytest

from shared.audit import VALUE_MAX_CHARS, changed_fields, record_change
from shared.auth import Principal
from tests.conftest import auth

ADMIN = Principal(sub="portal:7", role="admin")
STAFF = Principal(sub="portal:8", role="staff")


def entries(station, service: str, **query) -> dict:
    answer = station.client(service).get("/audit-log", query_string=query, headers=auth("admin"))
    assert answer.status_code == 200, answer.get_json()
    return answer.get_json()


def test_only_the_fields_that_changed_are_kept_with_their_before_and_after():
    changes = changed_fields({"name": "合唱团", "phone": "13700000001", "score": 100},
                             {"name": "垦家合唱团", "phone": "13700000001", "score": 90, "kind": "social_group"})
    assert changes == {"kind": [None, "social_group"], "name": ["合唱团", "垦家合唱团"], "score": [100, 90]}


def test_dates_and_long_text_are_kept_as_json_can_hold_them():
    changes = changed_fields({"on": date(2026, 12, 1), "body": "短"}, {"on": date(2026, 12, 2), "body": "长" * 5000})
    assert changes["on"] == ["2026-12-01", "2026-12-02"]
    assert len(changes["body"][1]) == VALUE_MAX_CHARS + 1 and changes["body"][1].endswith("…")


@pytest.mark.parametrize("service", ["booking", "desk", "notify"])
def test_a_change_is_listed_newest_first_with_who_what_and_why(station, service):
    subject = f"test-subject:{service}"
    with station.database(service).transaction() as session:
        record_change(session, ADMIN, "thing.update", subject, before={"name": "旧"}, after={"name": "新"})
    with station.database(service).transaction() as session:
        record_change(session, STAFF, "thing.adjust", subject, reason="补录 a correction")
    page = entries(station, service, subject=subject)
    assert page["total"] == 2
    newest, oldest = page["items"]
    assert (newest["actor"], newest["action"], newest["reason"], newest["changes"]) == \
        ("staff:portal:8", "thing.adjust", "补录 a correction", {})
    assert (oldest["actor"], oldest["action"], oldest["changes"]) == ("admin:portal:7", "thing.update", {"name": ["旧", "新"]})
    assert datetime.fromisoformat(newest["at"]).utcoffset() == timedelta(hours=8)


def test_an_edit_that_changed_nothing_leaves_no_entry(station):
    with station.database("notify").transaction() as session:
        assert record_change(session, ADMIN, "thing.update", "test-subject:same", before={"a": 1}, after={"a": 1}) is None
    assert entries(station, "notify", subject="test-subject:same")["total"] == 0


def test_a_change_rolled_back_takes_its_entry_with_it(station):
    with pytest.raises(RuntimeError):
        with station.database("desk").transaction() as session:
            record_change(session, ADMIN, "thing.update", "test-subject:rolled-back", before={"a": 1}, after={"a": 2})
            raise RuntimeError("the change failed")
    assert entries(station, "desk", subject="test-subject:rolled-back")["total"] == 0


def test_the_list_filters_by_actor_action_and_moment(station):
    subject = "test-subject:filters"
    with station.database("booking").transaction() as session:
        record_change(session, ADMIN, "thing.create", subject, after={"a": 1})
        record_change(session, STAFF, "thing.delete", subject, before={"a": 1})
    assert [e["action"] for e in entries(station, "booking", subject=subject, actor="staff:portal:8")["items"]] == ["thing.delete"]
    assert [e["actor"] for e in entries(station, "booking", subject=subject, action="thing.create")["items"]] == ["admin:portal:7"]
    later = (datetime.now(timezone.utc) + timedelta(minutes=5)).isoformat()
    assert entries(station, "booking", subject=subject, since=later)["total"] == 0


@pytest.mark.parametrize("service", ["booking", "desk", "notify"])
@pytest.mark.parametrize("role", ["staff", "org", "resident", "system"])
def test_only_admins_read_the_audit_log(station, service, role):
    answer = station.client(service).get("/audit-log", headers=auth(role, 1 if role == "org" else None))
    assert answer.status_code == 403


@pytest.mark.parametrize("query", [{"per_page": 0}, {"since": "yesterday"}, {"subject": "x" * 121}])
def test_a_malformed_query_is_refused_plainly(station, query):
    answer = station.client("booking").get("/audit-log", query_string=query, headers=auth("admin"))
    assert answer.status_code == 422


def test_the_audit_log_is_in_each_apis_openapi_document(station):
    for service in ("booking", "desk", "notify"):
        spec = station.client(service).get("/openapi.json").get_json()
        assert "get" in spec["paths"]["/audit-log"]
