"""The transactional outbox: a request that commits while Redis is down still
succeeds, and its task goes out when Redis is back."""

import time

import pytest
from sqlalchemy import select

from tests.conftest import launched_station, make_booking
from tests.processes import RedisServer, wait_until

pytestmark = pytest.mark.e2e


@pytest.fixture
def private_redis(work_dir):
    server = RedisServer(work_dir).start()
    yield server
    server.stop()


def test_a_booking_made_while_redis_is_down_reaches_the_desk_when_redis_returns(backend, work_dir, private_redis):
    with launched_station(backend, work_dir, private_redis.url, services=("booking", "desk")) as station:
        private_redis.stop()
        print(f"injected: stopped redis on port {private_redis.port}")

        started = time.monotonic()
        created = station.http("booking", "POST", "/bookings", role="org", org=1, json=make_booking())
        elapsed = time.monotonic() - started
        assert created.status_code == 201, created.text
        booking_id = created.json()["id"]
        print(f"POST /bookings answered {created.status_code} in {elapsed:.2f}s with Redis down")

        outbox = station.database("booking").infrastructure.outbox
        with station.database("booking").reader() as session:
            waiting = session.scalars(select(outbox).where(outbox.published_at.is_(None))).all()
        assert {row.task_name for row in waiting} >= {"desk.review_booking", "notify.send_message"}

        time.sleep(2)  # the relay keeps failing meanwhile, and must not give up
        private_redis.start()
        print(f"restarted redis on port {private_redis.port}")

        def review_opened():
            reviews = station.http("desk", "GET", "/reviews?status=open").json()["items"]
            return [r for r in reviews if r["booking_id"] == booking_id]
        try:
            wait_until(review_opened, 60, 0.5, "the review case after Redis came back")
        except AssertionError:
            print(station.logs())
            raise
        def published_review_row():
            # The relay commits published_at after the whole batch; the desk may have answered before that.
            with station.database("booking").reader() as session:
                row = session.scalar(select(outbox).where(outbox.task_name == "desk.review_booking",
                                                          outbox.payload["booking_id"].as_integer() == booking_id))
            return row if row.published_at is not None else None
        review_row = wait_until(published_review_row, 30, 0.1, "the outbox row to be marked published")
        assert review_row.attempts >= 1
        print(f"counted: review case opened; outbox row published after {review_row.attempts} failed attempt(s)")


def test_tasks_waiting_in_redis_when_it_lost_its_data_are_published_again(backend, work_dir, private_redis):
    """Booking publishes a review request while the desk worker is stopped, so the task only
    lives in Redis; Redis then restarts empty. The relay notices and publishes it again."""
    with launched_station(backend, work_dir, private_redis.url, services=("booking", "desk")) as station:
        desk_worker = station.processes["desk-worker"]
        desk_worker.stop()
        created = station.http("booking", "POST", "/bookings", role="org", org=1, json=make_booking())
        booking_id = created.json()["id"]
        client_url = private_redis.url
        import redis as redis_client
        queued = wait_until(lambda: redis_client.Redis.from_url(client_url).llen("desk"), 10, 0.1, "the task queued")
        private_redis.stop()
        private_redis.start()
        print(f"injected: {queued} task(s) in Redis when it restarted empty")
        from tests.processes import worker_process
        station.processes["desk-worker-2"] = worker_process("desk", station.env, station.log_dir, suffix="-2").start()

        def review_opened():
            reviews = station.http("desk", "GET", "/reviews?per_page=100").json()["items"]
            return [r for r in reviews if r["booking_id"] == booking_id]
        try:
            wait_until(review_opened, 60, 0.5, "the review case after the replay")
        except AssertionError:
            print(station.logs())
            raise
        print("counted: the review case opened; lost 0")
