"""A circuit breaker per provider, kept in Redis so every worker process shares it.

After `circuit_threshold` consecutive failures a provider is skipped for
`circuit_cooldown_seconds`; then one probe may try it (the first worker to
take the probe lock); a success closes the circuit, a failure opens it again.
If Redis cannot be asked, the provider is tried: a broken breaker must not stop delivery.
"""

import logging
import time

import redis

log = logging.getLogger(__name__)
PREFIX = "yizhan:notify:circuit:"


class CircuitBreaker:
    def __init__(self, redis_url: str, policy):
        self.client = redis.Redis.from_url(redis_url, socket_connect_timeout=1, socket_timeout=1)
        self.policy = policy

    def allows(self, provider: str) -> bool:
        try:
            open_until = self.client.hget(PREFIX + provider, "open_until")
            if open_until is None or time.time() >= float(open_until):
                if open_until is None:
                    return True
                # Half-open: one probe at a time.
                return bool(self.client.set(PREFIX + provider + ":probe", "1", nx=True,
                                            ex=max(int(self.policy.circuit_cooldown_seconds), 1)))
            return False
        except redis.RedisError:
            return True

    def succeeded(self, provider: str) -> None:
        try:
            self.client.delete(PREFIX + provider, PREFIX + provider + ":probe")
        except redis.RedisError:
            pass

    def failed(self, provider: str) -> None:
        try:
            failures = self.client.hincrby(PREFIX + provider, "failures", 1)
            if failures >= self.policy.circuit_threshold:
                self.client.hset(PREFIX + provider, "open_until", time.time() + self.policy.circuit_cooldown_seconds)
                self.client.delete(PREFIX + provider + ":probe")
                log.warning("circuit open for provider %s after %d failures", provider, failures)
        except redis.RedisError:
            pass

    def seconds_until_probe(self, provider: str) -> float:
        try:
            open_until = self.client.hget(PREFIX + provider, "open_until")
        except redis.RedisError:
            return 0.0
        return max(0.0, float(open_until) - time.time()) if open_until else 0.0

    def state(self, provider: str) -> str:
        try:
            open_until = self.client.hget(PREFIX + provider, "open_until")
        except redis.RedisError:
            return "unknown"
        if open_until is None:
            return "closed"
        return "open" if time.time() < float(open_until) else "half_open"
