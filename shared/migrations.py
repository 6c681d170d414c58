"""Alembic, one migration history per service, driven from code (no alembic.ini).

`upgrade("booking", url)` applies services/booking/migrations to that database;
each service's `migrations/env.py` is a two-line call to `run_migrations`.
"""

import importlib
from pathlib import Path

from alembic import command, context
from alembic.config import Config
from sqlalchemy import engine_from_config, pool

from shared.db import UTCDateTime, ensure_sqlite_directory
from shared.settings import SERVICE_PACKAGES



def alembic_config(service: str, url: str) -> Config:
    package = importlib.import_module(SERVICE_PACKAGES[service])
    config = Config()
    config.set_main_option("script_location", str(Path(package.__file__).parent / "migrations"))
    # ConfigParser interpolation would read "%" in a password as a reference.
    config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return config


def upgrade(service: str, url: str, revision: str = "head") -> None:
    ensure_sqlite_directory(url)
    command.upgrade(alembic_config(service, url), revision)


def render_item(type_, obj, autogen_context):
    """Migrations name plain SQLAlchemy types, never the application's own."""
    if type_ == "type" and isinstance(obj, UTCDateTime):
        return "sa.DateTime(timezone=True)"
    return False


def run_migrations(target_metadata) -> None:
    """The body of every service's migrations/env.py."""
    config = context.config
    if context.is_offline_mode():
        context.configure(url=config.get_main_option("sqlalchemy.url"), target_metadata=target_metadata,
                          literal_binds=True, render_as_batch=True, render_item=render_item)
        with context.begin_transaction():
            context.run_migrations()
        return
    connectable = engine_from_config(config.get_section(config.config_ini_section, {}),
                                     prefix="sqlalchemy.", poolclass=pool.NullPool)
    with connectable.connect() as connection:
        # render_as_batch lets ALTER TABLE migrations work on SQLite too.
        context.configure(connection=connection, target_metadata=target_metadata, render_as_batch=True,
                          render_item=render_item)
        with context.begin_transaction():
            context.run_migrations()
