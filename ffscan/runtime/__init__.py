"""Tracked background work: the API that `ffscan fix` rewrites fire-and-forget calls onto.

Standard library only; importing it never loads libcst, rich or networkx.

    from ffscan.runtime import background, track

    background.spawn(send_receipt, order)      # coroutine function + arguments
    background.submit(resize_image, path)      # blocking callable, on a worker thread
    track(asyncio.create_task(poll()))         # keep it alive, report its failure
"""

from __future__ import annotations

from .backoff import Backoff
from .default import background, configure, default_queue
from .errors import QueueClosed, QueueFull
from .job import (
    CANCELLED,
    DROPPED,
    FAILED,
    PENDING,
    RETRYING,
    RUNNING,
    SUCCEEDED,
    Job,
)
from .journal import SQLiteJournal, read_journal, summarize
from .queue import NotAwaitable, TrackedQueue, log_job_failure
from .stats import FailureRecord, QueueStats, ShutdownReport
from .track import pending_count, set_error_hook, track, tracked

__all__ = [
    "CANCELLED",
    "DROPPED",
    "FAILED",
    "PENDING",
    "RETRYING",
    "RUNNING",
    "SUCCEEDED",
    "Backoff",
    "FailureRecord",
    "Job",
    "NotAwaitable",
    "QueueClosed",
    "QueueFull",
    "QueueStats",
    "SQLiteJournal",
    "ShutdownReport",
    "TrackedQueue",
    "background",
    "configure",
    "default_queue",
    "log_job_failure",
    "pending_count",
    "read_journal",
    "set_error_hook",
    "summarize",
    "track",
    "tracked",
]
