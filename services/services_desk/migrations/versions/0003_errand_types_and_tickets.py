"""errand types and tickets

The skeleton's minimal tickets table is replaced: nothing but test data ever
lived in it (issue 2), so it is dropped rather than converted.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-26

"""
from typing import Sequence, Union

from alembic import op
import sqlalchemy as sa


revision: str = '0003'
down_revision: Union[str, Sequence[str], None] = '0002'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    op.create_table('ticket_types',
    sa.Column('code', sa.String(length=50), nullable=False),
    sa.Column('name_zh', sa.String(length=100), nullable=False),
    sa.Column('name_en', sa.String(length=100), nullable=False),
    sa.Column('documents_zh', sa.JSON(), nullable=False),
    sa.Column('documents_en', sa.JSON(), nullable=False),
    sa.Column('limit_working_days', sa.Integer(), nullable=False),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.PrimaryKeyConstraint('code')
    )
    with op.batch_alter_table('tickets', schema=None) as batch_op:
        batch_op.drop_index('ix_tickets_status')
    op.drop_table('tickets')
    op.create_table('tickets',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('idempotency_key', sa.String(length=200), nullable=True),
    sa.Column('type_code', sa.String(length=50), nullable=False),
    sa.Column('resident_name', sa.String(length=100), nullable=False),
    sa.Column('resident_phone', sa.String(length=20), nullable=False),
    sa.Column('resident_email', sa.String(length=254), nullable=True),
    sa.Column('resident_id_number', sa.String(length=18), nullable=True),
    sa.Column('summary', sa.String(length=200), nullable=False),
    sa.Column('details', sa.Text(), nullable=False),
    sa.Column('status', sa.String(length=30), nullable=False),
    sa.Column('assignee', sa.String(length=100), nullable=True),
    sa.Column('missing_documents', sa.JSON(), nullable=False),
    sa.Column('rejection_reason', sa.Text(), nullable=True),
    sa.Column('due_date', sa.Date(), nullable=False),
    sa.Column('satisfaction', sa.Integer(), nullable=True),
    sa.Column('follow_up_remark', sa.Text(), nullable=True),
    sa.Column('created_by', sa.String(length=100), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['type_code'], ['ticket_types.code'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('idempotency_key')
    )
    with op.batch_alter_table('tickets', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_tickets_assignee'), ['assignee'], unique=False)
        batch_op.create_index(batch_op.f('ix_tickets_due_date'), ['due_date'], unique=False)
        batch_op.create_index(batch_op.f('ix_tickets_resident_phone'), ['resident_phone'], unique=False)
        batch_op.create_index(batch_op.f('ix_tickets_status'), ['status'], unique=False)
    op.create_table('ticket_events',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('ticket_id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=30), nullable=False),
    sa.Column('actor', sa.String(length=100), nullable=False),
    sa.Column('from_status', sa.String(length=30), nullable=True),
    sa.Column('to_status', sa.String(length=30), nullable=True),
    sa.Column('text', sa.Text(), nullable=True),
    sa.Column('at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['ticket_id'], ['tickets.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('ticket_events', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_ticket_events_ticket_id'), ['ticket_id'], unique=False)


def downgrade() -> None:
    op.drop_table('ticket_events')
    op.drop_table('tickets')
    op.drop_table('ticket_types')
    op.create_table('tickets',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('idempotency_key', sa.String(length=200), nullable=True),
    sa.Column('type', sa.String(length=50), nullable=False),
    sa.Column('resident', sa.JSON(), nullable=False),
    sa.Column('summary', sa.String(length=200), nullable=False),
    sa.Column('details', sa.Text(), nullable=False),
    sa.Column('status', sa.String(length=30), nullable=False),
    sa.Column('created_by', sa.String(length=100), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('idempotency_key')
    )
    with op.batch_alter_table('tickets', schema=None) as batch_op:
        batch_op.create_index('ix_tickets_status', ['status'], unique=False)
