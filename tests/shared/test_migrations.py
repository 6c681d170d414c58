"""Each service's Alembic history builds exactly the tables its models declare."""

import importlib

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from shared.settings import SERVICE_PACKAGES, SERVICES


@pytest.mark.parametrize("service", SERVICES)
def test_migrations_match_the_models(station, service):
    metadata = importlib.import_module(f"{SERVICE_PACKAGES[service]}.models").Base.metadata
    with station.database(service).engine.connect() as connection:
        differences = compare_metadata(MigrationContext.configure(connection), metadata)
    assert differences == [], "models changed without a migration: run alembic revision --autogenerate"
