"""Exceptions raised by the tracked queue."""

from __future__ import annotations


class QueueFull(RuntimeError):
    """The queue already holds `max_pending` jobs waiting to start."""


class QueueClosed(RuntimeError):
    """The queue was shut down and takes no new jobs."""
