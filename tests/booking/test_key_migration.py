"""Migration 0004 on a database that already holds keyed bookings and request outcomes."""

from datetime import datetime, timezone

import pytest
import sqlalchemy as sa
from alembic import command

from shared.migrations import alembic_config, upgrade
from tests.conftest import FreshDatabases

AT = datetime(2026, 12, 1, 2, 0, tzinfo=timezone.utc)


def test_existing_keys_belong_to_their_organisation_after_0004_and_back(backend, tmp_path):
    databases = FreshDatabases(backend, tmp_path)
    url = databases.urls["booking"]
    engine = sa.create_engine(url)
    try:
        command.downgrade(alembic_config("booking", url), "0003")
        tables = sa.MetaData()
        tables.reflect(engine)
        with engine.begin() as connection:
            connection.execute(tables.tables["venues"].insert(), [{
                "id": 1, "code": "room", "name_zh": "室", "name_en": "Room", "location": "indoor", "area_m2": 20,
                "capacity": 10, "bookable": True, "opening_hours": {}, "min_minutes": 30, "max_minutes": 240,
                "description_zh": "", "description_en": ""}])
            connection.execute(tables.tables["organizations"].insert(), [
                {"id": n, "name": f"组织{n}", "name_en": "", "kind": "unit", "contact_name": "x",
                 "contact_phone": "13800000000", "contact_email": None, "created_at": AT} for n in (1, 2)])
            connection.execute(tables.tables["bookings"].insert(), [{
                "id": 7, "venue_id": 1, "organization_id": 2, "start": AT, "end": AT, "title": "t", "attendees": 1,
                "contact_name": "x", "contact_phone": "13800000000", "contact_email": None,
                "status": "pending_review", "idempotency_key": "old-key", "created_by": "system", "created_at": AT}])
            connection.execute(tables.tables["request_outcomes"].insert(), [
                {"idempotency_key": "old-key", "status": "accepted", "booking_id": 7, "reason": None, "fields": {},
                 "at": AT},
                {"idempotency_key": "refused-key", "status": "refused", "booking_id": None, "reason": "no",
                 "fields": {}, "at": AT}])
        upgrade("booking", url)
        with engine.begin() as connection:
            assert connection.execute(sa.text("SELECT idempotency_owner FROM bookings WHERE id = 7")).scalar() == "org:2"
            outcomes = connection.execute(sa.text(
                "SELECT organization_id, idempotency_key FROM request_outcomes ORDER BY idempotency_key")).all()
            assert [tuple(row) for row in outcomes] == [(2, "old-key"), (0, "refused-key")]
            # The same key for another owner is now allowed; for the same owner it is not.
            connection.execute(sa.text(
                "INSERT INTO bookings (id, venue_id, organization_id, start, \"end\", title, attendees, contact_name, "
                "contact_phone, status, idempotency_key, idempotency_owner, created_by, created_at) "
                "SELECT 8, venue_id, 1, start, \"end\", title, attendees, contact_name, contact_phone, status, "
                "idempotency_key, 'org:1', created_by, created_at FROM bookings WHERE id = 7"))
        with engine.begin() as connection, pytest.raises(sa.exc.IntegrityError):
            connection.execute(sa.text(
                "UPDATE bookings SET idempotency_owner = 'org:2' WHERE id = 8"))
        command.downgrade(alembic_config("booking", url), "0003")
        with engine.begin() as connection:
            keys = connection.execute(sa.text("SELECT id, idempotency_key FROM bookings ORDER BY id")).all()
            assert [tuple(row) for row in keys] == [(7, "old-key"), (8, None)]
    finally:
        engine.dispose()
        databases.drop()
