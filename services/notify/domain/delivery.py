"""Hand one message to its providers, in order of preference."""

from services.notify.domain.messages import claim_for_sending, mark_failed, mark_sent, release_for_retry
from services.notify.providers import PermanentError, TransientError, providers_for

SKIPPED, SENT, FAILED = "skipped", "sent", "failed"


def deliver(database, settings, message_id: int) -> str:
    """Send once if the message is still `accepted`; raise TransientError to be retried."""
    with database.transaction() as session:
        message = claim_for_sending(session, message_id)
    if message is None:
        return SKIPPED
    errors = []
    for provider in providers_for(settings, message.channel):
        try:
            reference = provider.send(message)
        except TransientError as exc:
            errors.append(f"{provider.name}: {exc}")
            continue
        except PermanentError as exc:
            with database.transaction() as session:
                mark_failed(session, message_id, f"{provider.name}: {exc}")
            return FAILED
        with database.transaction() as session:
            mark_sent(session, message_id, provider.name, reference)
        return SENT
    error = "; ".join(errors) or "no provider configured"
    with database.transaction() as session:
        release_for_retry(session, message_id, error)
    raise TransientError(error)


def give_up(database, message_id: int, error: str) -> None:
    with database.transaction() as session:
        mark_failed(session, message_id, f"gave up after retries: {error}")
