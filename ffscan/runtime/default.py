"""The process-wide queue `background`, created on first use and set up by `configure()`."""

from __future__ import annotations

import threading
from typing import Any

from .queue import TrackedQueue

_lock = threading.Lock()
_queue: TrackedQueue | None = None
_options: dict[str, Any] = {}


def default_queue() -> TrackedQueue:
    """Return the default queue, creating it with the configured options on first use."""
    global _queue
    with _lock:
        if _queue is None:
            _queue = TrackedQueue(**_options)
        return _queue


def configure(**options: Any) -> TrackedQueue:
    """Replace the default queue with one built from `options` (TrackedQueue's keywords).

    Call it at startup, before the queue has work: it raises RuntimeError while jobs are
    pending or running. Names registered on the old queue carry over; the old queue is
    closed, so stale references to it fail loudly.
    """
    global _queue, _options
    replacement = TrackedQueue(**options)  # bad options raise here, leaving the old queue in place
    with _lock:
        previous = _queue
        if previous is not None:
            stats = previous.stats()
            if stats.pending or stats.running or stats.retrying:
                raise RuntimeError("configure() the default queue before it has work; it has jobs pending or running")
        if previous is not None:
            for name, fn in previous.registrations().items():
                replacement.register(name, fn)  # `@background.job(...)` may run before configure()
        _options = dict(options)
        _queue = replacement
    if previous is not None:
        previous.shutdown(timeout=0)
    return replacement


class DefaultQueue:
    """Stand-in for the default TrackedQueue: each attribute is looked up on the current one.

    `from ffscan.runtime import background` stays valid across `configure()` calls.
    """

    def __getattr__(self, name: str) -> Any:
        return getattr(default_queue(), name)

    def __enter__(self) -> TrackedQueue:
        return default_queue().__enter__()

    def __exit__(self, *exc_info: Any) -> None:
        default_queue().__exit__(*exc_info)

    async def __aenter__(self) -> TrackedQueue:
        return await default_queue().__aenter__()

    async def __aexit__(self, *exc_info: Any) -> None:
        await default_queue().__aexit__(*exc_info)

    def __repr__(self) -> str:
        return f"<default {default_queue()!r}>"


background = DefaultQueue()
