"""A message's history rows are written with the rest of their transaction's as one Core INSERT just
before it commits (services/notify/domain/messages.py `add_history`, issue 14), not one ORM object
each; and sooner, when the session reads before then, so that whatever the transaction reads sees them."""

from sqlalchemy import event, select
from sqlalchemy.orm import Session

from services.notify.domain import messages
from services.notify.models import Message, MessageStatusChange
from tests.conftest import auth
from tests.notify.test_messages import PARAMS

POLICY_FREE = {"channel": "email", "recipient": "history@example.com", "template": "booking_approved", "params": PARAMS}


def notify_context(station):
    from services.notify.context import notify_context as context

    with station.apps["notify"].app_context():
        return context()


def test_a_transactions_history_rows_go_in_as_one_insert_before_its_commit(station):
    database, policy = station.database("notify"), notify_context(station).policy
    inserts = []  # each INSERT into message_status_changes, by its number of rows

    def listen(_conn, _cursor, statement, parameters, _context, executemany):
        if statement.startswith("INSERT INTO message_status_changes"):
            inserts.append(len(parameters) if executemany else 1)
    event.listen(database.engine, "before_cursor_execute", listen)
    try:
        with database.transaction() as session:
            message, _ = messages.accept_message(session, {"v": 1, "idempotency_key": "history-one", **POLICY_FREE},
                                                 policy, scope="test", queue=False)
            assert message.status == messages.SENDING
            messages.add_history(session, message.id, messages.SENDING)
            messages.record_status(session, message, messages.FAILED, "a test ends it")
            assert inserts == []  # nothing yet: they wait for the commit
    finally:
        event.remove(database.engine, "before_cursor_execute", listen)
    assert inserts == [3]
    with database.reader() as session:
        rows = session.scalars(select(MessageStatusChange).where(MessageStatusChange.message_id == message.id)
                               .order_by(MessageStatusChange.id)).all()
        assert [(r.status, r.detail) for r in rows] == [("accepted", None), ("sending", None),
                                                        ("failed", "a test ends it")]


def test_a_read_inside_the_transaction_sees_the_rows_waiting(station):
    """As it saw the unit of work's rows, after autoflush: POST /messages answers with the history it
    reads in its transaction."""
    database, policy = station.database("notify"), notify_context(station).policy
    with database.transaction() as session:
        message, _ = messages.accept_message(session, {"v": 1, "idempotency_key": "history-read", **POLICY_FREE},
                                             policy, scope="test")
        assert [h.status for h in message.history] == ["accepted"]
        messages.add_history(session, message.id, messages.SENDING)
        found = session.scalars(select(MessageStatusChange.status)
                                .where(MessageStatusChange.message_id == message.id)).all()
        assert found == ["accepted", "sending"]
    response = station.client("notify").post("/messages", headers=auth("system"), json={
        "idempotency_key": "history-http", **POLICY_FREE})
    assert response.status_code == 202, response.get_json()
    assert [h["status"] for h in response.get_json()["history"]] == ["accepted"]


def test_a_transaction_that_rolls_back_leaves_no_history_row(station):
    database, policy = station.database("notify"), notify_context(station).policy
    try:
        with database.transaction() as session:
            message, _ = messages.accept_message(session, {"v": 1, "idempotency_key": "history-gone", **POLICY_FREE},
                                                 policy, scope="test")
            message.history  # the rows written early, inside the transaction
            raise RuntimeError("the task fails")
    except RuntimeError:
        pass
    with database.reader() as session:
        assert session.scalar(select(Message).where(Message.idempotency_key == "history-gone")) is None
        assert session.scalars(select(MessageStatusChange).where(MessageStatusChange.message_id == message.id)).all() == []


def test_rows_waiting_when_a_session_rolls_back_are_forgotten_not_written_by_its_next_commit(station):
    database = station.database("notify")
    with database.transaction() as session:
        message, _ = messages.accept_message(session, {"v": 1, "idempotency_key": "history-kept", **POLICY_FREE},
                                             notify_context(station).policy, scope="test")
    with Session(database.engine) as session:
        session.get(Message, message.id)
        messages.add_history(session, message.id, messages.FAILED, "rolled back")
        session.rollback()
        session.execute(select(Message.id)).all()
        session.commit()
    with database.reader() as session:
        statuses = session.scalars(select(MessageStatusChange.status)
                                   .where(MessageStatusChange.message_id == message.id)).all()
        assert statuses == ["accepted"]
