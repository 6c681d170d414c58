"""organization_contact_phones: more phones that sign in as an organisation's contact

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-02

Staff add them (issue 12); a phone is unique, so it speaks for one organisation only.
"""
from typing import Sequence, Union

from alembic import op
import sqlalchemy as sa

revision: str = '0005'
down_revision: Union[str, Sequence[str], None] = '0004'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    op.create_table(
        'organization_contact_phones',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('organization_id', sa.Integer(), nullable=False),
        sa.Column('phone', sa.String(length=20), nullable=False),
        sa.Column('created_by', sa.String(length=100), nullable=False),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(['organization_id'], ['organizations.id'],
                                name='fk_organization_contact_phones_organization_id_organizations'),
        sa.PrimaryKeyConstraint('id', name='pk_organization_contact_phones'),
        sa.UniqueConstraint('phone', name='uq_organization_contact_phones_phone'),
    )
    op.create_index('ix_organization_contact_phones_organization_id', 'organization_contact_phones',
                    ['organization_id'])


def downgrade() -> None:
    op.drop_index('ix_organization_contact_phones_organization_id', table_name='organization_contact_phones')
    op.drop_table('organization_contact_phones')
