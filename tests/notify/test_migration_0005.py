"""Migration 0005: a station seeded before the done SMS had its link gets the new text, unless staff changed it."""


import pytest
from sqlalchemy import create_engine, text

from services.notify.seed import TEMPLATES
from shared.migrations import upgrade
from tests.conftest import database_at_revision

SEEDED_ZH = "【驿站】您的{errand}事项(工单{ticket_id})已办结。感谢您的耐心。"
EDITED_EN = "[Yizhan] Errand {ticket_id} ({errand}) is finished."


@pytest.fixture
def notify_database_at_0004(backend, tmp_path):
    with database_at_revision("notify", "0004", backend, tmp_path) as url:
        yield url


def test_0005_gives_the_seeded_done_text_its_link_and_leaves_an_edited_one_alone(notify_database_at_0004):
    engine = create_engine(notify_database_at_0004)
    with engine.begin() as connection:
        for locale, body in (("zh-CN", SEEDED_ZH), ("en", EDITED_EN)):
            connection.execute(text("INSERT INTO templates (key, locale, sms_body, updated_at)"
                                    " VALUES ('ticket_done', :l, :b, CURRENT_TIMESTAMP)"),
                               {"l": locale, "b": body})
    upgrade("notify", notify_database_at_0004)
    with engine.begin() as connection:
        bodies = dict(connection.execute(text("SELECT locale, sms_body FROM templates WHERE key = 'ticket_done'")).all())
    engine.dispose()
    assert bodies["zh-CN"] == TEMPLATES[("ticket_done", "zh-CN")]["sms_body"]
    assert bodies["zh-CN"].endswith("请为本次服务打分: {link}")
    assert bodies["en"] == EDITED_EN
