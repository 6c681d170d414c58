"""A circuit breaker per provider, kept in Redis so every worker process shares it.

After `circuit_threshold` consecutive failures a provider is skipped for
`circuit_cooldown_seconds`; then one probe may try it (the first worker to
take the probe lock); a success closes the circuit, a failure opens it again.
If Redis cannot be asked, the provider is tried: a broken breaker must not stop delivery.

Only the provider's own failures count (connection refused, timeouts, a server
error): a message refused for its content fails alone (domain/delivery.py).
Like every domain function it takes `now` (an aware datetime) instead of reading the clock.
"""

import logging
from datetime import datetime

import redis

log = logging.getLogger(__name__)
PREFIX = "yizhan:notify:circuit:"


class CircuitBreaker:
    def __init__(self, redis_url: str, policy):
        self.client = redis.Redis.from_url(redis_url, socket_connect_timeout=1, socket_timeout=1)
        self.policy = policy

    def _open_until(self, provider: str) -> float | None:
        """When the open circuit half-opens (epoch seconds), or None when closed; RedisError passes."""
        value = self.client.hget(PREFIX + provider, "open_until")
        return None if value is None else float(value)

    def allows(self, provider: str, now: datetime) -> bool:
        try:
            open_until = self._open_until(provider)
            if open_until is None:
                return True
            if now.timestamp() < open_until:
                return False
            # Half-open: one probe at a time. The probe lock expires by Redis's clock, so a dead prober frees it.
            return bool(self.client.set(PREFIX + provider + ":probe", "1", nx=True,
                                        ex=max(int(self.policy.circuit_cooldown_seconds), 1)))
        except redis.RedisError:
            return True

    def succeeded(self, provider: str) -> None:
        try:
            self.client.delete(PREFIX + provider, PREFIX + provider + ":probe")
        except redis.RedisError:
            pass

    def failed(self, provider: str, now: datetime) -> None:
        try:
            failures = self.client.hincrby(PREFIX + provider, "failures", 1)
            if failures >= self.policy.circuit_threshold:
                self.client.hset(PREFIX + provider, "open_until",
                                 now.timestamp() + self.policy.circuit_cooldown_seconds)
                self.client.delete(PREFIX + provider + ":probe")
                log.warning("circuit open for provider %s after %d failures", provider, failures)
        except redis.RedisError:
            pass

    def seconds_until_probe(self, provider: str, now: datetime) -> float:
        try:
            open_until = self._open_until(provider)
        except redis.RedisError:
            return 0.0
        return max(0.0, open_until - now.timestamp()) if open_until is not None else 0.0

    def state(self, provider: str, now: datetime) -> str:
        try:
            open_until = self._open_until(provider)
        except redis.RedisError:
            return "unknown"
        if open_until is None:
            return "closed"
        return "open" if now.timestamp() < open_until else "half_open"
