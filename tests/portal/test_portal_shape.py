"""The portal's Alembic history builds exactly the tables its models declare, on both databases."""

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import create_engine

from services.portal.models import Base


def test_the_portals_migrations_match_its_models(station):
    engine = create_engine(station.databases.urls["portal"])
    try:
        with engine.connect() as connection:
            differences = compare_metadata(MigrationContext.configure(connection), Base.metadata)
    finally:
        engine.dispose()
    assert differences == [], "models changed without a migration: run alembic revision --autogenerate"
