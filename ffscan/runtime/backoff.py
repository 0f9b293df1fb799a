"""Exponential backoff with jitter between retries."""

from __future__ import annotations

import random
from dataclasses import dataclass


@dataclass(frozen=True)
class Backoff:
    """Wait `initial * factor ** (attempt - 1)` seconds, capped at `max`, spread by +/- `jitter`.

    `jitter` is a fraction: 0.1 scales each delay by a random factor in [0.9, 1.1], so jobs
    that failed together (one outage) do not all come back at the same instant.
    """

    initial: float = 0.5
    factor: float = 2.0
    max: float = 30.0
    jitter: float = 0.1

    def __post_init__(self) -> None:
        if self.initial < 0 or self.max < 0:
            raise ValueError("Backoff delays cannot be negative")
        if self.factor < 1:
            raise ValueError("Backoff factor must be at least 1")
        if not 0 <= self.jitter <= 1:
            raise ValueError("Backoff jitter is a fraction between 0 and 1")

    def delay(self, attempt: int, rng: random.Random | None = None) -> float:
        """Return the seconds to wait after failed attempt number `attempt` (1 = the first)."""
        if attempt < 1:
            raise ValueError("attempt counts from 1")
        try:
            base = min(self.max, self.initial * self.factor ** (attempt - 1))
        except OverflowError:
            base = self.max  # the exponent outgrew floats, far past any cap
        if not self.jitter:
            return base
        spread = (rng or random).uniform(-self.jitter, self.jitter)
        return base * (1 + spread)
