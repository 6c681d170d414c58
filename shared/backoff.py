"""How long to wait before trying again."""

import random

BACKOFF_BASE_SECONDS = 5


def backoff_seconds(retries: int, ceiling: float, base: float = BACKOFF_BASE_SECONDS) -> float:
    """Exponential backoff with full jitter, never past the ceiling
    ("Exponential Backoff And Jitter", AWS Architecture Blog, 2015)."""
    return random.uniform(0, min(ceiling, base * 2 ** retries))
