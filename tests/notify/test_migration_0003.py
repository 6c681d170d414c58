"""Migration 0003 on a database that already holds messages and opt-outs written the old way."""

import uuid

import pytest
from sqlalchemy import create_engine, text

from shared.migrations import upgrade
from tests.conftest import POSTGRES_ADMIN_URL

OLD_MESSAGES = [("sms", "137-0000-0625"), ("sms", "+86 137 0000 0625"), ("email", " Lin@Example.ORG "),
                ("sms", "not a number")]
OLD_OPT_OUTS = [("sms", "13700007777"), ("sms", "+8613700007777"), ("email", "Zhang@EXAMPLE.org")]


@pytest.fixture
def notify_database_at_0002(backend, tmp_path):
    name = f"yz_{uuid.uuid4().hex[:10]}_notify_0003"
    if backend == "sqlite":
        url = f"sqlite:///{tmp_path / name}.db"
    else:
        url = f"{POSTGRES_ADMIN_URL.rsplit('/', 1)[0]}/{name}"
        admin = create_engine(POSTGRES_ADMIN_URL, isolation_level="AUTOCOMMIT")
        with admin.connect() as connection:
            connection.execute(text(f'CREATE DATABASE "{name}"'))
    upgrade("notify", url, "0002")
    yield url
    if backend != "sqlite":
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


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
