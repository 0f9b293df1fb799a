"""Rate limits: at most N job starts in any window of `per` seconds, per queue or per key."""

from __future__ import annotations

import collections
import re
from dataclasses import dataclass
from typing import Any

_UNITS = {"s": 1.0, "m": 60.0, "h": 3600.0}
_PATTERN = re.compile(r"^\s*(\d+)\s*/\s*(\d+(?:\.\d+)?)?\s*([smh])\s*$")
SWEEP_KEYS = 1024  # past this many keys, idle ones are forgotten on the next start


@dataclass(frozen=True)
class RateLimit:
    """`limit` starts per `per` seconds. `RateLimit.parse("10/s")`, `"100/m"`, `"1/h"`, `"5/30s"`."""

    limit: int
    per: float

    def __post_init__(self) -> None:
        if self.limit < 1 or self.per <= 0:
            raise ValueError("a rate limit needs at least 1 start per a positive interval")

    @classmethod
    def parse(cls, value: Any) -> RateLimit:
        if isinstance(value, RateLimit):
            return value
        match = _PATTERN.match(value) if isinstance(value, str) else None
        if match is None:
            raise ValueError(f'a rate limit is "<count>/<unit>" with unit s, m or h ("10/s", "5/30s"), not {value!r}')
        count, amount, unit = match.groups()
        return cls(int(count), float(amount or 1) * _UNITS[unit])

    def __str__(self) -> str:
        for unit, seconds in _UNITS.items():
            if self.per == seconds:
                return f"{self.limit}/{unit}"
        return f"{self.limit}/{self.per:g}s"


class RateLimiter:
    """A sliding window per key: a start is allowed when fewer than `limit` fell in the last `per`."""

    def __init__(self, rate: RateLimit) -> None:
        self.rate = rate
        self._starts: dict[Any, collections.deque[float]] = {}

    def wait(self, key: Any, now: float) -> float:
        """Return 0 if `key` may start now, else the seconds until it may; records nothing."""
        starts = self._starts.get(key)
        if not starts:
            return 0.0
        horizon = now - self.rate.per
        while starts and starts[0] <= horizon:
            starts.popleft()
        return starts[0] - horizon if len(starts) >= self.rate.limit else 0.0

    def record(self, key: Any, now: float) -> None:
        """Count a start of `key` at `now`."""
        starts = self._starts.get(key)
        if starts is None:
            if len(self._starts) >= SWEEP_KEYS:
                self._forget_idle(now)
            starts = self._starts[key] = collections.deque()
        starts.append(now)

    def acquire(self, key: Any, now: float) -> float:
        """Record a start for `key` and return 0, or return the seconds until one is allowed."""
        wait = self.wait(key, now)
        if not wait:
            self.record(key, now)
        return wait

    def _forget_idle(self, now: float) -> None:
        horizon = now - self.rate.per
        for key in [key for key, starts in self._starts.items() if not starts or starts[-1] <= horizon]:
            del self._starts[key]
