"""The three services by name, for commands that act on each in turn."""

import importlib
from functools import cache

from shared.settings import SERVICE_PACKAGES

__all__ = ["migrate_service", "seed_service", "service_app"]


@cache
def service_app(name: str):
    return importlib.import_module(SERVICE_PACKAGES[name]).create_app()


def migrate_service(name: str, settings) -> None:
    from shared.migrations import upgrade

    upgrade(name, settings.database_url(name))


def seed_service(name: str) -> dict:
    """Load a service's own data (idempotent); return what was added."""
    module = importlib.import_module(f"{SERVICE_PACKAGES[name]}.seed")
    with service_app(name).extensions["yizhan"].database.transaction() as session:
        return module.seed(session)
