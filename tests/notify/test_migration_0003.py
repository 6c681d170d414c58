"""Migration 0003 on a database that already holds messages and opt-outs written the old way."""


import pytest
from sqlalchemy import create_engine, text

from shared.migrations import upgrade
from tests.conftest import database_at_revision

OLD_MESSAGES = [("sms", "137-0000-0625"), ("sms", "+86 137 0000 0625"), ("email", " Lin@Example.ORG "),
                ("sms", "not a number")]
OLD_OPT_OUTS = [("sms", "13700007777"), ("sms", "+8613700007777"), ("email", "Zhang@EXAMPLE.org")]


@pytest.fixture
def notify_database_at_0002(backend, tmp_path):
    with database_at_revision("notify", "0002", backend, tmp_path) as url:
        yield url


def test_0003_normalises_stored_recipients_merges_opt_outs_and_scopes_old_keys(notify_database_at_0002):
    engine = create_engine(notify_database_at_0002)
    with engine.begin() as connection:
        for n, (channel, recipient) in enumerate(OLD_MESSAGES):
            connection.execute(text(
                "INSERT INTO messages (idempotency_key, channel, recipient, template, locale, params, body, urgent,"
                " status, attempts, created_at, updated_at) VALUES (:key, :channel, :recipient, 't', 'zh-CN', '{}',"
                " 'b', false, 'sent', 1, CURRENT_TIMESTAMP, CURRENT_TIMESTAMP)"),
                {"key": f"old-{n}", "channel": channel, "recipient": recipient})
        for channel, recipient in OLD_OPT_OUTS:
            connection.execute(text("INSERT INTO opt_outs (recipient, channel, source, created_at)"
                                    " VALUES (:recipient, :channel, 'api', CURRENT_TIMESTAMP)"),
                               {"recipient": recipient, "channel": channel})
    upgrade("notify", notify_database_at_0002)
    with engine.begin() as connection:
        messages = connection.execute(text("SELECT recipient, idempotency_scope FROM messages ORDER BY id")).all()
        opt_outs = connection.execute(text("SELECT recipient, channel FROM opt_outs ORDER BY id")).all()
        # The old global key is now unique per scope: the same key from another poster is allowed.
        connection.execute(text(
            "INSERT INTO messages (idempotency_scope, idempotency_key, channel, recipient, template, locale, params,"
            " body, urgent, status, attempts, created_at, updated_at) VALUES ('system:other', 'old-0', 'sms',"
            " '+8613700000625', 't', 'zh-CN', '{}', 'b', false, 'sent', 1, CURRENT_TIMESTAMP, CURRENT_TIMESTAMP)"))
    engine.dispose()
    assert [m.recipient for m in messages] == ["+8613700000625", "+8613700000625", "Lin@example.org", "not a number"]
    assert {m.idempotency_scope for m in messages} == {"task"}
    assert sorted(map(tuple, opt_outs)) == [("+8613700007777", "sms"), ("Zhang@example.org", "email")]
