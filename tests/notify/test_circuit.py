"""The providers' circuit breaker, shared through Redis by every worker process."""

import time

from services.notify.domain.circuit import CircuitBreaker
from services.notify.policy import NotifyPolicy


def test_consecutive_failures_open_the_circuit_and_one_probe_closes_it(redis_server):
    # A cooldown of seconds, not fractions: a busy machine may pause this process between two lines.
    breaker = CircuitBreaker(redis_server.url, NotifyPolicy(circuit_threshold=3, circuit_cooldown_seconds=3))
    provider = f"test-{time.time_ns()}"
    for _ in range(2):
        breaker.failed(provider)
    assert breaker.allows(provider) and breaker.state(provider) == "closed"
    breaker.failed(provider)
    assert breaker.state(provider) == "open" and not breaker.allows(provider)
    time.sleep(3.2)
    assert breaker.state(provider) == "half_open"
    assert breaker.allows(provider)          # the probe
    assert not breaker.allows(provider)      # nobody else meanwhile
    breaker.succeeded(provider)
    assert breaker.state(provider) == "closed" and breaker.allows(provider)


def test_another_worker_sees_the_same_circuit(redis_server):
    policy = NotifyPolicy(circuit_threshold=1, circuit_cooldown_seconds=30)
    provider = f"shared-{time.time_ns()}"
    CircuitBreaker(redis_server.url, policy).failed(provider)
    assert not CircuitBreaker(redis_server.url, policy).allows(provider)


def test_a_breaker_without_redis_lets_delivery_through():
    breaker = CircuitBreaker("redis://127.0.0.1:1/0", NotifyPolicy())
    breaker.failed("any")
    assert breaker.allows("any") and breaker.state("any") == "unknown"
