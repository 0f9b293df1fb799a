"""Intake: spawn/submit/options turn a call into a Job and hand it to admission; registration by name."""

from __future__ import annotations

import asyncio
import inspect
from asyncio import get_running_loop
from types import FunctionType
from typing import Any, Callable

from .job import COROUTINE, THREAD, Job
from .options import JobOptions

NO_OPTIONS = JobOptions()
CO_ASYNC = inspect.CO_COROUTINE | inspect.CO_ASYNC_GENERATOR | inspect.CO_ITERABLE_COROUTINE


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
        if fn.__class__ is FunctionType and not self._names_by_function and not fn.__code__.co_flags & CO_ASYNC:
            registered_name = None  # the common case, checked cheaply: a plain blocking function
        else:
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


def _running_loop_or_explain(what: str) -> asyncio.AbstractEventLoop:
    try:
        return asyncio.get_running_loop()
    except RuntimeError:  # no loop here: replace asyncio's terse message with what to do
        raise RuntimeError(
            f"{what} needs a running event loop in this thread; use submit() for blocking work"
        ) from None



