"""`@job("name")`: a function registered by name, run on whatever engine its queue is set to.

    @job("send-email", queue="emails")
    async def send_email(to: str, subject: str) -> None: ...

    send_email.spawn("ann@example.com", subject="receipt")   # from async code
    send_email.submit(...)                                    # blocking functions, any thread
    send_email.options(delay=30, key=("welcome", 7)).spawn(...)

The queue's configuration alone decides where it runs: `engine = "local"` (the default)
runs it on an in-process TrackedQueue, `engine = "celery"` sends it to Celery workers. The
arguments must be JSON (they may cross a process boundary, and the journal replays them).
"""

from __future__ import annotations

import inspect
import json
import threading
from dataclasses import dataclass
from typing import Any, Callable

_lock = threading.Lock()
_jobs: dict[str, JobSpec] = {}


@dataclass(frozen=True)
class JobSpec:
    """One registered job: its name, function and queue."""

    name: str
    fn: Callable[..., Any]
    queue: str


class RegisteredJob:
    """What `@job` returns: call it to run the function here and now, or spawn/submit it."""

    def __init__(self, spec: JobSpec) -> None:
        self.spec = spec
        self.name = spec.name
        self.__wrapped__ = spec.fn
        self.__doc__ = spec.fn.__doc__
        self.__name__ = getattr(spec.fn, "__name__", spec.name)
        self.__qualname__ = getattr(spec.fn, "__qualname__", spec.name)

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        return self.spec.fn(*args, **kwargs)

    def spawn(self, *args: Any, **kwargs: Any) -> Any:
        """Run it as a background job (an `async def` on the loop, a plain function on a thread)."""
        return self.options().spawn(*args, **kwargs)

    def submit(self, *args: Any, **kwargs: Any) -> Any:
        """Run a blocking job on a worker thread (or a Celery worker); returns the Job at once."""
        return self.options().submit(*args, **kwargs)

    def options(self, **options: Any) -> _BoundJob:
        """Per-job settings, as `queue.options(...)`: `send_email.options(delay=30).spawn(...)`."""
        return _BoundJob(self.spec, options)

    def __repr__(self) -> str:
        return f"<job {self.spec.name!r} on queue {self.spec.queue!r}>"


class _BoundJob:
    __slots__ = ("spec", "settings")

    def __init__(self, spec: JobSpec, settings: dict[str, Any]) -> None:
        self.spec = spec
        self.settings = settings

    def spawn(self, *args: Any, **kwargs: Any) -> Any:
        require_json(self.spec.name, args, kwargs)
        bound = _target(self.spec).options(**self.settings)
        if not inspect.iscoroutinefunction(self.spec.fn):
            return bound.submit(self.spec.name, *args, **kwargs)  # a plain function runs on a worker thread
        return bound.spawn(self.spec.name, *args, **kwargs)

    def submit(self, *args: Any, **kwargs: Any) -> Any:
        require_json(self.spec.name, args, kwargs)
        return _target(self.spec).options(**self.settings).submit(self.spec.name, *args, **kwargs)


def job(name: str, *, queue: str = "background") -> Callable[[Callable[..., Any]], RegisteredJob]:
    """Register a function under `name` on the queue named `queue` (by default `background`)."""
    if not isinstance(name, str) or not name:
        raise TypeError("job() takes the job's name, a non-empty string")

    def decorate(fn: Callable[..., Any]) -> RegisteredJob:
        spec = JobSpec(name, fn, queue)
        with _lock:
            known = _jobs.get(name)
            if known is not None and known.fn is not fn and _origin(known.fn) != _origin(fn):
                raise ValueError(f"job name {name!r} is already registered for {_origin(known.fn)}")
            _jobs[name] = spec
        _register_where_built(spec)
        return RegisteredJob(spec)

    return decorate


def registered_jobs() -> dict[str, JobSpec]:
    """Return every `@job` registration, by name."""
    with _lock:
        return dict(_jobs)


def jobs_for_queue(queue_name: str) -> list[JobSpec]:
    with _lock:
        return [spec for spec in _jobs.values() if spec.queue == queue_name]


def require_json(name: str, args: tuple, kwargs: dict) -> None:
    """Raise TypeError now if the arguments cannot be sent as JSON (a retry or a worker needs them)."""
    try:
        json.dumps([list(args), kwargs])
    except (TypeError, ValueError) as error:
        raise TypeError(f"job {name!r} takes JSON arguments (pass ids, not objects): {error}") from None


def _target(spec: JobSpec) -> Any:
    from .default import queue

    return queue(spec.queue)


def _register_where_built(spec: JobSpec) -> None:
    from . import default

    if spec.queue == default.DEFAULT_NAME:
        if default._queue is not None:
            default._queue.register(spec.name, spec.fn)
        return
    built = default._named.get(spec.queue)
    if built is not None and hasattr(built, "register"):
        built.register(spec.name, spec.fn)


def _origin(fn: Callable[..., Any]) -> str:
    return f"{getattr(fn, '__module__', '?')}.{getattr(fn, '__qualname__', repr(fn))}"
