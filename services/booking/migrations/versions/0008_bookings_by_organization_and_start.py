"""an organisation's bookings by start time: one index on (organization_id, start) in place of (organization_id)

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-06

Every booking request reads how many bookings its organisation holds in the month (the
quota, services/booking/domain/requests.py). Through ix_bookings_organization_id or
ix_bookings_start it read every booking of the organisation, or every booking of the
month, and filtered; the composite index reads only the organisation's month, and by its
first column serves everything the old index served (issue 14).
"""
from typing import Sequence, Union

from alembic import op


revision: str = '0008'
down_revision: Union[str, Sequence[str], None] = '0007'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    with op.batch_alter_table('bookings', schema=None) as batch_op:
        batch_op.create_index('ix_bookings_organization_id_start', ['organization_id', 'start'], unique=False)
        batch_op.drop_index('ix_bookings_organization_id')


def downgrade() -> None:
    with op.batch_alter_table('bookings', schema=None) as batch_op:
        batch_op.create_index('ix_bookings_organization_id', ['organization_id'], unique=False)
        batch_op.drop_index('ix_bookings_organization_id_start')
