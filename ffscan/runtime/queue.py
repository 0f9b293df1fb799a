"""TrackedQueue: bounded, retrying, deduplicating background work for coroutines and threads.

Coroutine jobs run as tasks on the event loop that spawned them; blocking jobs run on the
queue's own worker threads. Each kind gets `max_concurrency` slots of its own, so slow
blocking work never starves the loop's jobs. Pending jobs wait in a heap ordered by
priority, then arrival. A job waiting out a retry backoff keeps its slot: a struggling
dependency then slows intake instead of receiving more calls.
"""

from __future__ import annotations

import asyncio
import atexit
import collections
import heapq
import inspect
import itertools
import logging
import random
import threading
import time
import weakref
from collections.abc import Iterable
from typing import Any, Callable

from .backoff import Backoff
from .errors import QueueClosed, QueueFull
from .job import (
    CANCELLED,
    COROUTINE,
    DROPPED,
    FAILED,
    FINAL_STATUSES,
    RETRYING,
    RUNNING,
    SUCCEEDED,
    THREAD,
    Job,
    describe_callable,
    describe_error,
)
from .stats import FailureRecord, QueueStats, ShutdownReport

logger = logging.getLogger("ffscan.runtime")

OnError = Callable[[Job, BaseException], None]
RECENT_FAILURES = 50
OVERFLOW_POLICIES = ("raise", "drop")
EXIT_GRACE = 1.0  # seconds that interpreter exit waits after cancelling leftovers
WORKER_IDLE_SECONDS = 2.0  # an idle worker thread waits this long for work, then exits
DEFAULT_BACKOFF = Backoff()  # frozen, so every queue can share it

_open_queues: weakref.WeakSet[TrackedQueue] = weakref.WeakSet()


class NotAwaitable(TypeError):
    """A function given to spawn() returned a plain value: it already ran, so it is not retried."""


def log_job_failure(job: Job, error: BaseException) -> None:
    """Log a job's final failure or drop; the default `on_error`."""
    if job.status == DROPPED:
        logger.error("job %s dropped by queue %r: %s", job.label, job.queue_name, error)
        return
    logger.error(
        "job %s on queue %r failed after %d attempt(s): %r",
        job.label,
        job.queue_name,
        job.attempts,
        error,
        exc_info=(type(error), error, error.__traceback__),
    )


class TrackedQueue:
    """Run background jobs with bounded concurrency, retries, dedup, priority and shutdown.

    `spawn()` takes coroutine functions, `submit()` blocking callables; both return a `Job`.
    Every final failure goes once to `on_error(job, error)` (default: logged with traceback),
    and one failing job never cancels another.
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
    ) -> None:
        if max_concurrency < 1:
            raise ValueError("max_concurrency must be at least 1")
        if max_pending < 0 or retries < 0:
            raise ValueError("max_pending and retries cannot be negative")
        if overflow not in OVERFLOW_POLICIES:
            raise ValueError(f"overflow must be one of {OVERFLOW_POLICIES}, not {overflow!r}")
        self.name = name
        self.max_concurrency = max_concurrency
        self.max_pending = max_pending
        self.retries = retries
        self.backoff = backoff
        self.on_error = on_error or log_job_failure
        self.overflow = overflow
        self.journal = journal
        self.close_timeout = close_timeout

        self._lock = threading.Lock()
        self._idle = threading.Condition(self._lock)
        self._order = itertools.count()  # FIFO among equal priorities
        self._pending: dict[str, list[tuple[int, int, Job]]] = {COROUTINE: [], THREAD: []}
        self._coroutine_slots = 0  # tasks started and not yet finished
        self._workers = 0  # live worker threads; each runs one thread job at a time
        self._busy_workers = 0
        self._idle_workers = 0
        self._work_ready = threading.Condition(self._lock)
        self._running: dict[str, Job] = {}  # holds a slot: inside an attempt or a backoff
        self._tasks: dict[str, asyncio.Task] = {}  # touched only on the loop's thread
        self._to_start: collections.deque[Job] = collections.deque()  # loop's thread only
        self._starting = False
        self._by_key: dict[Any, Job] = {}
        self._loop: asyncio.AbstractEventLoop | None = None
        self._coroutines_paused = False
        self._closed = False
        self._cancelling = False
        self._stopping = threading.Event()  # wakes thread jobs out of a retry backoff
        self._idle_waiters: list[tuple[asyncio.AbstractEventLoop, asyncio.Future]] = []
        self._counts: collections.Counter[str] = collections.Counter()
        self._recent: collections.deque[FailureRecord] = collections.deque(maxlen=RECENT_FAILURES)
        self._registry: dict[str, Callable[..., Any]] = {}
        self._names_by_function: dict[Any, str] = {}
        self._rng = random.Random()
        _open_queues.add(self)

    # -- intake ---------------------------------------------------------------------------

    def spawn(
        self, fn: Callable[..., Any] | str, /, *args: Any, key: Any = None, priority: int = 0, **kwargs: Any
    ) -> Job:
        """Run `await fn(*args, **kwargs)` as a background job on the running event loop.

        Call it from async code or from sync code running inside the loop. A retry calls
        `fn` again with the same arguments. `fn` may be a name given to `register()`.
        """
        loop = _running_loop_or_explain("spawn")
        fn, registered_name = self._resolve(fn)
        if asyncio.iscoroutine(fn):
            raise TypeError(
                "spawn() takes a coroutine function and its arguments, so a retry can call it "
                "again; use spawn_coro() for a coroutine object"
            )
        if not callable(fn):
            raise TypeError(f"spawn() needs a coroutine function, not {type(fn).__name__}")
        job = Job(
            queue_name=self.name,
            name=registered_name or describe_callable(fn),
            kind=COROUTINE,
            fn=fn,
            args=args,
            kwargs=kwargs,
            key=key,
            priority=priority,
            retries=self.retries,
            registered_name=registered_name,
        )
        return self._accept(job, loop)

    def spawn_coro(self, coro: Any, *, key: Any = None, priority: int = 0, name: str | None = None) -> Job:
        """Run an already-created coroutine as a job; it runs at most once (no retries)."""
        if not asyncio.iscoroutine(coro):
            raise TypeError(f"spawn_coro() needs a coroutine object, not {type(coro).__name__}")
        try:
            loop = _running_loop_or_explain("spawn_coro")
        except RuntimeError:  # no loop: close the coroutine, then let the caller see why
            coro.close()  # it will never run; closing avoids a "never awaited" warning
            raise
        job = Job(
            queue_name=self.name,
            name=name or getattr(coro, "__qualname__", type(coro).__name__),
            kind=COROUTINE,
            fn=None,
            coro=coro,
            key=key,
            priority=priority,
            retries=0,
        )
        return self._accept(job, loop)

    def submit(
        self, fn: Callable[..., Any] | str, /, *args: Any, key: Any = None, priority: int = 0, **kwargs: Any
    ) -> Job:
        """Run blocking `fn(*args, **kwargs)` on one of the queue's worker threads.

        Callable from any thread, with or without an event loop; retries call it again.
        """
        fn, registered_name = self._resolve(fn)
        if asyncio.iscoroutinefunction(fn) or asyncio.iscoroutine(fn):
            raise TypeError("submit() runs blocking callables on threads; use spawn() for coroutines")
        if not callable(fn):
            raise TypeError(f"submit() needs a callable, not {type(fn).__name__}")
        job = Job(
            queue_name=self.name,
            name=registered_name or describe_callable(fn),
            kind=THREAD,
            fn=fn,
            args=args,
            kwargs=kwargs,
            key=key,
            priority=priority,
            retries=self.retries,
            registered_name=registered_name,
        )
        return self._accept(job, None)

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

    # -- visibility -----------------------------------------------------------------------

    @property
    def closed(self) -> bool:
        """True once shutdown started; spawning then raises QueueClosed."""
        return self._closed

    def stats(self) -> QueueStats:
        """Return a snapshot of the queue's counters and recent failures."""
        with self._lock:
            statuses = collections.Counter(job.status for job in self._running.values())
            return QueueStats(
                name=self.name,
                pending=self._pending_count_locked(),
                running=len(self._running) - statuses[RETRYING],
                retrying=statuses[RETRYING],
                succeeded=self._counts[SUCCEEDED],
                failed=self._counts[FAILED],
                retried=self._counts["retried"],
                dropped=self._counts[DROPPED],
                cancelled=self._counts[CANCELLED],
                recent_failures=tuple(self._recent),
            )

    def __repr__(self) -> str:
        state = "closed" if self._closed else "open"
        return (
            f"<TrackedQueue {self.name!r} {state} pending={self._pending_count_locked()} running={len(self._running)}>"
        )

    # -- drain and shutdown ---------------------------------------------------------------

    async def drain(self, timeout: float | None = None) -> bool:
        """Wait until no job is pending or running; return False if `timeout` ran out first."""
        loop = asyncio.get_running_loop()
        self._abandon_closed_loop()
        with self._lock:
            starting = self._resume_coroutines_locked(loop)
            if self._is_idle_locked():
                return True
            waiter = loop.create_future()
            self._idle_waiters.append((loop, waiter))
        self._start_coroutines(starting)
        try:
            await asyncio.wait_for(waiter, timeout)
            return True
        except asyncio.TimeoutError:  # the caller asked for a bound: say it was reached
            return False
        finally:
            with self._lock:
                if (loop, waiter) in self._idle_waiters:
                    self._idle_waiters.remove((loop, waiter))

    def drain_sync(self, timeout: float | None = None) -> bool:
        """Block until no job is pending or running; return False if `timeout` ran out first.

        For threads and sync code. Inside the event loop that runs this queue's coroutine
        jobs it raises RuntimeError, because blocking there would stop those jobs.
        """
        self._refuse_to_block_own_loop("drain_sync")
        self._abandon_closed_loop()
        with self._idle:
            return self._idle.wait_for(self._is_idle_locked, timeout)

    def shutdown(self, timeout: float | None = 10.0, grace: float = 2.0) -> ShutdownReport:
        """Stop intake, wait up to `timeout` for every job, then cancel what is left.

        Pending jobs are cancelled, running coroutine jobs get `Task.cancel()`, thread jobs
        in a backoff stop there; a thread inside an attempt cannot be cancelled and is left
        running. After `grace` more seconds, whatever still runs is logged and returned.
        """
        self._refuse_to_block_own_loop("shutdown")
        self._close_intake()
        if self.drain_sync(timeout):
            return ShutdownReport()
        cancelled = self._cancel_leftovers(timeout)
        self.drain_sync(grace)
        return self._report_leftovers(cancelled, grace)

    async def aclose(self, timeout: float | None = 10.0, grace: float = 2.0) -> ShutdownReport:
        """Async `shutdown()`: stop intake, drain up to `timeout`, cancel the rest, wait `grace`."""
        self._close_intake()
        if await self.drain(timeout):
            return ShutdownReport()
        cancelled = self._cancel_leftovers(timeout)
        await self.drain(grace)
        return self._report_leftovers(cancelled, grace)

    def __enter__(self) -> TrackedQueue:
        return self

    def __exit__(self, *exc_info: Any) -> None:
        self.shutdown(self.close_timeout)

    async def __aenter__(self) -> TrackedQueue:
        return self

    async def __aexit__(self, *exc_info: Any) -> None:
        await self.aclose(self.close_timeout)

    # -- accepting and dispatching --------------------------------------------------------

    def _resolve(self, fn: Any) -> tuple[Any, str | None]:
        if isinstance(fn, str):
            if fn not in self._registry:
                raise LookupError(f"no job registered as {fn!r} on queue {self.name!r}")
            return self._registry[fn], fn
        try:
            return fn, self._names_by_function.get(fn)
        except TypeError:  # unhashable callables are simply never registered by identity
            return fn, None

    def _accept(self, job: Job, loop: asyncio.AbstractEventLoop | None) -> Job:
        self._abandon_closed_loop()
        dropped = None
        with self._lock:
            if self._closed:
                _close_unstarted(job)
                raise QueueClosed(f"queue {self.name!r} is shut down; {job.name} was not accepted")
            existing = self._by_key.get(job.key) if job.key is not None else None
            if existing is not None:
                _close_unstarted(job)
                return existing
            if loop is not None:
                self._bind_loop_locked(loop)
                job._loop = loop
            if not self._starts_now_locked(job.kind) and self._pending_count_locked() >= self.max_pending:
                message = f"queue {self.name!r} already has {self.max_pending} pending jobs"
                if self.overflow == "raise":
                    _close_unstarted(job)
                    raise QueueFull(message)
                dropped = QueueFull(message)
            else:
                if job.key is not None:
                    self._by_key[job.key] = job
                self._record(job)  # before any worker can pick it up and record "running"
                heapq.heappush(self._pending[job.kind], (-job.priority, next(self._order), job))
                if job.kind == COROUTINE:
                    self._coroutines_paused = False
                    starting = self._take_startable_locked()
                else:
                    add_worker = self._wake_or_add_worker_locked()
        if dropped is not None:
            self._finish(job, DROPPED, error=dropped)
        elif job.kind == COROUTINE:
            self._start_coroutines(starting)
        elif add_worker:
            self._start_worker_thread()
        return job

    def _bind_loop_locked(self, loop: asyncio.AbstractEventLoop) -> None:
        if self._loop is loop:
            return
        busy = self._pending[COROUTINE] or any(job.kind == COROUTINE for job in self._running.values())
        if self._loop is not None and busy:
            raise RuntimeError(
                f"queue {self.name!r} is running coroutine jobs on another event loop; "
                "drain it there first or use a separate queue per loop"
            )
        self._loop = loop

    def _starts_now_locked(self, kind: str) -> bool:
        """Return True if a new job of `kind` would get a slot at once, so it never waits."""
        if kind == COROUTINE:
            return (
                not self._coroutines_paused
                and not self._pending[COROUTINE]
                and self._coroutine_slots < self.max_concurrency
            )
        return self._busy_workers + len(self._pending[THREAD]) < self.max_concurrency

    def _take_startable_locked(self) -> list[Job]:
        if self._coroutines_paused:
            return []
        starting = []
        heap = self._pending[COROUTINE]
        while heap and self._coroutine_slots < self.max_concurrency:
            job = heapq.heappop(heap)[2]
            self._coroutine_slots += 1
            self._running[job.id] = job
            starting.append(job)
        return starting

    def _start_coroutines(self, jobs: Iterable[Job]) -> None:
        # With an eager task factory (3.12+), create_task may run a job to its end, whose
        # cleanup starts the next job from inside this loop; queue those instead of recursing.
        self._to_start.extend(jobs)
        if self._starting:
            return
        self._starting = True
        try:
            while self._to_start:
                job = self._to_start.popleft()
                try:
                    task = job._loop.create_task(self._run_coroutine(job), name=f"{self.name}:{job.label}")
                except RuntimeError as error:  # the loop closed under us: the job cannot start
                    logger.error("job %s could not start: %s", job.label, error)
                    self._finish(job, CANCELLED)
                    continue
                if not task.done():
                    self._tasks[job.id] = task
        finally:
            self._starting = False

    def _wake_or_add_worker_locked(self) -> bool:
        """Hand new thread work to an idle worker; return True if another worker is needed."""
        self._work_ready.notify()
        if self._workers < self.max_concurrency and len(self._pending[THREAD]) > self._idle_workers:
            self._workers += 1
            return True
        return False

    def _start_worker_thread(self) -> None:
        # Daemon, so a stuck job cannot keep the process alive past the bounded exit drain.
        worker = threading.Thread(target=self._work_in_thread, name=f"ffscan-{self.name}", daemon=True)
        try:
            worker.start()
        except RuntimeError as error:  # out of threads, or the interpreter is exiting
            with self._lock:
                self._workers -= 1
                stranded = [] if self._workers else [entry[2] for entry in self._pending[THREAD]]
                if stranded:
                    self._pending[THREAD].clear()
            logger.error("queue %r cannot start a worker thread: %s", self.name, error)
            for job in stranded:
                self._finish(job, FAILED, error=error)
            with self._lock:
                self._notify_if_idle_locked()

    # -- running coroutine jobs -----------------------------------------------------------

    async def _run_coroutine(self, job: Job) -> None:
        try:
            await self._attempt_coroutine(job)
        except asyncio.CancelledError:  # from our shutdown, from asyncio.run() closing, or the job's own
            self._note_outside_cancel(job)
            self._finish(job, CANCELLED)
            raise
        except GeneratorExit:  # the task was destroyed unfinished (its loop was closed)
            self._finish(job, CANCELLED)
            raise
        except BaseException as error:  # KeyboardInterrupt, SystemExit: record, then let them stop the loop
            self._finish(job, FAILED, error=error)
            raise
        finally:
            self._tasks.pop(job.id, None)
            self._start_next_coroutines()

    async def _attempt_coroutine(self, job: Job) -> None:
        while True:
            self._begin_attempt(job)
            try:
                value = await self._call_coroutine(job)
            except Exception as error:  # any ordinary failure may be retried
                if not self._may_retry(job, error):
                    self._finish(job, FAILED, error=error)
                    return
                await asyncio.sleep(self._before_retry(job, error))
            else:
                self._finish(job, SUCCEEDED, value=value)
                return

    async def _call_coroutine(self, job: Job) -> Any:
        if job._coro is not None:
            coro, job._coro = job._coro, None
            return await coro
        result = job.fn(*job.args, **job.kwargs)
        if not inspect.isawaitable(result):
            raise NotAwaitable(
                f"{job.name} returned {type(result).__name__}, not an awaitable; use submit() for blocking functions"
            )
        return await result

    def _note_outside_cancel(self, job: Job) -> None:
        with self._lock:
            if self._cancelling:
                return
            # Most often asyncio.run() cancelling leftover tasks as it closes the loop:
            # starting more jobs now would only have them destroyed half-way.
            self._coroutines_paused = True
        logger.warning(
            "job %s was cancelled from outside queue %r (is its event loop closing? await "
            "queue.drain() before it ends); pending coroutine jobs wait for the next spawn() or drain()",
            job.label,
            self.name,
        )

    def _start_next_coroutines(self) -> None:
        with self._lock:
            starting = self._take_startable_locked()
        self._start_coroutines(starting)

    def _resume_coroutines_locked(self, loop: asyncio.AbstractEventLoop) -> list[Job]:
        if loop is not self._loop or not self._coroutines_paused:
            return []
        self._coroutines_paused = False
        return self._take_startable_locked()

    # -- running thread jobs --------------------------------------------------------------

    def _work_in_thread(self) -> None:
        """Run thread jobs, highest priority first, until idle for WORKER_IDLE_SECONDS."""
        with self._lock:
            try:
                while True:
                    heap = self._pending[THREAD]
                    if heap:
                        job = heapq.heappop(heap)[2]
                        self._running[job.id] = job
                        self._busy_workers += 1
                        self._lock.release()
                        try:
                            self._attempt_in_thread(job)  # ends in _finish, which frees the slot
                        finally:
                            self._lock.acquire()
                        continue
                    if self._closed:
                        return  # no more work can arrive
                    self._idle_workers += 1
                    notified = self._work_ready.wait(WORKER_IDLE_SECONDS)
                    self._idle_workers -= 1
                    if not notified and not self._pending[THREAD]:
                        return
            finally:
                self._workers -= 1

    def _attempt_in_thread(self, job: Job) -> None:
        while True:
            self._begin_attempt(job)
            try:
                value = job.fn(*job.args, **job.kwargs)
            except Exception as error:  # any ordinary failure may be retried
                if not self._may_retry(job, error):
                    self._finish(job, FAILED, error=error)
                    return
                if self._stopping.wait(self._before_retry(job, error)):
                    self._finish(job, CANCELLED)  # shutdown ended the backoff
                    return
            except BaseException as error:  # KeyboardInterrupt/SystemExit raised by the job itself
                self._finish(job, FAILED, error=error)  # re-raising would only end this worker
                return
            else:
                self._finish(job, SUCCEEDED, value=value)
                return

    # -- shared bookkeeping ---------------------------------------------------------------

    def _begin_attempt(self, job: Job) -> None:
        with self._lock:
            if job.attempts:
                self._counts["retried"] += 1
            job.attempts += 1
            job.status = RUNNING
            if job.started is None:
                job.started = time.time()
        self._record(job)

    def _may_retry(self, job: Job, error: BaseException) -> bool:
        return job.attempts <= job.retries and not self._stopping.is_set() and not isinstance(error, NotAwaitable)

    def _before_retry(self, job: Job, error: BaseException) -> float:
        delay = self.backoff.delay(job.attempts, self._rng)
        with self._lock:
            job.status = RETRYING
            job.last_error = error
        self._record(job)
        logger.info(
            "job %s attempt %d of %d failed with %r; retrying in %.3fs",
            job.label,
            job.attempts,
            job.retries + 1,
            error,
            delay,
        )
        return delay

    def _finish(self, job: Job, status: str, value: Any = None, error: BaseException | None = None) -> None:
        """Settle a job once: record it, report a failure, free its key, wake its awaiters."""
        with self._lock:
            if job.status in FINAL_STATUSES:
                return
            job._settle(status, error)
            self._counts[status] += 1
            if status in (FAILED, DROPPED):
                self._recent.append(FailureRecord(job.label, describe_error(error), job.finished))
        self._record(job)
        if status in (FAILED, DROPPED):
            self._report(job, error)
        with self._lock:
            # One step, so whoever sees the result also sees the key and the slot free.
            if job.key is not None and self._by_key.get(job.key) is job:
                del self._by_key[job.key]
            if self._running.pop(job.id, None) is not None:
                if job.kind == COROUTINE:
                    self._coroutine_slots -= 1
                else:
                    self._busy_workers -= 1
            _close_unstarted(job)
            job._resolve(value, error)
            self._notify_if_idle_locked()

    def _report(self, job: Job, error: BaseException) -> None:
        try:
            self.on_error(job, error)
        except Exception:  # a broken hook must not hide the failure it was given: log both
            logger.exception("on_error hook of queue %r failed for job %s", self.name, job.label)
            log_job_failure(job, error)

    def _record(self, job: Job) -> None:
        if self.journal is not None:
            self.journal.record(job)

    def _pending_count_locked(self) -> int:
        return len(self._pending[COROUTINE]) + len(self._pending[THREAD])

    def _is_idle_locked(self) -> bool:
        return not self._running and not self._pending_count_locked()

    def _notify_if_idle_locked(self) -> None:
        if not self._is_idle_locked():
            return
        self._idle.notify_all()
        waiters, self._idle_waiters = self._idle_waiters, []
        for loop, waiter in waiters:
            try:
                loop.call_soon_threadsafe(_set_idle, waiter)
            except RuntimeError:  # that loop has closed; nobody there is waiting any more
                pass

    def _refuse_to_block_own_loop(self, method: str) -> None:
        try:
            running = asyncio.get_running_loop()
        except RuntimeError:  # no loop in this thread: blocking here stalls no job
            return
        with self._lock:
            has_coroutines = self._pending[COROUTINE] or any(j.kind == COROUTINE for j in self._running.values())
        if running is self._loop and has_coroutines:
            raise RuntimeError(
                f"{method}() would block the event loop that runs this queue's jobs; await the async form"
            )

    def _abandon_closed_loop(self) -> None:
        """Settle coroutine jobs whose event loop closed before they finished."""
        with self._lock:
            loop = self._loop
            if loop is None or not loop.is_closed():
                return
            lost = [entry[2] for entry in self._pending[COROUTINE]]
            lost += [job for job in self._running.values() if job.kind == COROUTINE]
            self._pending[COROUTINE].clear()
            for job in lost:
                self._running.pop(job.id, None)
            self._coroutine_slots = 0
            self._loop = None
            self._coroutines_paused = False
            self._tasks.clear()  # their loop will never run them again
        if lost:
            logger.error(
                "queue %r: the event loop closed before %d coroutine job(s) finished: %s; "
                "await queue.drain() or queue.aclose() before the loop ends",
                self.name,
                len(lost),
                _labels(lost),
            )
        for job in lost:
            self._finish(job, CANCELLED)
        with self._lock:
            self._notify_if_idle_locked()

    def _close_intake(self) -> None:
        with self._lock:
            self._closed = True
            self._work_ready.notify_all()  # idle workers can exit now

    def _cancel_leftovers(self, timeout: float | None) -> list[Job]:
        with self._lock:
            self._cancelling = True
            self._stopping.set()
            pending = [entry[2] for heap in self._pending.values() for entry in heap]
            for heap in self._pending.values():
                heap.clear()
            running = list(self._running.values())
            loop = self._loop
        for job in pending:
            self._finish(job, CANCELLED)
        with self._lock:
            self._notify_if_idle_locked()
        coroutines = [job for job in running if job.kind == COROUTINE]
        backing_off = [job for job in running if job.kind == THREAD and job.status == RETRYING]
        threads = [job for job in running if job.kind == THREAD and job.status != RETRYING]
        if coroutines and loop is not None:
            self._cancel_tasks_on(loop)
        logger.warning(
            "queue %r shutting down with work left after %ss: cancelled %d pending job(s) [%s] and "
            "%d running coroutine job(s) [%s]; %d thread job(s) still running [%s] (threads cannot be cancelled)",
            self.name,
            timeout,
            len(pending) + len(backing_off),
            _labels(pending + backing_off),
            len(coroutines),
            _labels(coroutines),
            len(threads),
            _labels(threads),
        )
        return pending + backing_off + coroutines

    def _cancel_tasks_on(self, loop: asyncio.AbstractEventLoop) -> None:
        try:
            on_loop = asyncio.get_running_loop() is loop
        except RuntimeError:  # called from a thread without a loop
            on_loop = False
        if on_loop:
            self._cancel_tasks()
            return
        try:
            loop.call_soon_threadsafe(self._cancel_tasks)
        except RuntimeError:  # the loop closed meanwhile; _abandon_closed_loop settles its jobs
            self._abandon_closed_loop()

    def _cancel_tasks(self) -> None:
        for task in list(self._tasks.values()):
            task.cancel()

    def _report_leftovers(self, requested: list[Job], grace: float) -> ShutdownReport:
        with self._lock:
            still = list(self._running.values())
        if still:
            stubborn = [job for job in still if job.kind == COROUTINE]
            threads = [job for job in still if job.kind == THREAD]
            logger.error(
                "queue %r: %ss after cancelling, %d coroutine job(s) ignored cancellation [%s] and "
                "%d thread job(s) are still running [%s] (threads cannot be cancelled); shutdown returns without them",
                self.name,
                grace,
                len(stubborn),
                _labels(stubborn),
                len(threads),
                _labels(threads),
            )
        cancelled = tuple(job for job in requested if job.status == CANCELLED)
        return ShutdownReport(cancelled=cancelled, still_running=tuple(still))

    def _replay(
        self, name: str, args: list, kwargs: dict, *, job_id: str, key: Any, priority: int, created: float | None
    ) -> Job:
        """Spawn or submit a registered job again under its old id (used by journal replay)."""
        fn = self._registry[name]
        kind = COROUTINE if asyncio.iscoroutinefunction(fn) else THREAD
        loop = _running_loop_or_explain("replay of coroutine jobs") if kind == COROUTINE else None
        job = Job(
            queue_name=self.name,
            name=name,
            kind=kind,
            fn=fn,
            args=tuple(args),
            kwargs=kwargs,
            key=key,
            priority=priority,
            retries=self.retries,
            registered_name=name,
            job_id=job_id,
            created=created,
        )
        return self._accept(job, loop)


def _running_loop_or_explain(what: str) -> asyncio.AbstractEventLoop:
    try:
        return asyncio.get_running_loop()
    except RuntimeError:  # no loop here: replace asyncio's terse message with what to do
        raise RuntimeError(
            f"{what} needs a running event loop in this thread; use submit() for blocking work"
        ) from None


def _close_unstarted(job: Job) -> None:
    if job._coro is not None:
        coro, job._coro = job._coro, None
        coro.close()  # it never ran; closing avoids a "never awaited" warning


def _set_idle(waiter: asyncio.Future) -> None:
    if not waiter.done():
        waiter.set_result(True)


def _labels(jobs: Iterable[Job], limit: int = 20) -> str:
    """Name the jobs in a log line, up to `limit` of them, so a big backlog stays readable."""
    labels = [job.label for job in jobs]
    shown = ", ".join(labels[:limit])
    return f"{shown} and {len(labels) - limit} more" if len(labels) > limit else shown


def _shutdown_open_queues() -> None:
    """Give every queue with work left its `close_timeout` to finish at interpreter exit.

    Runs after non-daemon threads were joined; the queue's worker threads are daemons, so
    this bounded wait is what lets pending thread jobs finish before the process ends.
    """
    for queue in list(_open_queues):
        with queue._lock:
            busy = not queue._is_idle_locked()
        if not busy:
            continue
        try:
            queue.shutdown(queue.close_timeout, grace=EXIT_GRACE)
        except RuntimeError as error:  # e.g. exit triggered from inside its event loop
            logger.error("queue %r could not drain at exit: %s", queue.name, error)


atexit.register(_shutdown_open_queues)
