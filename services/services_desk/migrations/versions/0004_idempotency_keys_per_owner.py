"""idempotency keys per owner: tickets by (owner, key), review cases by (organisation, key)

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-02

A client chooses its idempotency key, so a key alone is no identity: resident B
posting resident A's key got A's ticket back, and a ticket's visibility compared
only the subject, so a resident whose subject equalled a staff member's (or
"system") read their tickets (issue 11). Tickets now keep their owner whole
("resident:<sub>", "staff:<sub>", "task"); review cases keep the organisation
the task named.

Existing tickets opened by a task (created_by "system") are given the owner
"task". The role of anyone else was not recorded, so their tickets are given
"unrecorded:<subject>": staff still see them, but no resident token matches,
rather than guessing a role and showing a staff member's ticket to a resident.
"""
from typing import Sequence, Union

from alembic import op
import sqlalchemy as sa


revision: str = '0004'
down_revision: Union[str, Sequence[str], None] = '0003'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None

# SQLite reflects the unnamed unique constraints of 0001/0003 without a name; batch mode names them
# by this convention so that they can be dropped (Alembic docs, "Dropping Unnamed or Named Foreign
# Key Constraints").
SQLITE_NAMES = {"uq": "uq_%(table_name)s_%(column_0_name)s"}


def _old_key_constraint(table: str) -> str:
    """The global unique constraint on idempotency_key: PostgreSQL named it <table>_<column>_key."""
    if op.get_bind().dialect.name == "postgresql":
        return f"{table}_idempotency_key_key"
    return f"uq_{table}_idempotency_key"


def upgrade() -> None:
    with op.batch_alter_table('tickets', schema=None, naming_convention=SQLITE_NAMES) as batch_op:
        batch_op.add_column(sa.Column('owner', sa.String(length=120), nullable=True))
        batch_op.drop_constraint(_old_key_constraint('tickets'), type_='unique')
    op.execute("UPDATE tickets SET owner = CASE WHEN created_by = 'system' THEN 'task' "
               "ELSE 'unrecorded:' || created_by END")
    with op.batch_alter_table('tickets', schema=None) as batch_op:
        batch_op.alter_column('owner', existing_type=sa.String(length=120), nullable=False)
        batch_op.create_unique_constraint('uq_tickets_owner_idempotency_key', ['owner', 'idempotency_key'])

    with op.batch_alter_table('review_cases', schema=None, naming_convention=SQLITE_NAMES) as batch_op:
        batch_op.add_column(sa.Column('organization_id', sa.Integer(), nullable=True))
        batch_op.drop_constraint(_old_key_constraint('review_cases'), type_='unique')
    # The organisation is inside the JSON column, read differently by each database: read it here.
    cases = sa.table('review_cases', sa.column('id', sa.Integer()), sa.column('organization', sa.JSON()),
                     sa.column('organization_id', sa.Integer()))
    connection = op.get_bind()
    for case_id, organization in connection.execute(sa.select(cases.c.id, cases.c.organization)).all():
        connection.execute(cases.update().where(cases.c.id == case_id)
                           .values(organization_id=int(organization["id"])))
    with op.batch_alter_table('review_cases', schema=None) as batch_op:
        batch_op.alter_column('organization_id', existing_type=sa.Integer(), nullable=False)
        batch_op.create_unique_constraint('uq_review_cases_organization_id_idempotency_key',
                                          ['organization_id', 'idempotency_key'])


def downgrade() -> None:
    """Back to global keys: where two owners used one key, only the earliest row keeps it."""
    duplicates = "id NOT IN (SELECT MIN(id) FROM {0} WHERE idempotency_key IS NOT NULL GROUP BY idempotency_key)"
    op.execute("UPDATE tickets SET idempotency_key = NULL WHERE idempotency_key IS NOT NULL AND "
               + duplicates.format("tickets"))
    # A review case's key may not be empty: the later ones keep theirs with their id appended.
    op.execute("UPDATE review_cases SET idempotency_key = idempotency_key || '#' || CAST(id AS VARCHAR) WHERE "
               + duplicates.format("review_cases"))
    with op.batch_alter_table('review_cases', schema=None) as batch_op:
        batch_op.drop_constraint('uq_review_cases_organization_id_idempotency_key', type_='unique')
        batch_op.drop_column('organization_id')
        batch_op.create_unique_constraint(_old_key_constraint('review_cases'), ['idempotency_key'])
    with op.batch_alter_table('tickets', schema=None) as batch_op:
        batch_op.drop_constraint('uq_tickets_owner_idempotency_key', type_='unique')
        batch_op.drop_column('owner')
        batch_op.create_unique_constraint(_old_key_constraint('tickets'), ['idempotency_key'])
