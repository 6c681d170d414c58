"""The reliability settings every worker runs with (SPEC §3, issue 2)."""

import json

import redis

from shared import contracts
from shared.celery_app import QUEUES, make_celery, max_task_delay
from shared.settings import Settings


def test_workers_acknowledge_late_and_hold_one_message_at_a_time():
    conf = make_celery("t", Settings()).conf
    assert conf.task_acks_late is True
    assert conf.task_reject_on_worker_lost is True
    assert conf.worker_prefetch_multiplier == 1
    assert conf.task_ignore_result is True
    assert conf.broker_connection_max_retries is None and conf.broker_connection_retry_on_startup


def test_a_worker_killed_mid_scan_holds_back_unacked_messages_briefly():
    """kombu scans for unacknowledged messages under a lock in Redis that lapses after
    unacked_mutex_expire; a worker SIGKILLed during a scan leaves it held until then (300 s by
    default, longer than the whole worker-killed fault test)."""
    for timeout, lapse in ((10, 5), (900, 90)):
        options = make_celery("t", Settings(visibility_timeout_seconds=timeout)).conf.broker_transport_options
        assert options["unacked_mutex_expire"] == lapse
        assert options["unacked_restore_interval"] <= lapse < timeout


def test_only_json_is_accepted():
    conf = make_celery("t", Settings()).conf
    assert conf.accept_content == ["json"] and conf.task_serializer == "json"
    assert conf.result_accept_content == ["json"]


def test_no_delay_the_code_may_ask_for_reaches_the_visibility_timeout():
    app = make_celery("t", Settings(visibility_timeout_seconds=120))
    assert app.conf.broker_transport_options["visibility_timeout"] == 120
    assert max_task_delay(app) < 120


def test_tasks_go_straight_to_the_redis_list_named_by_their_prefix(redis_server):
    url = redis_server.url  # database 0: every station has a database of its own
    client = redis.Redis.from_url(url)
    client.flushdb()
    app = make_celery("t", Settings(redis_url=url))
    for name in contracts.CONTRACTS:
        app.send_task(name, args=[{"v": 1}])
    expected = {q: sum(1 for n in contracts.CONTRACTS if n.startswith(q + ".")) for q in QUEUES}
    assert {q: client.llen(q) for q in QUEUES} == expected
    message = json.loads(client.lindex("desk", 0))
    assert message["properties"]["delivery_info"] == {"exchange": "", "routing_key": "desk"}
    # Nothing was declared to publish (route_by_prefix's `declare=[]`): kombu's check, which copied and
    # bound the queue and its exchange at every publish, would have written their bindings.
    assert client.keys("_kombu.binding.*") == []
    client.flushdb()
    client.close()


def test_every_scheduled_task_has_a_contract_and_a_queue():
    from shared.scheduler import celery as scheduler

    for entry in scheduler.conf.beat_schedule.values():
        assert entry["task"] in contracts.CONTRACTS
        contracts.load_payload(entry["task"], entry["args"][0])


def test_views_tasks_and_the_outbox_relay_reach_one_runtime_the_same_way(station):
    """issue 11 §7: no attributes patched onto the Celery app or the database after the fact."""
    import services.services_desk.tasks  # noqa: F401  (registers the tasks, as the worker does)
    from shared.service_app import current_runtime

    app = station.apps["desk"]
    runtime = app.extensions["yizhan"]
    with app.app_context():
        assert current_runtime() is runtime
    assert runtime.celery.runtime is runtime and runtime.flask_app is app
    assert runtime.celery.tasks[contracts.CREATE_TICKET].runtime is runtime
    assert runtime.database.runtime is runtime and runtime.relay.database is runtime.database
    with runtime.database.transaction() as session:
        assert session.info["relay"] is runtime.relay
    for patched in ("flask_app", "yizhan_database"):
        assert not hasattr(runtime.celery, patched)
