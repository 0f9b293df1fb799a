"""TrackedQueue: bounded, retrying, deduplicating, rate-limited background work.

Coroutine jobs run as tasks on the event loop that spawned them, in the context copied at
spawn; blocking jobs run on the queue's own worker threads. Each kind gets
`max_concurrency` slots of its own, so slow blocking work never starves the loop's jobs.
Waiting jobs are ordered by priority, then arrival. A job waiting out a retry backoff keeps
its slot: a struggling dependency then slows intake instead of receiving more calls.

The class is assembled from one mixin per concern: intake (spawn, submit, options,
registration), admission (dedup, room, delays), scheduling (slots, loops, rate limits), execution (attempts, timeouts,
retries), bookkeeping (status, counters, events, stats) and shutdown (drain, cancel).
"""

from __future__ import annotations

import collections
import itertools
import random
import threading
from typing import Any, Callable

from .admission import Admission
from .backoff import Backoff
from .bookkeeping import HISTORY, Bookkeeping, log_job_failure
from .clock import REAL_CLOCK, Clock
from .errors import NotAwaitable
from .execution import Execution
from .intake import Intake
from .job import Job
from .options import DEFAULT_BACKOFF, QueueConfig
from .ratelimit import RateLimit, RateLimiter
from .scheduling import Scheduling
from .shutdown import Shutdown, open_queues
from .stats import FailureRecord

OnError = Callable[[Job, BaseException], None]
OnEvent = Callable[[str, Job], None]
RECENT_FAILURES = 50

__all__ = ["NotAwaitable", "TrackedQueue", "log_job_failure"]


class TrackedQueue(Intake, Admission, Scheduling, Execution, Bookkeeping, Shutdown):
    """Run background jobs with bounded concurrency, retries, dedup, priority, rate limits and shutdown.

    `spawn()` takes coroutine functions, `submit()` blocking callables; both return a `Job`
    at once and never raise the job's error. Every final failure goes once to
    `on_error(job, error)` (default: logged with traceback); every change of status goes to
    `on_event(event, job)` if set; one failing job never cancels another.
    """

    def __init__(
        self,
        name: str = "background",
        *,
        max_concurrency: int = 16,
        max_pending: int = 10_000,
        retries: int = 0,
        backoff: Backoff = DEFAULT_BACKOFF,
        on_error: OnError | None = None,
        overflow: str = "raise",
        journal: Any = None,
        close_timeout: float = 10.0,
        priority: int = 0,
        rate_limit: RateLimit | str | None = None,
        rate_limit_per_key: RateLimit | str | None = None,
        timeout: float | None = None,
        enqueue_timeout: float = 0.0,
        on_event: OnEvent | None = None,
        clock: Clock = REAL_CLOCK,
    ) -> None:
        config = QueueConfig(
            max_concurrency=max_concurrency,
            max_pending=max_pending,
            priority=priority,
            retries=retries,
            backoff=backoff,
            rate_limit=rate_limit,
            rate_limit_per_key=rate_limit_per_key,
            timeout=timeout,
            overflow=overflow,
            enqueue_timeout=enqueue_timeout,
            close_timeout=close_timeout,
        )  # validates every option, with the same messages as configure() and pyproject
        self.name = name
        self.config = config
        self.max_concurrency = config.max_concurrency
        self.max_pending = config.max_pending
        self.priority = config.priority
        self.retries = config.retries
        self.backoff = config.backoff
        self.timeout = config.timeout
        self.overflow = config.overflow
        self.enqueue_timeout = config.enqueue_timeout
        self.close_timeout = config.close_timeout
        self.on_error = on_error or log_job_failure
        self.on_event = on_event
        self.journal = journal
        self.clock = clock

        self._lock = threading.Lock()
        self._idle = threading.Condition(self._lock)
        self._room = threading.Condition(self._lock)  # a pending slot freed up
        self._room_waiters = 0  # callers blocked in _wait_for_room_locked (notify only if any)
        self._idle_sync_waiters = 0  # threads blocked in drain_sync
        self._work_ready = threading.Condition(self._lock)
        self._order = itertools.count()  # FIFO among equal priorities
        self._lanes: dict[Any, Any] = {}  # event loop -> Lane
        self._lanes_may_be_closed = False
        self._thread_pending: list[tuple[int, int, Job]] = []
        self._waiting = 0  # accepted and not started: queued, delayed or held by a rate limit
        self._coroutine_slots = 0  # tasks started and not yet finished
        self._workers = 0  # live worker threads; each runs one thread job at a time
        self._busy_workers = 0
        self._idle_workers = 0
        # Ordered sets of jobs (dicts with None values): keyed by the job itself, not its id,
        # so a job that nobody asks about never needs an id made.
        self._running: dict[Job, None] = {}  # holds a slot: inside an attempt or a backoff
        self._live: dict[Job, None] = {}  # accepted and not finished
        self._history: collections.deque[Job] = collections.deque(maxlen=HISTORY)  # the last finished
        self._by_key: dict[Any, Job] = {}
        self._key_until: dict[Any, float] = {}  # keys held for a unique_for window
        self._limiter = RateLimiter(config.rate_limit) if config.rate_limit else None
        self._key_limiter = RateLimiter(config.rate_limit_per_key) if config.rate_limit_per_key else None
        self._held: list[Job] = []  # over a rate limit, waiting for the window to open
        self._held_timer: Any = None
        self._held_due = 0.0
        self._emit_later: list[tuple[str, Job]] = []
        self._closed = False
        self._cancelling = False
        self._stopping = threading.Event()  # wakes thread jobs out of a retry backoff
        self._idle_waiters: list[tuple[Any, Any]] = []
        self._counts: collections.Counter[str] = collections.Counter()
        self._recent: collections.deque[FailureRecord] = collections.deque(maxlen=RECENT_FAILURES)
        self._registry: dict[str, Callable[..., Any]] = {}
        self._names_by_function: dict[Any, str] = {}
        self._rng = random.Random()
        open_queues.add(self)

    @classmethod
    def from_config(cls, name: str, config: QueueConfig, **hooks: Any) -> TrackedQueue:
        """Build a queue from a QueueConfig (as `configure()` and pyproject give), plus hooks."""
        return cls(
            name,
            max_concurrency=config.max_concurrency,
            max_pending=config.max_pending,
            priority=config.priority,
            retries=config.retries,
            backoff=config.backoff,
            rate_limit=config.rate_limit,
            rate_limit_per_key=config.rate_limit_per_key,
            timeout=config.timeout,
            overflow=config.overflow,
            enqueue_timeout=config.enqueue_timeout,
            close_timeout=config.close_timeout,
            **hooks,
        )

    def _replay(self, name: str, args: list, kwargs: dict, *, job_id: str, key: Any, priority: int, created: Any) -> Job:
        """Spawn or submit a registered job again under its old id (used by journal replay)."""
        import asyncio

        from .intake import NO_OPTIONS, _running_loop_or_explain

        fn = self._registry[name]
        if asyncio.iscoroutinefunction(fn):
            loop = _running_loop_or_explain("replay of coroutine jobs")
            return self._spawn(loop, name, tuple(args), kwargs, key, priority, NO_OPTIONS, job_id=job_id, created=created)
        return self._submit(name, tuple(args), kwargs, key, priority, NO_OPTIONS, job_id=job_id, created=created)

    def __repr__(self) -> str:
        state = "closed" if self._closed else "open"
        return f"<TrackedQueue {self.name!r} {state} pending={self._waiting} running={len(self._running)}>"
