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
from dataclasses import dataclass
from datetime import datetime

import redis

log = logging.getLogger(__name__)
PREFIX = "yizhan:notify:circuit:"


@dataclass(frozen=True)
class Reading:
    """A provider's circuit as read from Redis: when it half-opens (epoch seconds; None: closed),
    and the failures counted since its last success."""

    open_until: float | None = None
    failures: int = 0

    @classmethod
    def from_fields(cls, open_until, failures) -> "Reading":
        """From `HMGET <circuit> open_until failures`."""
        return cls(None if open_until is None else float(open_until), int(failures or 0))

    @property
    def untouched(self) -> bool:
        """Closed with no failure counted: a success has nothing to reset."""
        return self.open_until is None and not self.failures


class CircuitBreaker:
    def __init__(self, redis_url: str, policy):
        self.client = redis.Redis.from_url(redis_url, socket_connect_timeout=1, socket_timeout=1)
        self.policy = policy

    def _open_until(self, provider: str) -> float | None:
        """When the open circuit half-opens (epoch seconds), or None when closed; RedisError passes."""
        value = self.client.hget(PREFIX + provider, "open_until")
        return None if value is None else float(value)

    @staticmethod
    def read(pipeline, provider: str) -> None:
        """Queue the reading of the provider's circuit on `pipeline` (another client's, to share its round
        trip: delivery reads each circuit with the send lock); its answer makes a `Reading`."""
        pipeline.hmget(PREFIX + provider, "open_until", "failures")

    def allows(self, provider: str, now: datetime, reading: Reading | None = None) -> bool:
        """Whether to try the provider now; `reading`: the circuit as just read, so as not to read it again."""
        try:
            open_until = reading.open_until if reading is not None else self._open_until(provider)
            if open_until is None:
                return True
            if now.timestamp() < open_until:
                return False
            # Half-open: one probe at a time. The probe lock expires by Redis's clock, so a dead prober frees it.
            return bool(self.client.set(PREFIX + provider + ":probe", "1", nx=True,
                                        ex=max(int(self.policy.circuit_cooldown_seconds), 1)))
        except redis.RedisError:
            return True

    def succeeded(self, provider: str, reading: Reading | None = None) -> None:
        """Close the circuit and forget its failures; nothing to write when `reading`, taken before this
        send, found it untouched (a probe lock exists only while the circuit is open or half-open)."""
        if reading is not None and reading.untouched:
            return
        try:
            self.client.delete(PREFIX + provider, PREFIX + provider + ":probe")
        except redis.RedisError:
            pass

    def seconds_until_open_ends(self, readings: list[Reading], now: datetime) -> float:
        """From readings just taken: seconds until the first of these open circuits half-opens."""
        return min(max(0.0, (r.open_until or 0.0) - now.timestamp()) for r in readings)

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
