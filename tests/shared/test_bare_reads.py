"""Database.read_statements (issue 14: availability's one statement on a bare connection, not a
session): it must read as Database.reader does, never taking SQLite's write lock and never opening a
PostgreSQL transaction, or a busy availability page would queue the station's bookings behind it."""

import sqlite3

import pytest
from sqlalchemy import select

from services.booking.models import Venue


def test_a_bare_read_takes_no_write_lock_and_opens_no_transaction(station, backend):
    database = station.database("booking")
    with database.read_statements() as connection:
        assert connection.execute(select(Venue.__table__.c.code).where(Venue.__table__.c.id == 3)).scalar()
        if backend == "sqlite":  # another writer takes the lock at once: the read holds none
            other = sqlite3.connect(database.engine.url.database, timeout=0, isolation_level=None)
            try:
                other.execute("BEGIN IMMEDIATE")
                other.execute("ROLLBACK")
            finally:
                other.close()
        else:
            from psycopg.pq import TransactionStatus
            assert connection.connection.dbapi_connection.info.transaction_status == TransactionStatus.IDLE


def test_a_bare_read_goes_on_while_another_transaction_writes(station, backend):
    """A write transaction in progress (SQLite's write lock held) does not stop a bare read."""
    database = station.database("booking")
    if backend != "sqlite":
        pytest.skip("PostgreSQL's readers never wait on writers")
    other = sqlite3.connect(database.engine.url.database, timeout=0, isolation_level=None)
    try:
        other.execute("BEGIN IMMEDIATE")
        with database.read_statements() as connection:
            assert connection.execute(select(Venue.__table__.c.id).where(Venue.__table__.c.id == 3)).scalar() == 3
    finally:
        other.execute("ROLLBACK")
        other.close()
