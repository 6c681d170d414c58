"""idempotency keys per owner: bookings by (owner, key), request outcomes by (organisation, key)

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-02

A client chooses its idempotency key, so a key alone is no identity: as
organisation 2, POST /bookings with organisation 1's key returned organisation
1's booking (issue 11). Bookings now keep who sent the key, unique per owner;
request outcomes are kept per organisation named in the task.

Existing keyed bookings are given the owner "org:<their organisation>" (the
sender was not recorded, and the organisation is the one whose booking it is);
existing outcomes take the organisation of their booking, or 0 for a refused
request, whose organisation was not kept.
"""
from typing import Sequence, Union

from alembic import op
import sqlalchemy as sa


revision: str = '0004'
down_revision: Union[str, Sequence[str], None] = '0003'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None

# SQLite reflects the unnamed unique constraint of 0001 without a name; batch mode names it by this
# convention so that it can be dropped (Alembic docs, "Dropping Unnamed or Named Foreign Key Constraints").
SQLITE_NAMES = {"uq": "uq_%(table_name)s_%(column_0_name)s"}


def _old_key_constraint(table: str) -> str:
    """The global unique constraint on idempotency_key: PostgreSQL named it <table>_<column>_key."""
    if op.get_bind().dialect.name == "postgresql":
        return f"{table}_idempotency_key_key"
    return f"uq_{table}_idempotency_key"


def upgrade() -> None:
    with op.batch_alter_table('bookings', schema=None, naming_convention=SQLITE_NAMES) as batch_op:
        batch_op.add_column(sa.Column('idempotency_owner', sa.String(length=120), nullable=True))
        batch_op.drop_constraint(_old_key_constraint('bookings'), type_='unique')
    op.execute("UPDATE bookings SET idempotency_owner = 'org:' || CAST(organization_id AS VARCHAR) "
               "WHERE idempotency_key IS NOT NULL")
    with op.batch_alter_table('bookings', schema=None) as batch_op:
        batch_op.create_unique_constraint('uq_bookings_idempotency_owner_key', ['idempotency_owner', 'idempotency_key'])

    # A new primary key: build the table anew, the same way on both databases.
    op.create_table('request_outcomes_by_organization',
    sa.Column('organization_id', sa.Integer(), autoincrement=False, nullable=False),
    sa.Column('idempotency_key', sa.String(length=200), nullable=False),
    sa.Column('status', sa.String(length=10), nullable=False),
    sa.Column('booking_id', sa.Integer(), nullable=True),
    sa.Column('reason', sa.Text(), nullable=True),
    sa.Column('fields', sa.JSON(), nullable=False),
    sa.Column('at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['booking_id'], ['bookings.id'], ),
    sa.PrimaryKeyConstraint('organization_id', 'idempotency_key')
    )
    op.execute(
        "INSERT INTO request_outcomes_by_organization "
        "(organization_id, idempotency_key, status, booking_id, reason, fields, at) "
        "SELECT COALESCE((SELECT b.organization_id FROM bookings b WHERE b.id = o.booking_id), 0), "
        "o.idempotency_key, o.status, o.booking_id, o.reason, o.fields, o.at FROM request_outcomes o")
    op.drop_table('request_outcomes')
    op.rename_table('request_outcomes_by_organization', 'request_outcomes')


def downgrade() -> None:
    """Back to global keys: where two owners used one key, only the earliest row keeps it."""
    op.create_table('request_outcomes_by_key',
    sa.Column('idempotency_key', sa.String(length=200), nullable=False),
    sa.Column('status', sa.String(length=10), nullable=False),
    sa.Column('booking_id', sa.Integer(), nullable=True),
    sa.Column('reason', sa.Text(), nullable=True),
    sa.Column('fields', sa.JSON(), nullable=False),
    sa.Column('at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['booking_id'], ['bookings.id'], ),
    sa.PrimaryKeyConstraint('idempotency_key')
    )
    op.execute(
        "INSERT INTO request_outcomes_by_key (idempotency_key, status, booking_id, reason, fields, at) "
        "SELECT o.idempotency_key, o.status, o.booking_id, o.reason, o.fields, o.at FROM request_outcomes o "
        "WHERE o.organization_id = (SELECT MIN(p.organization_id) FROM request_outcomes p "
        "WHERE p.idempotency_key = o.idempotency_key)")
    op.drop_table('request_outcomes')
    op.rename_table('request_outcomes_by_key', 'request_outcomes')

    op.execute("UPDATE bookings SET idempotency_key = NULL WHERE id NOT IN "
               "(SELECT MIN(id) FROM bookings WHERE idempotency_key IS NOT NULL GROUP BY idempotency_key)")
    with op.batch_alter_table('bookings', schema=None) as batch_op:
        batch_op.drop_constraint('uq_bookings_idempotency_owner_key', type_='unique')
        batch_op.drop_column('idempotency_owner')
        batch_op.create_unique_constraint(_old_key_constraint('bookings'), ['idempotency_key'])
