"""Hand one message to its providers, in order of preference, with failover.

Two callers: the send_message task claims the message it is accepting in the
accept's own transaction (`claim_accepted`) and sends it once that has committed
(`deliver_claimed`); the deliver_message task sends any other (`deliver`: one
accepted over HTTP, one retried, held or swept up).

Only one worker sends a message at a time: it holds the message's send lock in
Redis while it sends. A worker killed mid-send leaves the message `sending`
and its lock expiring; the redelivered task then finds it free and sends it.
So a message is never lost, and is sent twice only if the worker dies in the
instant between the provider's acceptance and the commit of `sent`.

A provider whose circuit is open is skipped; a transient failure moves on to
the next provider; when every provider failed transiently the message goes back
to `accepted` and the task retries with backoff; a permanent failure, or a
message past its maximum age, ends `failed`. A message that cannot be built
(a header it cannot hold, text it cannot encode) fails alone: the circuit
counts only what the provider does, so one bad message never holds up the rest.
"""

import logging
from dataclasses import dataclass, field
from datetime import datetime, timedelta

import redis
from sqlalchemy import bindparam, insert, update

from services.notify.domain.circuit import Reading
from services.notify.domain.messages import (ACCEPTED, FAILED, SENDING, SENT, SUPPRESSED, add_history, masked,
                                             record_status)
from services.notify.models import Message, MessageStatusChange
from services.notify.providers import (CircuitOpen, PermanentError, RecipientLimited, TransientError,
                                       UnsendableMessage, providers_for)
from shared.db import on_rollback, utcnow

SKIPPED = "skipped"
log = logging.getLogger(__name__)


def claim_for_sending(session, message_id: int, now: datetime) -> Message | None:
    """Move an accepted (or abandoned `sending`), due message to `sending`; None when it is not ours to send.

    The caller holds the message's send lock, so a message still `sending` was
    left by a worker that died before it could finish."""
    message = session.get(Message, message_id, with_for_update=True)
    if message is None or message.status not in (ACCEPTED, SENDING):
        return None
    if message.send_after is not None and message.send_after > now:
        return None  # held for quiet hours: the sweep queues it later
    message.attempts += 1
    record_status(session, message, SENDING)
    return message


def is_expired(message: Message, now: datetime, policy) -> bool:
    if message.expires_at is not None and now > message.expires_at:
        return True
    due = message.send_after or message.created_at
    return message.channel == "sms" and now - due > timedelta(hours=policy.sms_max_age_hours)


class SendLocks:
    """`SET NX` per message in Redis, expiring: a dead worker's lock frees itself. It is taken together
    with the circuits' reading (`ask_to_send`), in one round trip."""

    def __init__(self, redis_url: str, seconds: float):
        self.client = redis.Redis.from_url(redis_url, socket_connect_timeout=2, socket_timeout=2)
        self.seconds = max(int(seconds), 1)

    @staticmethod
    def key(message_id: int) -> str:
        return f"yizhan:notify:sending:{message_id}"

    def take(self, pipeline, message_id: int) -> None:
        """Queue the taking of the lock on `pipeline`; its answer is true when this worker got it."""
        pipeline.set(self.key(message_id), "1", nx=True, ex=self.seconds)

    def release(self, message_id: int) -> None:
        self.client.delete(self.key(message_id))


@dataclass(frozen=True)
class Permit:
    """What `ask_to_send` found, the send lock being ours: the message's providers, those whose circuit
    lets this send through, and each circuit as read (so a success need not write when nothing changes)."""

    providers: list
    allowed: list
    readings: dict = field(default_factory=dict)


def ask_to_send(circuit, locks: SendLocks, message_id: int, providers: list, now: datetime) -> Permit:
    """Take the message's send lock and read each provider's circuit, in one Redis round trip.

    TransientError when another worker holds the lock; CircuitOpen, the lock released again, when
    every provider's circuit is open. A RedisError passes to the caller, as the lock's own did."""
    pipeline = locks.client.pipeline(transaction=False)
    locks.take(pipeline, message_id)
    for provider in providers:
        circuit.read(pipeline, provider.name)
    taken, *fields = pipeline.execute()
    if not taken:
        raise TransientError(f"message {message_id} is being sent by another worker")
    readings = {p.name: Reading.from_fields(*answer) for p, answer in zip(providers, fields)}
    # Ask each circuit once: a half-open circuit grants its one probe to this call.
    allowed = [p for p in providers if circuit.allows(p.name, now, readings[p.name])]
    if providers and not allowed:
        locks.release(message_id)
        raise CircuitOpen("every provider's circuit is open",
                          circuit.seconds_until_open_ends(list(readings.values()), now))
    return Permit(providers, allowed, readings)


def deliver(database, settings, policy, circuit, locks: SendLocks, message_id: int, now: datetime) -> str:
    """Send once if the message is still to be sent; raise TransientError to be retried."""
    permit = ask_to_send(circuit, locks, message_id, providers_for_message(database, settings, message_id), now)
    try:
        with database.transaction() as session:
            message = claim_for_sending(session, message_id, now)
            if message is not None and is_expired(message, now, policy):
                record_status(session, message, FAILED, "expired before it could be sent 已过期")
                return FAILED
        if message is None:
            return SKIPPED
        return _send(database, circuit, permit, message, now)
    finally:
        locks.release(message_id)


def claim_accepted(session, policy, circuit, locks: SendLocks, providers: list, message: Message,
                   now: datetime) -> Permit:
    """In the transaction that is accepting `message` (the send_message task): take its send lock and ask
    the circuits (`ask_to_send`), then claim it as `claim_for_sending` does, without reading it: nobody
    else can see it before this commit. The accept wrote it already `sending`, with its first attempt
    (`accept_message` with queue=False); its status rows go in with the accept's, at the commit.

    Should the transaction roll back, the lock is released; once it has committed, the caller sends
    with `deliver_claimed`. Raises as `ask_to_send` does, and then the message is given back:
    `accepted`, with no attempt counted (one UPDATE, on this path only)."""
    try:
        permit = ask_to_send(circuit, locks, message.id, providers, now)
    except BaseException:
        message.status, message.attempts = ACCEPTED, 0
        raise
    on_rollback(session, lambda: _release_quietly(locks, message.id))
    add_history(session, message.id, SENDING, at=now)
    if is_expired(message, now, policy):
        record_status(session, message, FAILED, "expired before it could be sent 已过期", at=now)
    return permit


def deliver_claimed(database, circuit, locks: SendLocks, permit: Permit, message: Message, now: datetime) -> str:
    """Send the message `claim_accepted` claimed, now committed, and release its send lock; raise
    TransientError to be retried, as `deliver` does."""
    try:
        if message.status != SENDING:
            return message.status  # failed at its claim: expired
        return _send(database, circuit, permit, message, now)
    finally:
        locks.release(message.id)


def _release_quietly(locks: SendLocks, message_id: int) -> None:
    try:
        locks.release(message_id)
    except redis.RedisError:
        log.warning("could not release the send lock of message %s; it expires by itself", message_id)


def _send(database, circuit, permit: Permit, message: Message, now: datetime) -> str:
    """Hand the claimed message to the first allowed provider that takes it, and record the outcome."""
    errors = [f"{p.name}: circuit open" for p in permit.providers if p not in permit.allowed]
    for provider in permit.allowed:
        reading = permit.readings.get(provider.name)
        try:
            reference = provider.send(message)
        except UnsendableMessage as exc:
            # This message's own fault, found before the provider was asked: it fails alone.
            return _finish(database, message, FAILED, f"{provider.name}: {exc}")
        except RecipientLimited as exc:
            errors.append(f"{provider.name}: {exc}")  # this number, for now: retried, the circuit untouched
            continue
        except TransientError as exc:
            circuit.failed(provider.name, now)
            errors.append(f"{provider.name}: {exc}")
            continue
        except PermanentError as exc:
            circuit.succeeded(provider.name, reading)  # the provider answered; the message is the problem
            return _finish(database, message, FAILED, f"{provider.name}: {exc}")
        except Exception as exc:
            # A provider's bug or a surprise: retried like a transient failure, so the message is not
            # lost, but not counted against the provider's circuit, so one odd message cannot open it.
            log.exception("provider %s failed unexpectedly", provider.name)
            errors.append(f"{provider.name}: {type(exc).__name__}")
            continue
        circuit.succeeded(provider.name, reading)
        log.info("message %s to %s handed to %s", message.id, masked(message.recipient), provider.name)
        return _finish(database, message, SENT, f"handed to {provider.name}", provider.name, reference)
    error = "; ".join(errors) or "no provider configured"
    with database.transaction() as session:
        record_status(session, _claimed(session, message), ACCEPTED, f"retrying: {error}"[:500])
    failure = TransientError(error)
    failure.attempts = message.attempts
    raise failure


def providers_for_message(database, settings, message_id: int) -> list:
    with database.reader() as session:
        message = session.get(Message, message_id)
        return providers_for(settings, message.channel) if message is not None else []


def _claimed(session, message: Message) -> Message:
    """The message this worker claimed, in a new transaction, without reading it again: it is `sending`
    under our send lock, so nobody else writes it; the UPDATE that follows takes its row lock."""
    return session.merge(message, load=False)


# How a send ends, as two statements built once: the UPDATE sets the columns named by the parameters it
# is given (whatever is not the `message_id` it picks the row by), and the history row.
_ENDED = update(Message.__table__).where(Message.__table__.c.id == bindparam("message_id"))
_HISTORY = insert(MessageStatusChange.__table__)


def _finish(database, message: Message, status, detail, provider=None, reference=None) -> str:
    """Record how the send ended (`sent` or `failed`), writing what `record_status` would, in a
    transaction of its own: one UPDATE of the columns that change and one INSERT of the history row.
    The message is ours (claimed under its send lock), so nothing needs reading, and merging the whole
    object into a new session for the unit of work to write them cost more than the statements; a bare
    connection costs less than a session (issue 14)."""
    at, detail = utcnow(), detail[:500]
    changes = {"status": status, "updated_at": at}
    if status in (SUPPRESSED, FAILED):
        changes["status_reason"] = detail
    if provider:
        changes.update(provider=provider, provider_reference=reference)
    with database.statements() as connection:
        connection.execute(_ENDED, {"message_id": message.id, **changes})
        connection.execute(_HISTORY, {"message_id": message.id, "status": status, "detail": detail, "at": at})
    return status


def give_up(database, message_id: int, error: str) -> None:
    with database.transaction() as session:
        message = session.get(Message, message_id, with_for_update=True)
        if message.status == ACCEPTED:
            record_status(session, message, FAILED, f"gave up after retries: {error}"[:500])
