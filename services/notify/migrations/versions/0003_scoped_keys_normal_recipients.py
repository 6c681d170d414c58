"""idempotency keys scoped by poster; recipients in one normal form; on_behalf_of

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-02

Stored recipients were compared as typed (`+86 137…`, `137-…`), so caps and
opt-outs missed other spellings of the same number: every row is rewritten in
the normal form (shared.contracts.message_recipient), and opt-outs that
become the same recipient are merged. Existing messages get the `task` scope:
most were posted through the queue, and a repeat of one over HTTP only makes
a new message.
"""
from typing import Sequence, Union

from alembic import op
import sqlalchemy as sa

from shared.contracts import message_recipient

revision: str = '0003'
down_revision: Union[str, Sequence[str], None] = '0002'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None

# SQLite's unique constraint from 0001 has no name; batch mode reflects it under this one
# (Alembic, "Dropping Unnamed or Named Foreign Key Constraints" in batch mode).
SQLITE_NAMES = {"uq": "uq_%(table_name)s_%(column_0_name)s"}


def _normal(channel: str, recipient: str) -> str:
    try:
        return message_recipient(channel, recipient)
    except ValueError:
        return recipient.strip()  # kept as it was: no valid form to give it


def _normalise_recipients(connection) -> None:
    messages = sa.table("messages", sa.column("id"), sa.column("channel"), sa.column("recipient"))
    for id_, channel, recipient in connection.execute(sa.select(messages.c.id, messages.c.channel,
                                                                messages.c.recipient)).all():
        normal = _normal(channel, recipient)
        if normal != recipient:
            connection.execute(messages.update().where(messages.c.id == id_).values(recipient=normal))
    opt_outs = sa.table("opt_outs", sa.column("id"), sa.column("channel"), sa.column("recipient"))
    earliest, renamed = {}, {}
    for id_, channel, recipient in connection.execute(sa.select(opt_outs.c.id, opt_outs.c.channel,
                                                                opt_outs.c.recipient).order_by(opt_outs.c.id)).all():
        normal = _normal(channel, recipient)
        if (normal, channel) in earliest:
            # The earlier opt-out stands; removed first, so that renaming never meets a duplicate.
            connection.execute(opt_outs.delete().where(opt_outs.c.id == id_))
            continue
        earliest[(normal, channel)] = id_
        if normal != recipient:
            renamed[id_] = normal
    for id_, normal in renamed.items():
        connection.execute(opt_outs.update().where(opt_outs.c.id == id_).values(recipient=normal))


def upgrade() -> None:
    connection = op.get_bind()
    sqlite = connection.dialect.name == "sqlite"
    with op.batch_alter_table('messages', naming_convention=SQLITE_NAMES if sqlite else None) as batch_op:
        batch_op.add_column(sa.Column('idempotency_scope', sa.String(length=120), nullable=False,
                                      server_default='task'))
        batch_op.add_column(sa.Column('on_behalf_of', sa.String(length=30), nullable=True))
        batch_op.drop_constraint('uq_messages_idempotency_key' if sqlite else 'messages_idempotency_key_key',
                                 type_='unique')
        batch_op.create_unique_constraint('uq_messages_idempotency_scope_key', ['idempotency_scope', 'idempotency_key'])
    with op.batch_alter_table('messages') as batch_op:
        batch_op.alter_column('idempotency_scope', server_default=None, existing_type=sa.String(length=120),
                              existing_nullable=False)
    _normalise_recipients(connection)


def downgrade() -> None:
    with op.batch_alter_table('messages') as batch_op:
        batch_op.drop_constraint('uq_messages_idempotency_scope_key', type_='unique')
        batch_op.create_unique_constraint('uq_messages_idempotency_key', ['idempotency_key'])
        batch_op.drop_column('on_behalf_of')
        batch_op.drop_column('idempotency_scope')
