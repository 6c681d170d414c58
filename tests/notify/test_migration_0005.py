"""Migration 0005: a station seeded before the done SMS had its link gets the new text, unless staff changed it."""

import uuid

import pytest
from sqlalchemy import create_engine, text

from services.notify.seed import TEMPLATES
from shared.migrations import upgrade
from tests.conftest import POSTGRES_ADMIN_URL

SEEDED_ZH = "【驿站】您的{errand}事项(工单{ticket_id})已办结。感谢您的耐心。"
EDITED_EN = "[Yizhan] Errand {ticket_id} ({errand}) is finished."


@pytest.fixture
def notify_database_at_0004(backend, tmp_path):
    name = f"yz_{uuid.uuid4().hex[:10]}_notify_0005"
    if backend == "sqlite":
        url = f"sqlite:///{tmp_path / name}.db"
    else:
        url = f"{POSTGRES_ADMIN_URL.rsplit('/', 1)[0]}/{name}"
        admin = create_engine(POSTGRES_ADMIN_URL, isolation_level="AUTOCOMMIT")
        with admin.connect() as connection:
            connection.execute(text(f'CREATE DATABASE "{name}"'))
    upgrade("notify", url, "0004")
    yield url
    if backend != "sqlite":
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


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
