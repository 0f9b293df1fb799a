"""Time for the queue: a monotonic clock and timers, real or driven by hand in tests.

Delayed jobs, rate limits, dedup windows and timeouts all read `clock.now()` and wait with
`clock.call_later()`, so a test can pass a `FakeClock` and move time with `advance()`.
"""

from __future__ import annotations

import heapq
import itertools
import logging
import threading
import time
from typing import Any, Callable

logger = logging.getLogger("ffscan.runtime")


class Timer:
    """A pending callback; `cancel()` stops it if it has not run yet."""

    __slots__ = ("when", "callback", "cancelled")

    def __init__(self, when: float, callback: Callable[[], Any]) -> None:
        self.when = when
        self.callback = callback
        self.cancelled = False

    def cancel(self) -> None:
        self.cancelled = True


class Clock:
    """Real time. Timers run on one daemon thread shared by every queue of the process.

    A callback runs on that thread, so it must be thread-safe and quick: the queue's own
    callbacks only move a job and, for coroutine jobs, hand the start to the job's loop.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._wake = threading.Condition(self._lock)
        self._heap: list[tuple[float, int, Timer]] = []
        self._order = itertools.count()
        self._thread: threading.Thread | None = None

    def now(self) -> float:
        return time.monotonic()

    def call_later(self, delay: float, callback: Callable[[], Any]) -> Timer:
        timer = Timer(self.now() + max(0.0, delay), callback)
        with self._lock:
            heapq.heappush(self._heap, (timer.when, next(self._order), timer))
            if self._thread is None or not self._thread.is_alive():
                self._thread = threading.Thread(target=self._run, name="ffscan-timers", daemon=True)
                self._thread.start()
            elif self._heap[0][2] is timer:
                self._wake.notify()  # the new timer is due before the one the thread waits for
        return timer

    def _run(self) -> None:
        while True:
            with self._lock:
                while not self._heap or self._heap[0][0] > self.now():
                    self._wake.wait(self._heap[0][0] - self.now() if self._heap else None)
                timer = heapq.heappop(self._heap)[2]
            if timer.cancelled:
                continue
            try:
                timer.callback()
            except Exception:  # ffscan: ignore[FF401] one broken callback must not stop every later timer: log it, go on
                logger.exception("timer callback %r failed", timer.callback)


class FakeClock(Clock):
    """A clock that moves only when told: `advance(seconds)` runs the timers that fall due.

    Due callbacks run in the thread that calls `advance()`, earliest first. For coroutine
    jobs, call it from the loop's thread (inside the test's async code).
    """

    def __init__(self, start: float = 1000.0) -> None:
        super().__init__()
        self._now = start

    def now(self) -> float:
        return self._now

    def call_later(self, delay: float, callback: Callable[[], Any]) -> Timer:
        timer = Timer(self._now + max(0.0, delay), callback)
        with self._lock:
            heapq.heappush(self._heap, (timer.when, next(self._order), timer))
        return timer

    def advance(self, seconds: float) -> None:
        """Move time forward by `seconds`, running each timer when its moment is reached."""
        target = self._now + seconds
        while True:
            with self._lock:
                if not self._heap or self._heap[0][0] > target:
                    break
                when, _, timer = heapq.heappop(self._heap)
            self._now = max(self._now, when)
            if not timer.cancelled:
                timer.callback()
        self._now = target

    def pending_timers(self) -> int:
        """Return how many timers wait to run (cancelled ones excluded)."""
        with self._lock:
            return sum(1 for _, _, timer in self._heap if not timer.cancelled)


REAL_CLOCK = Clock()
