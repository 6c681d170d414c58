"""Migration 0004 on a desk database that already holds keyed tickets and review cases."""

from datetime import date, datetime, timezone

import sqlalchemy as sa
from alembic import command

from shared.migrations import alembic_config, upgrade
from tests.conftest import FreshDatabases

AT = datetime(2026, 12, 1, 2, 0, tzinfo=timezone.utc)


def test_existing_tickets_and_cases_get_an_owner_that_no_resident_token_guesses(backend, tmp_path):
    databases = FreshDatabases(backend, tmp_path)
    url = databases.urls["desk"]
    engine = sa.create_engine(url)
    try:
        command.downgrade(alembic_config("desk", url), "0003")
        tables = sa.MetaData()
        tables.reflect(engine)
        with engine.begin() as connection:
            connection.execute(tables.tables["ticket_types"].insert(), [{
                "code": "consultation", "name_zh": "咨询", "name_en": "Consultation", "documents_zh": [],
                "documents_en": [], "limit_working_days": 1, "active": True}])
            connection.execute(tables.tables["tickets"].insert(), [{
                "id": n, "idempotency_key": f"k{n}", "type_code": "consultation", "resident_name": "王",
                "resident_phone": "13800000000", "summary": "s", "details": "", "status": "submitted",
                "missing_documents": [], "due_date": date(2026, 12, 2), "created_by": creator, "created_at": AT}
                for n, creator in ((1, "system"), (2, "li"))])
            connection.execute(tables.tables["review_cases"].insert(), [{
                "id": 5, "booking_id": 42, "idempotency_key": "booking:42:review", "status": "open",
                "venue": {"id": 3}, "organization": {"id": 4, "name": "队"}, "start": AT, "end": AT, "title": "t",
                "attendees": 1, "contact": {}, "opened_at": AT}])
        upgrade("desk", url)
        with engine.begin() as connection:
            owners = connection.execute(sa.text("SELECT id, owner FROM tickets ORDER BY id")).all()
            assert [tuple(row) for row in owners] == [(1, "task"), (2, "unrecorded:li")]
            assert connection.execute(sa.text("SELECT organization_id FROM review_cases")).scalar() == 4
        command.downgrade(alembic_config("desk", url), "0003")
        with engine.begin() as connection:
            assert connection.execute(sa.text("SELECT count(*) FROM tickets")).scalar() == 2
    finally:
        engine.dispose()
        databases.drop()
