"""Helpers for the runtime tests: a failure recorder and a bounded wait."""

from __future__ import annotations

import asyncio
import threading
import time
from typing import Any, Callable


class Recorder:
    """Collect (subject, error) pairs from any thread, as on_error and error hooks receive them."""

    def __init__(self) -> None:
        self.calls: list[tuple[Any, BaseException]] = []
        self._lock = threading.Lock()

    def __call__(self, subject: Any, error: BaseException) -> None:
        with self._lock:
            self.calls.append((subject, error))


def wait_until(predicate: Callable[[], bool], timeout: float = 5.0) -> None:
    """Poll a condition another thread will make true; fail after a generous bound."""
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError("condition not reached in time")
        time.sleep(0.002)


async def wait_until_async(predicate: Callable[[], bool], timeout: float = 5.0) -> None:
    """Let the event loop run until a condition holds; fail after a generous bound."""
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError("condition not reached in time")
        await asyncio.sleep(0.001)
