"""The work budget of each hot path (issue 14): how many SQL statements and Redis round trips
one request or one task costs, read from the services' own counters (shared/work_counts.py,
the same `yizhan_sql_statements_total` / `yizhan_redis_round_trips_total` that `make bench`
reads from the running services). Counts, not times: a change that adds a query or a round
trip to a hot path fails here, on any machine, however fast.

The budgets are the numbers these paths cost now, on each database (SQLite takes its write
lock with a `BEGIN IMMEDIATE` statement of its own). The outbox's marks of what was published
after a commit are made off the request's path, batched (shared/outbox.py PublishedMarks), and
counted under a unit of their own; tests/shared/test_outbox_marks.py checks them. Rate limiting is off in tests; with it on,
each request adds the limiter's round trips (tests/security/test_rate_limits.py)."""

import pytest
from prometheus_client import REGISTRY
from sqlalchemy import select

from services.notify.models import Message
from shared import contracts
from tests.conftest import auth, make_booking
from tests.desk.test_reviews import open_case

# (SQL statements, Redis round trips) per request or task, by database.
BUDGETS = {
    # The venue, the organisation, its credit, whether the time is held and the month's quota in one
    # SELECT; the booking, its history row and the outbox rows. One Redis round trip: the review for the
    # desk, the SMS and the e-mail to the booker, three LPUSHes in one pipeline (shared/outbox.py
    # publish_committed).
    "POST /bookings": {"sqlite": (5, 1), "postgresql": (4, 1)},
    # The venue and its day's bookings in one statement; a read opens no transaction.
    "GET /venues/<int:venue_id>/availability": {"sqlite": (1, 0), "postgresql": (1, 0)},
    # Its audit entry (shared/audit.py) is one of the inserts: a decision is never without it.
    "POST /reviews/<int:review_id>/decision": {"sqlite": (5, 1), "postgresql": (4, 1)},
    # The template, a repeat of the key, the opt-out and the caps in one SELECT; the message's row goes
    # in as it stays, then its history row and the outbox row.
    "POST /messages": {"sqlite": (6, 1), "postgresql": (5, 1)},
    # The whole path, accepted → sent, in this one task: the accept's transaction, in which the message
    # is also claimed (its row goes in already `sending`, so no UPDATE; its two history rows in one INSERT
    # before the commit), and the `sent`. Redis: the send lock taken together with the circuit's reading (one pipeline),
    # then released; a closed circuit with no failures is not written on success. No deliver_message runs; its
    # outbox row is a net written with the claim, published only if the task ends before sending (tasks.py).
    "notify.send_message": {"sqlite": (9, 2), "postgresql": (7, 2)},
}


def work(service: str, unit: str) -> tuple[int, int]:
    labels = {"service": service, "unit": unit}
    return (int(REGISTRY.get_sample_value("yizhan_sql_statements_total", labels) or 0),
            int(REGISTRY.get_sample_value("yizhan_redis_round_trips_total", labels) or 0))


def cost(service: str, unit: str, action) -> tuple[int, int]:
    """The work `action` did under `unit`, from the counters' change around it."""
    before = work(service, unit)
    action()
    after = work(service, unit)
    return after[0] - before[0], after[1] - before[1]


def ok(response, status=200):
    assert response.status_code == status, response.get_json()
    return response


def test_a_booking_request(station, backend):
    client = station.client("booking")
    ok(client.post("/bookings", json=make_booking(), headers=auth("org", 1)), 201)  # warm: first-use lookups
    spent = cost("booking", "/bookings", lambda: ok(client.post("/bookings", json=make_booking(), headers=auth("org", 1)), 201))
    assert spent == BUDGETS["POST /bookings"][backend]


def test_a_days_availability(station, backend):
    client = station.client("booking")
    day = make_booking()["start"][:10]
    path = f"/venues/3/availability?date={day}"
    ok(client.get(path, headers=auth("resident")))
    spent = cost("booking", "/venues/<int:venue_id>/availability", lambda: ok(client.get(path, headers=auth("resident"))))
    assert spent == BUDGETS["GET /venues/<int:venue_id>/availability"][backend]


def test_a_review_decision(station, backend):
    client = station.client("desk")
    decide = lambda case_id: ok(client.post(f"/reviews/{case_id}/decision", json={"decision": "approve"},  # noqa: E731
                                            headers=auth("staff")))
    decide(open_case(station)[0])
    case_id = open_case(station)[0]
    spent = cost("desk", "/reviews/<int:review_id>/decision", lambda: decide(case_id))
    assert spent == BUDGETS["POST /reviews/<int:review_id>/decision"][backend]


def message(key: str, **task) -> dict:
    return {**task, "idempotency_key": key, "template": "booking_received", "channel": "sms",
            "recipient": "13800000777",
            "params": {"booking_id": 7, "venue": "党群会议室", "start": "12月8日 09:00", "title": "支部主题党日"}}


def test_a_message_by_http(station, backend):
    client = station.client("notify")
    ok(client.post("/messages", json=message("budget-http-warm"), headers=auth("system")), 202)
    spent = cost("notify", "/messages",
                 lambda: ok(client.post("/messages", json=message("budget-http"), headers=auth("system")), 202))
    assert spent == BUDGETS["POST /messages"][backend]


def test_one_send_message_task(station, backend):
    import services.notify.tasks  # noqa: F401  (registers the tasks, as the worker does)

    task = station.apps["notify"].extensions["yizhan"].celery.tasks[contracts.SEND_MESSAGE]
    task.apply(args=[message("budget-task-warm", v=1)])
    spent = cost("notify", contracts.SEND_MESSAGE, lambda: task.apply(args=[message("budget-task", v=1)]))
    assert spent == BUDGETS["notify.send_message"][backend]
    with station.database("notify").reader() as session:
        sent = session.scalar(select(Message).where(Message.idempotency_key == "budget-task"))
        assert (sent.status, sent.provider) == ("sent", "log")  # the budget is the whole path, not a part


def hot_statements() -> dict:
    """The statements the hot paths run, built once each (issue 14)."""
    from services.booking.domain import requests, venue_times
    from services.notify.domain import messages

    found = {"availability": venue_times._venue_day_statement(), "conflicts": venue_times._holding_statement()}
    found.update({f"booking {name}": statement for name, statement in vars(requests._statements()).items()})
    found.update({f"message accept {flags}": messages._acceptance(*flags)
                  for flags in [(False, False, False), (False, True, True), (True, False, True)]})
    return found


def test_no_hot_statement_renders_its_parameters_anew_at_each_execution():
    """An IN list (`column.in_(values)`) is an "expanding" parameter: SQLAlchemy renders it into the SQL
    at every execution, which cost availability's one statement 0.04-0.05 ms of CPU each time. A list
    fixed when the statement is built goes in as plain parameters (shared.db.one_of)."""
    from sqlalchemy.dialects import postgresql, sqlite

    for dialect in (sqlite.dialect(), postgresql.dialect()):
        expanding = {name: sorted(p.key for p in statement.compile(dialect=dialect).binds.values() if p.expanding)
                     for name, statement in hot_statements().items()}
        assert {name: keys for name, keys in expanding.items() if keys} == {}, dialect.name
