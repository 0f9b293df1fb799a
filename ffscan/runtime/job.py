"""The handle for one job: what it runs, where it stands, how it ended."""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextvars
import os
import random
import reprlib
import threading
import time
from typing import Any, Callable

PENDING = "pending"
RUNNING = "running"
RETRYING = "retrying"
SUCCEEDED = "succeeded"
FAILED = "failed"
CANCELLED = "cancelled"
DROPPED = "dropped"
FINAL_STATUSES = frozenset({SUCCEEDED, FAILED, CANCELLED, DROPPED})

# Guards the lazy creation of a job's outcome future; most jobs are never awaited, and a
# concurrent.futures.Future (with its Condition) costs more than the rest of the job.
_outcome_lock = threading.Lock()

COROUTINE = "async"  # runs on the event loop
THREAD = "thread"  # runs on one of the queue's worker threads
RETRY_ON_ANY: tuple[type[BaseException], ...] = (Exception,)


# Ids come from a private generator seeded by the OS: os.urandom per job is a system call
# that hands the GIL to busy workers, and the global `random` may be seeded by the program.
_ids = random.Random()
if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_ids.seed)  # a forked child must not repeat the parent's ids


def new_job_id() -> str:
    """Return an id unique enough to key a journal across restarts."""
    return f"{_ids.getrandbits(64):016x}"


def describe_callable(fn: Any) -> str:
    """Return a readable name for a function, partial or callable object."""
    inner = getattr(fn, "func", None)  # functools.partial keeps the real function here
    if inner is not None and not hasattr(fn, "__qualname__"):
        return describe_callable(inner)
    name = getattr(fn, "__qualname__", None) or getattr(fn, "__name__", None)
    return name if name else type(fn).__qualname__


_error_repr = reprlib.Repr()
_error_repr.maxother = 500  # reprlib survives an exception whose own __repr__ raises


def describe_error(error: BaseException | None) -> str:
    """Return a bounded repr of an error that never raises."""
    return _error_repr.repr(error)


class Job:
    """One unit of background work: a handle you may keep, await or ignore.

    `status` moves pending -> running (-> retrying -> running ...) -> succeeded, failed,
    cancelled; a job refused by a full queue is `dropped` straight away. `result()` and
    `await job` give the return value or raise the final error; ignoring the handle is fine,
    because failures are reported through the queue's `on_error` either way.
    """

    # Defaults live on the class: most jobs never set them, and the fewer attributes a
    # spawn writes, the cheaper a job is (spawn sits on a request's hot path).
    status = PENDING
    attempts = 0
    last_error: BaseException | None = None
    started: float | None = None
    finished: float | None = None
    key: Any = None
    priority = 0
    registered_name: str | None = None
    retry_on: tuple[type[BaseException], ...] = RETRY_ON_ANY
    timeout: float | None = None
    rate_key: Any = None
    unique_for: float | None = None
    delay = 0.0
    timed_out = False  # an attempt ran past `timeout` (a thread job keeps running)
    _id: str | None = None
    _name: str | None = None
    _coro: Any = None
    _loop: asyncio.AbstractEventLoop | None = None
    _lane: Any = None
    _ending: tuple[Any, BaseException | None] | None = None  # (value, error) once resolved
    _future: concurrent.futures.Future | None = None
    _timer: Any = None  # a pending delay, rate-limit wait or timeout
    _task: Any = None  # the running task of a coroutine job
    _journaled = False  # waiting in a journal's write buffer

    def __init__(
        self,
        queue_name: str,
        name: str | None,
        kind: str,
        fn: Callable[..., Any] | None,
        args: tuple = (),
        kwargs: dict | None = None,
        coro: Any = None,
        key: Any = None,
        priority: int = 0,
        retries: int = 0,
        registered_name: str | None = None,
        job_id: str | None = None,
        created: float | None = None,
        context: contextvars.Context | None = None,
    ) -> None:
        # The attributes every job sets during its life come first, in one order, so all jobs
        # share one attribute layout (a job that adds attributes later gets a dict of its own).
        self._id = job_id
        self._name = name
        self.status = PENDING
        self.attempts = 0
        self.started = None
        self.finished = None
        self._lane = None
        self._loop = None
        self._task = None
        self._journaled = False
        self._ending = None
        self.queue_name = queue_name
        self.kind = kind
        self.fn = fn
        self.args = args
        self.kwargs = kwargs if kwargs is not None else {}
        self.retries = retries
        self.created = time.time() if created is None else created
        # The context the job runs in, copied at spawn as create_task copies it. None until
        # admission decides: a job that starts at once lets its task take the copy itself.
        self.context = context
        if key is not None:
            self.key = key
        if priority:
            self.priority = priority
        if registered_name is not None:
            self.registered_name = registered_name
        if coro is not None:
            self._coro = coro

    @property
    def id(self) -> str:
        """16 hex digits, unique across restarts (made on first use: most jobs never need one)."""
        job_id = self._id
        if job_id is None:
            job_id = self._id = new_job_id()
        return job_id

    @property
    def name(self) -> str:
        """The registered name, else the function's qualified name."""
        name = self._name
        if name is None:
            name = self._name = describe_callable(self.fn) if self.fn is not None else "job"
        return name

    @name.setter
    def name(self, value: str) -> None:
        self._name = value

    @property
    def label(self) -> str:
        """Name and id, as logs and shutdown reports show the job."""
        return f"{self.name}[{self.id}]"

    def done(self) -> bool:
        """Return True once the job reached a final status."""
        return self._ending is not None

    def result(self, timeout: float | None = None) -> Any:
        """Block until the job ends; return its value or raise its final error.

        A dropped job raises `QueueFull`, a cancelled one `concurrent.futures.CancelledError`,
        and a timeout `concurrent.futures.TimeoutError`.
        """
        self._refuse_to_block_own_loop()
        return self._outcome().result(timeout)

    def exception(self, timeout: float | None = None) -> BaseException | None:
        """Block until the job ends; return its final error, or None if it succeeded."""
        self._refuse_to_block_own_loop()
        return self._outcome().exception(timeout)

    def __await__(self):
        return self._wait().__await__()

    async def _wait(self) -> Any:
        loop = asyncio.get_running_loop()
        mirror = loop.create_future()  # cancelling the awaiter must not cancel the job
        self._outcome().add_done_callback(lambda outcome: _copy_later(loop, outcome, mirror))
        return await mirror

    def _refuse_to_block_own_loop(self) -> None:
        if self._ending is not None or self._loop is None:
            return
        try:
            running = asyncio.get_running_loop()
        except RuntimeError:  # no loop in this thread, so blocking here stalls nobody
            return
        if running is self._loop:
            raise RuntimeError(f"job {self.label} runs on this event loop: await it instead")

    def _settle(self, status: str, error: BaseException | None) -> None:
        self.status = status
        self.finished = time.time()
        if error is not None:
            self.last_error = error

    def _outcome(self) -> concurrent.futures.Future:
        with _outcome_lock:
            if self._future is None:
                self._future = concurrent.futures.Future()
                if self._ending is not None:
                    _settle_future(self._future, self.status, *self._ending)
            return self._future

    def _resolve(self, value: Any, error: BaseException | None) -> None:
        # No lock on this hot path: _outcome() may settle the same future concurrently, and
        # _settle_future ignores whichever of the two comes second.
        self._ending = (value, error)
        future = self._future
        if future is not None:
            _settle_future(future, self.status, value, error)

    def __repr__(self) -> str:
        return f"<Job {self.label} {self.kind} {self.status} attempts={self.attempts}>"


def _settle_future(future: concurrent.futures.Future, status: str, value: Any, error: BaseException | None) -> None:
    try:
        if status == CANCELLED:
            future.cancel()
        elif error is not None:
            future.set_exception(error)
        else:
            future.set_result(value)
    except concurrent.futures.InvalidStateError:  # settled a moment ago by the other path
        pass


def _copy_later(loop: asyncio.AbstractEventLoop, outcome: concurrent.futures.Future, mirror: asyncio.Future) -> None:
    try:
        loop.call_soon_threadsafe(_copy_outcome, outcome, mirror)
    except RuntimeError:  # the awaiting loop has closed; nobody is left to tell
        pass


def _copy_outcome(outcome: concurrent.futures.Future, mirror: asyncio.Future) -> None:
    if mirror.done():  # the awaiter gave up (was cancelled) before the job ended
        return
    if outcome.cancelled():
        mirror.cancel()
    elif outcome.exception() is not None:
        mirror.set_exception(outcome.exception())
    else:
        mirror.set_result(outcome.result())
