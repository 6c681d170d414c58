"""The providers' circuit breaker, shared through Redis by every worker process, with a chosen clock."""

import time
from datetime import timedelta

import redis

from services.notify.domain.circuit import CircuitBreaker, Reading
from services.notify.policy import NotifyPolicy
from tests.booking.conftest import station_time

NOW = station_time("2026-03-10 12:00")


def test_consecutive_failures_open_the_circuit_and_one_probe_closes_it(redis_server):
    breaker = CircuitBreaker(redis_server.url, NotifyPolicy(circuit_threshold=3, circuit_cooldown_seconds=60))
    provider = f"test-{time.time_ns()}"
    for _ in range(2):
        breaker.failed(provider, NOW)
    assert breaker.allows(provider, NOW) and breaker.state(provider, NOW) == "closed"
    breaker.failed(provider, NOW)
    assert breaker.state(provider, NOW) == "open" and not breaker.allows(provider, NOW)
    later = NOW + timedelta(seconds=59)
    assert breaker.state(provider, later) == "open" and breaker.seconds_until_probe(provider, later) == 1
    after_cooldown = NOW + timedelta(seconds=60)
    assert breaker.state(provider, after_cooldown) == "half_open"
    assert breaker.allows(provider, after_cooldown)          # the probe
    assert not breaker.allows(provider, after_cooldown)      # nobody else meanwhile
    breaker.succeeded(provider)
    assert breaker.state(provider, after_cooldown) == "closed" and breaker.allows(provider, after_cooldown)


def test_a_failed_probe_opens_the_circuit_again_from_its_own_time(redis_server):
    breaker = CircuitBreaker(redis_server.url, NotifyPolicy(circuit_threshold=1, circuit_cooldown_seconds=60))
    provider = f"reopen-{time.time_ns()}"
    breaker.failed(provider, NOW)
    probe_time = NOW + timedelta(seconds=61)
    assert breaker.allows(provider, probe_time)
    breaker.failed(provider, probe_time)
    assert breaker.state(provider, probe_time + timedelta(seconds=59)) == "open"
    assert breaker.state(provider, probe_time + timedelta(seconds=60)) == "half_open"


def test_another_worker_sees_the_same_circuit(redis_server):
    policy = NotifyPolicy(circuit_threshold=1, circuit_cooldown_seconds=30)
    provider = f"shared-{time.time_ns()}"
    CircuitBreaker(redis_server.url, policy).failed(provider, NOW)
    assert not CircuitBreaker(redis_server.url, policy).allows(provider, NOW)


def test_a_breaker_without_redis_lets_delivery_through():
    breaker = CircuitBreaker("redis://127.0.0.1:1/0", NotifyPolicy())
    breaker.failed("any", NOW)
    assert breaker.allows("any", NOW) and breaker.state("any", NOW) == "unknown"


def reading(redis_url: str, breaker: CircuitBreaker, provider: str) -> Reading:
    """The circuit as delivery reads it, on a pipeline of another client (the send lock's)."""
    client = redis.Redis.from_url(redis_url)
    try:
        pipeline = client.pipeline(transaction=False)
        breaker.read(pipeline, provider)
        return Reading.from_fields(*pipeline.execute()[0])
    finally:
        client.close()


def test_a_success_resets_the_failures_it_read_and_writes_nothing_when_there_were_none(redis_server):
    breaker = CircuitBreaker(redis_server.url, NotifyPolicy(circuit_threshold=3, circuit_cooldown_seconds=60))
    provider = f"quiet-{time.time_ns()}"
    breaker.failed(provider, NOW)
    before = reading(redis_server.url, breaker, provider)
    assert before == Reading(None, 1) and not before.untouched
    breaker.succeeded(provider, before)
    assert reading(redis_server.url, breaker, provider).untouched

    untouched = reading(redis_server.url, breaker, provider)
    breaker.failed(provider, NOW)  # another worker's failure, after this send read the circuit
    breaker.succeeded(provider, untouched)  # no write: the success knew of nothing to reset
    assert reading(redis_server.url, breaker, provider) == Reading(None, 1)


def test_an_open_circuit_as_read_is_not_allowed_until_its_probe(redis_server):
    breaker = CircuitBreaker(redis_server.url, NotifyPolicy(circuit_threshold=1, circuit_cooldown_seconds=60))
    provider = f"read-{time.time_ns()}"
    breaker.failed(provider, NOW)
    seen = reading(redis_server.url, breaker, provider)
    assert not breaker.allows(provider, NOW, seen) and breaker.seconds_until_open_ends([seen], NOW) == 60
    later = NOW + timedelta(seconds=60)
    assert breaker.allows(provider, later, seen) and not breaker.allows(provider, later, seen)  # one probe
