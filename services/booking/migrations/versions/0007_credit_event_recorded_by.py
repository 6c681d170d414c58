"""credit_events.recorded_by: who made a staff change to the ledger

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-02

Staff adjust an organisation's credit by hand and lift suspensions (issue 13); the
ledger keeps who did it beside the reason (the event's note).
"""
from typing import Sequence, Union

from alembic import op
import sqlalchemy as sa

revision: str = '0007'
down_revision: Union[str, Sequence[str], None] = '0006'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    op.add_column('credit_events', sa.Column('recorded_by', sa.String(length=100), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('credit_events') as batch:
        batch.drop_column('recorded_by')
