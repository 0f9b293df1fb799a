"""Tracked background work: the API that `ffscan fix` rewrites fire-and-forget calls onto.

Standard library only; importing it never loads libcst, rich or networkx.

    from ffscan.runtime import background, enqueue, job, queue, track

    background.spawn(send_receipt, order)      # coroutine function + arguments
    background.submit(resize_image, path)      # blocking callable, on a worker thread
    queue("emails").options(delay=30).spawn(send_welcome, user_id)
    track(asyncio.create_task(poll()))         # keep it alive, report its failure
    enqueue(celery_task, order_id)             # a broker call, off the event loop
"""

from __future__ import annotations

from .backoff import Backoff
from .clock import Clock, FakeClock
from .default import background, configure, default_queue, queue, queue_names
from .enqueue import configure_delivery, delivery_queue, enqueue
from .errors import (
    JobTimeout,
    NotAwaitable,
    QueueClosed,
    QueueFull,
    SkipRetry,
    UnknownQueue,
)
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
from .options import JobOptions, QueueConfig
from .pyproject import load_queue_configs
from .queue import TrackedQueue, log_job_failure
from .ratelimit import RateLimit
from .registry import RegisteredJob, job, registered_jobs
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
    "Clock",
    "FailureRecord",
    "FakeClock",
    "Job",
    "JobOptions",
    "JobTimeout",
    "NotAwaitable",
    "QueueClosed",
    "QueueConfig",
    "QueueFull",
    "QueueStats",
    "RateLimit",
    "RegisteredJob",
    "SQLiteJournal",
    "ShutdownReport",
    "SkipRetry",
    "TrackedQueue",
    "UnknownQueue",
    "background",
    "configure",
    "configure_delivery",
    "default_queue",
    "delivery_queue",
    "enqueue",
    "job",
    "load_queue_configs",
    "log_job_failure",
    "pending_count",
    "queue",
    "queue_names",
    "read_journal",
    "registered_jobs",
    "set_error_hook",
    "summarize",
    "track",
    "tracked",
]
