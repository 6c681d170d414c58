"""ticket_done's SMS links to the portal's follow-up question ({link})

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-02

seed.py only adds templates that are missing, so a station seeded before this
keeps the old text, and the desk's `link` parameter would then be refused as
unknown. A text staff have edited is theirs and is left alone: only the seeded
original is replaced (and put back on downgrade).
"""
from typing import Sequence, Union

from alembic import op
import sqlalchemy as sa

revision: str = '0005'
down_revision: Union[str, Sequence[str], None] = '0004'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None

# (locale, seeded original, text with the link): copies, since seed.py changes over time.
TEXTS = (
    ("zh-CN", "【驿站】您的{errand}事项(工单{ticket_id})已办结。感谢您的耐心。",
     "【驿站】您的{errand}事项(工单{ticket_id})已办结。感谢您的耐心。请为本次服务打分: {link}"),
    ("en", "[Yizhan] Your {errand} errand (ticket {ticket_id}) is done. Thank you for your patience.",
     "[Yizhan] Your {errand} errand (ticket {ticket_id}) is done. Thank you for your patience. "
     "Please rate our service: {link}"),
)

templates = sa.table('templates', sa.column('key', sa.String), sa.column('locale', sa.String),
                     sa.column('sms_body', sa.Text))


def _replace(index_from: int, index_to: int) -> None:
    for texts in TEXTS:
        op.execute(templates.update()
                   .where(templates.c.key == 'ticket_done', templates.c.locale == texts[0],
                          templates.c.sms_body == texts[index_from])
                   .values(sms_body=texts[index_to]))


def upgrade() -> None:
    _replace(1, 2)


def downgrade() -> None:
    _replace(2, 1)
