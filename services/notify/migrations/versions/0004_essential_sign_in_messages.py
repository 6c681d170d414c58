"""messages.kind: `notice`, or `sign_in` (sent despite an opt-out, capped apart)

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-02

Every message stored before this is a notice: sign-in codes were not told apart.
"""
from typing import Sequence, Union

from alembic import op
import sqlalchemy as sa

revision: str = '0004'
down_revision: Union[str, Sequence[str], None] = '0003'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    with op.batch_alter_table('messages') as batch_op:
        batch_op.add_column(sa.Column('kind', sa.String(length=20), server_default='notice', nullable=False))


def downgrade() -> None:
    with op.batch_alter_table('messages') as batch_op:
        batch_op.drop_column('kind')
