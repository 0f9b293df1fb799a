"""Intake: spawn/submit turn a call into a Job, check it, dedup it, and admit or refuse it."""

from __future__ import annotations

import asyncio
import heapq
import logging
from asyncio import get_running_loop
from logging import DEBUG
from types import FunctionType
from typing import Any, Callable

from .errors import QueueClosed, QueueFull
from .job import COROUTINE, DROPPED, THREAD, Job
from .options import JobOptions

logger = logging.getLogger("ffscan.runtime")
NO_OPTIONS = JobOptions()


class Intake:
    """The methods that take work in; TrackedQueue mixes this in with its other concerns."""

    def spawn(
        self, fn: Callable[..., Any] | str, /, *args: Any, key: Any = None, priority: int | None = None, **kwargs: Any
    ) -> Job:
        """Run `await fn(*args, **kwargs)` as a background job on the running event loop.

        Call it from async code or from sync code running inside the loop. A retry calls
        `fn` again with the same arguments. `fn` may be a name given to `register()`.
        Every other per-job setting goes through `options(...)`, so no keyword of `fn` is taken.
        """
        try:
            loop = get_running_loop()
        except RuntimeError:  # no loop here: replace asyncio's terse message with what to do
            raise RuntimeError("spawn needs a running event loop in this thread; use submit() for blocking work") from None
        return self._spawn(loop, fn, args, kwargs, key, priority, NO_OPTIONS)

    def spawn_coro(self, coro: Any, *, key: Any = None, priority: int | None = None, name: str | None = None) -> Job:
        """Run an already-created coroutine as a job; it runs at most once (no retries)."""
        if not asyncio.iscoroutine(coro):
            raise TypeError(f"spawn_coro() needs a coroutine object, not {type(coro).__name__}")
        try:
            loop = _running_loop_or_explain("spawn_coro")
        except RuntimeError:  # no loop: close the coroutine, then let the caller see why
            coro.close()  # it will never run; closing avoids a "never awaited" warning
            raise
        return self._spawn_coro(loop, coro, key, priority, name, NO_OPTIONS)

    def submit(
        self, fn: Callable[..., Any] | str, /, *args: Any, key: Any = None, priority: int | None = None, **kwargs: Any
    ) -> Job:
        """Run blocking `fn(*args, **kwargs)` on one of the queue's worker threads.

        Callable from any thread, with or without an event loop; retries call it again.
        """
        return self._submit(fn, args, kwargs, key, priority, NO_OPTIONS)

    def options(self, **options: Any) -> BoundOptions:
        """Return this queue with per-job settings: `queue.options(delay=5, retries=2).spawn(fn, x)`.

        Settings: key, priority, delay, retries, retry_on, timeout, rate_key, unique_for, name.
        """
        return BoundOptions(self, JobOptions(**options))

    # -- registration ---------------------------------------------------------------------

    def register(self, name: str, fn: Callable[..., Any]) -> Callable[..., Any]:
        """Give `fn` a stable name so the journal can replay its jobs after a restart."""
        self._registry[name] = fn
        try:
            self._names_by_function[fn] = name
        except TypeError:  # an unhashable callable can still be spawned by its name
            pass
        return fn

    def job(self, name: str) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
        """Decorate a function to `register()` it under `name`; the function is unchanged."""

        def decorate(fn: Callable[..., Any]) -> Callable[..., Any]:
            return self.register(name, fn)

        return decorate

    def registered(self, name: str) -> Callable[..., Any] | None:
        """Return the function registered under `name`, or None."""
        return self._registry.get(name)

    def registrations(self) -> dict[str, Callable[..., Any]]:
        """Return a copy of every name -> function registered on this queue."""
        return dict(self._registry)

    # -- building jobs --------------------------------------------------------------------

    def _spawn(self, loop, fn, args, kwargs, key, priority, options: JobOptions, job_id=None, created=None) -> Job:
        if fn.__class__ is FunctionType and not self._names_by_function:
            registered_name = None  # the common case, checked cheaply: a plain function, no names
        else:
            fn, registered_name = self._resolve(fn)
            if asyncio.iscoroutine(fn):
                raise TypeError(
                    "spawn() takes a coroutine function and its arguments, so a retry can call it "
                    "again; use spawn_coro() for a coroutine object"
                )
            if not callable(fn):
                raise TypeError(f"spawn() needs a coroutine function, not {type(fn).__name__}")
        job = Job(
            self.name,
            options.name or registered_name,  # None: named after the function when first asked
            COROUTINE,
            fn,
            args,
            kwargs,
            None,
            key if key is not None else options.key,
            self.priority if priority is None else priority,
            self.retries,
            registered_name,
            job_id,
            created,
        )
        if options is not NO_OPTIONS or self.timeout is not None:
            self._apply(job, options)
        return self._accept(job, loop)

    def _spawn_coro(self, loop, coro, key, priority, name, options: JobOptions) -> Job:
        job = Job(
            queue_name=self.name,
            name=name or options.name or getattr(coro, "__qualname__", type(coro).__name__),
            kind=COROUTINE,
            fn=None,
            coro=coro,
            key=key if key is not None else options.key,
            priority=self.priority if priority is None else priority,
            retries=0,
        )
        job = self._apply(job, options)
        job.retries = 0  # a coroutine object runs once
        return self._accept(job, loop)

    def _submit(self, fn, args, kwargs, key, priority, options: JobOptions, job_id=None, created=None) -> Job:
        fn, registered_name = self._resolve(fn)
        if asyncio.iscoroutinefunction(fn) or asyncio.iscoroutine(fn):
            raise TypeError("submit() runs blocking callables on threads; use spawn() for coroutines")
        if not callable(fn):
            raise TypeError(f"submit() needs a callable, not {type(fn).__name__}")
        job = Job(
            self.name,
            options.name or registered_name,
            THREAD,
            fn,
            args,
            kwargs,
            None,
            key if key is not None else options.key,
            self.priority if priority is None else priority,
            self.retries,
            registered_name,
            job_id,
            created,
        )
        if options is not NO_OPTIONS or self.timeout is not None:
            self._apply(job, options)
        return self._accept(job, None)

    def _apply(self, job: Job, options: JobOptions) -> Job:
        if self.timeout is not None:
            job.timeout = self.timeout
        if options is NO_OPTIONS:
            return job
        if options.priority is not None and job.priority == self.priority:
            job.priority = options.priority
        if options.retries is not None:
            job.retries = options.retries
        if options.retry_on is not None:
            job.retry_on = options.retry_on
        if options.timeout is not None:
            job.timeout = options.timeout
        if options.rate_key is not None:
            if self._key_limiter is None:
                raise ValueError(f"queue {self.name!r} has no rate_limit_per_key, so rate_key= has no limit to apply")
            job.rate_key = options.rate_key
        if options.unique_for is not None:
            job.unique_for = options.unique_for
        if options.delay:
            job.delay = options.delay
        return job

    def _resolve(self, fn: Any) -> tuple[Any, str | None]:
        if isinstance(fn, str):
            if fn not in self._registry:
                raise LookupError(f"no job registered as {fn!r} on queue {self.name!r}")
            return self._registry[fn], fn
        try:
            return fn, self._names_by_function.get(fn)
        except TypeError:  # unhashable callables are simply never registered by identity
            return fn, None

    # -- admission ------------------------------------------------------------------------

    def _accept(self, job: Job, loop: asyncio.AbstractEventLoop | None) -> Job:
        if loop is not None and job.key is None and not job.delay and job.rate_key is None and self._limiter is None:
            # The fast path: one loop, nothing waiting, a free slot. Same steps, fewer checks.
            lane = self._lanes.get(loop)
            if lane is not None and not self._lanes_may_be_closed and len(self._lanes) == 1:
                with self._lock:
                    fast = not self._closed and not lane.pending and self._coroutine_slots < self.max_concurrency
                    if fast:
                        job._lane = lane
                        job._loop = loop
                        lane.paused = False
                        self._coroutine_slots += 1
                        self._running[job] = None
                        self._live[job] = None
                        if self.journal is not None:
                            self.journal.record(job)
                if fast:
                    if self.on_event is not None or _is_enabled_for(DEBUG):
                        self._announce(job)
                    self._create_task(lane, job)
                    return job
        if self._lanes_may_be_closed or (loop is not None and self._lanes and loop not in self._lanes):
            self._abandon_closed_loops()  # a loop that ended may have left jobs behind
        with self._lock:
            if self._closed:
                _close_unstarted(job)
                raise QueueClosed(f"queue {self.name!r} is shut down; {job.name} was not accepted")
            if job.key is not None:
                existing = self._existing_for_key_locked(job.key)
                if existing is not None:
                    _close_unstarted(job)
                    duplicate = existing
                else:
                    duplicate = None
            else:
                duplicate = None
            if duplicate is None:
                if loop is not None:
                    lane = self._lanes.get(loop)
                    job._lane = lane if lane is not None else self._lane_locked(loop)
                    job._loop = loop
                full = self._waiting >= self.max_pending and not self._starts_now_locked(job)
                if full and not self._wait_for_room_locked(job):
                    refused = True
                else:
                    refused = False
                    starting, add_worker = self._admit_locked(job)
        if duplicate is not None:
            self._emit("deduplicated", duplicate)
            return duplicate
        if refused:
            return self._refuse(job)
        if self._emit_later:
            self._flush_events()  # e.g. "rate_limited", noted under the lock
        if self.on_event is not None or _is_enabled_for(DEBUG):
            self._announce(job)
        if starting:
            if starting is job:  # the fast path: it starts here, on this loop, now
                self._create_task(job._lane, job)
            else:
                self._start_coroutines(starting)
        elif add_worker:
            self._start_worker_thread()
        return job

    def _admit_locked(self, job: Job) -> tuple:
        """Take the job in; return (coroutine jobs to start, whether to add a worker thread)."""
        if job.key is not None:
            self._hold_key_locked(job)
        self._live[job] = None
        if self.journal is not None:
            self.journal.record(job)  # before any worker can pick it up and record "running"
        if job.delay:
            self._waiting += 1
            job._timer = self.clock.call_later(job.delay, lambda: self._release_delayed(job))
            return (), False
        if job.kind == COROUTINE:
            lane = job._lane
            if (
                not lane.pending
                and self._coroutine_slots < self.max_concurrency
                and self._limiter is None
                and job.rate_key is None
                and len(self._lanes) == 1
            ):
                # Nothing waits ahead of it: skip the heap (the common case, and the fast one).
                lane.paused = False
                self._coroutine_slots += 1
                self._running[job] = None
                return job, False
            self._waiting += 1
            heapq.heappush(lane.pending, (-job.priority, next(self._order), job))
            lane.paused = False
            return self._take_startable_locked(), False
        self._waiting += 1
        heapq.heappush(self._thread_pending, (-job.priority, next(self._order), job))
        return (), self._wake_or_add_worker_locked()

    def _announce(self, job: Job) -> None:
        if _debug_enabled():
            logger.debug("job %s accepted on queue %r", job.label, self.name)
        if self.on_event is not None:
            self._emit("accepted", job)

    def _wait_for_room_locked(self, job: Job) -> bool:
        """Wait up to enqueue_timeout for a pending slot, unless waiting would block an event loop."""
        if not self.enqueue_timeout or _in_running_loop():
            return False
        deadline = self.clock.now() + self.enqueue_timeout
        self._room_waiters += 1
        try:
            while self._waiting >= self.max_pending and not self._closed:
                left = deadline - self.clock.now()
                if left <= 0 or not self._room.wait(left):
                    return self._waiting < self.max_pending and not self._closed
            return not self._closed
        finally:
            self._room_waiters -= 1

    def _refuse(self, job: Job) -> Job:
        """Raise QueueFull or drop the job, as `overflow` says (the lock is not held)."""
        waited = f" after waiting {self.enqueue_timeout:g}s" if self.enqueue_timeout and not _in_running_loop() else ""
        message = f"queue {self.name!r} already has {self.max_pending} pending jobs{waited}; {job.name} was not accepted"
        if self.overflow == "raise":
            _close_unstarted(job)
            raise QueueFull(message)
        self._finish(job, DROPPED, error=QueueFull(message))
        return job

    def _release_delayed(self, job: Job) -> None:
        """A delayed job's moment came: queue it like a new one (runs on the clock's thread)."""
        with self._lock:
            job._timer = None
            if job.status != "pending" or job not in self._live:
                return  # cancelled by shutdown meanwhile
            if job.kind == COROUTINE:
                heapq.heappush(job._lane.pending, (-job.priority, next(self._order), job))
                starting = self._take_startable_locked()
                add_worker = False
            else:
                heapq.heappush(self._thread_pending, (-job.priority, next(self._order), job))
                starting = ()
                add_worker = self._wake_or_add_worker_locked()
        if starting:
            self._start_coroutines(starting)
        elif add_worker:
            self._start_worker_thread()


class BoundOptions:
    """A queue plus per-job settings, from `queue.options(...)`; spawn/submit as on the queue."""

    __slots__ = ("queue", "job_options")

    def __init__(self, queue: Any, job_options: JobOptions) -> None:
        self.queue = queue
        self.job_options = job_options

    def spawn(self, fn: Callable[..., Any] | str, /, *args: Any, **kwargs: Any) -> Job:
        loop = _running_loop_or_explain("spawn")
        return self.queue._spawn(loop, fn, args, kwargs, None, None, self.job_options)

    def spawn_coro(self, coro: Any) -> Job:
        if not asyncio.iscoroutine(coro):
            raise TypeError(f"spawn_coro() needs a coroutine object, not {type(coro).__name__}")
        try:
            loop = _running_loop_or_explain("spawn_coro")
        except RuntimeError:  # no loop: close the coroutine, then let the caller see why
            coro.close()
            raise
        return self.queue._spawn_coro(loop, coro, None, None, None, self.job_options)

    def submit(self, fn: Callable[..., Any] | str, /, *args: Any, **kwargs: Any) -> Job:
        return self.queue._submit(fn, args, kwargs, None, None, self.job_options)

    def __repr__(self) -> str:
        return f"<{self.queue!r} with {self.job_options}>"


def _debug_enabled() -> bool:
    return _is_enabled_for(logging.DEBUG)


_is_enabled_for = logger.isEnabledFor


def _running_loop_or_explain(what: str) -> asyncio.AbstractEventLoop:
    try:
        return asyncio.get_running_loop()
    except RuntimeError:  # no loop here: replace asyncio's terse message with what to do
        raise RuntimeError(
            f"{what} needs a running event loop in this thread; use submit() for blocking work"
        ) from None


def _in_running_loop() -> bool:
    try:
        asyncio.get_running_loop()
    except RuntimeError:  # no loop in this thread: a blocking wait stalls no job
        return False
    return True


def _close_unstarted(job: Job) -> None:
    if job._coro is not None:
        coro, job._coro = job._coro, None
        coro.close()  # it never ran; closing avoids a "never awaited" warning

