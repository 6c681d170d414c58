"""a venue's bookings by start time: one index on (venue_id, start) in place of (venue_id)

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-27

With 100,000 bookings, what is busy on a day read every booking of the venue
through ix_bookings_venue_id (bench/scale_bench.py); the composite index serves
that and, by its first column, everything the old index served.
"""
from typing import Sequence, Union

from alembic import op


revision: str = '0003'
down_revision: Union[str, Sequence[str], None] = '0002'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    with op.batch_alter_table('bookings', schema=None) as batch_op:
        batch_op.create_index('ix_bookings_venue_id_start', ['venue_id', 'start'], unique=False)
        batch_op.drop_index('ix_bookings_venue_id')


def downgrade() -> None:
    with op.batch_alter_table('bookings', schema=None) as batch_op:
        batch_op.create_index('ix_bookings_venue_id', ['venue_id'], unique=False)
        batch_op.drop_index('ix_bookings_venue_id_start')
