"""What every provider is, and the two ways it can fail."""


class TransientError(Exception):
    """Worth trying again later (connection refused, 5xx, throttled)."""


class PermanentError(Exception):
    """Trying again will not help (bad address, template refused)."""


class RecipientLimited(TransientError):
    """The provider limits this one recipient for now (a per-number flow control): worth trying
    later, but no sign that the provider is failing, so it does not count against its circuit."""


class UnsendableMessage(PermanentError):
    """The message itself cannot be handed over (it cannot be built, or its content is refused
    before the provider is asked): it fails alone, and the provider's circuit is not touched."""


class Provider:
    name = "provider"

    def send(self, message) -> str | None:
        """Hand the message over; return the provider's reference, if any."""
        raise NotImplementedError


class CircuitOpen(TransientError):
    """Every provider's circuit is open: nothing was tried; try again when one half-opens."""

    def __init__(self, message: str, wait_seconds: float):
        super().__init__(message)
        self.wait_seconds = wait_seconds
