"""Snapshots of a queue's counters, and what a shutdown left behind."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any, NamedTuple

from .job import Job


class FailureRecord(NamedTuple):
    """One recent final failure or drop: which job, what error, when (epoch seconds)."""

    job: str
    error: str
    when: float


@dataclass(frozen=True)
class QueueStats:
    """Counts for one queue at one moment; the totals count since the queue was made."""

    name: str
    pending: int  # accepted, waiting for a slot
    running: int  # inside an attempt now
    retrying: int  # waiting out a backoff; still holds its slot
    succeeded: int
    failed: int  # final failures, after any retries
    retried: int  # retry attempts started, over all jobs
    dropped: int  # refused by a full queue with overflow="drop"
    cancelled: int  # cancelled by shutdown before they finished
    recent_failures: tuple[FailureRecord, ...]

    def as_dict(self) -> dict[str, Any]:
        """Return the snapshot as plain data, ready for JSON."""
        data = asdict(self)
        data["recent_failures"] = [record._asdict() for record in self.recent_failures]
        return data


@dataclass(frozen=True)
class ShutdownReport:
    """What `shutdown()` / `aclose()` found: an empty report means everything finished."""

    cancelled: tuple[Job, ...] = ()  # pending or running jobs it cancelled
    still_running: tuple[Job, ...] = ()  # threads, and coroutines that ignored cancellation

    @property
    def drained(self) -> bool:
        """Return True when every job finished on its own before the timeout."""
        return not self.cancelled and not self.still_running
