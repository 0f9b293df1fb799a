"""`enqueue(task, *args, **kwargs)`: hand work to a durable queue without blocking the loop.

A Celery `task.delay()` (or Dramatiq `actor.send()`) is a synchronous network call to the
broker: from `async def` code it stalls the event loop for as long as the broker takes to
answer, and raises into the handler when the broker is down or an argument does not
serialise. `enqueue()` instead runs that call as a thread job on the delivery queue: it
returns a `Job` at once, retries while the broker is unreachable (with backoff), reports a
final failure through the delivery queue's `on_error` (logged by default), and never raises
into the caller. The job succeeds once the broker has the message; its value is what the
client returned (Celery's AsyncResult, Dramatiq's Message).
"""

from __future__ import annotations

import abc
import threading
from typing import Any, Callable

from .backoff import Backoff
from .job import Job
from .options import JobOptions
from .queue import TrackedQueue

DELIVERY_QUEUE = "ffscan-delivery"
TRANSIENT_NAMES = frozenset({"OperationalError", "ConnectionError", "TimeoutError", "RecoverableConnectionError", "BusyLoadingError"})
BROKER_PACKAGES = frozenset({"kombu", "redis", "amqp", "pika", "celery", "dramatiq"})

_lock = threading.Lock()
_delivery: TrackedQueue | None = None


class BrokerUnavailable(abc.ABC):
    """Matches the errors a broker client raises when the broker cannot be reached (retried)."""

    @classmethod
    def __subclasshook__(cls, subclass: type) -> Any:
        for klass in subclass.__mro__:
            if klass.__name__ in TRANSIENT_NAMES and klass.__module__.split(".")[0] in BROKER_PACKAGES:
                return True
        return NotImplemented


RETRY_ON = (OSError, TimeoutError, BrokerUnavailable)  # ConnectionError is an OSError
DELIVERY_BACKOFF = Backoff(initial=0.5, factor=2.0, max=10.0, jitter=0.1)  # frozen: safe to share


def configure_delivery(
    *,
    retries: int = 5,
    backoff: Backoff = DELIVERY_BACKOFF,
    max_concurrency: int = 4,
    on_error: Callable[[Job, BaseException], None] | None = None,
    on_event: Callable[[str, Job], None] | None = None,
) -> TrackedQueue:
    """Replace the delivery queue that `enqueue()` uses; returns it. Call at startup."""
    global _delivery
    replacement = TrackedQueue(
        DELIVERY_QUEUE,
        max_concurrency=max_concurrency,
        retries=retries,
        backoff=backoff,
        on_error=on_error,
        on_event=on_event,
    )
    with _lock:
        previous, _delivery = _delivery, replacement
    if previous is not None:
        previous.shutdown(timeout=previous.close_timeout)
    return replacement


def delivery_queue() -> TrackedQueue:
    """Return the queue `enqueue()` runs its broker calls on (created on first use)."""
    with _lock:
        if _delivery is not None:
            return _delivery
    return configure_delivery()


def enqueue(task: Any, /, *args: Any, **kwargs: Any) -> Job:
    """Send `task` with these arguments to its broker from a worker thread; return the Job at once.

    `task` is a Celery task (its `apply_async` is called), a Dramatiq actor (`send`), or
    any callable that enqueues (`functools.partial(app.send_task, "name")`). Every keyword
    goes to the task: delivery settings belong to `configure_delivery()`.
    """
    queue = delivery_queue()
    options = JobOptions(retry_on=RETRY_ON, name=f"enqueue {_task_name(task)}")
    try:
        return queue._submit(_deliver, (task, args, kwargs), {}, None, None, options)
    except Exception as error:  # a full or closed delivery queue: report it, never raise into the caller
        from .job import DROPPED, THREAD

        job = Job(queue_name=queue.name, name=options.name, kind=THREAD, fn=_deliver, args=(task, args, kwargs))
        job.status = "pending"
        queue._finish(job, DROPPED, error=error)
        return job


def _deliver(task: Any, args: tuple, kwargs: dict) -> Any:
    apply_async = getattr(task, "apply_async", None)
    if apply_async is not None:
        return apply_async(args=args, kwargs=kwargs)
    send = getattr(task, "send", None)
    if send is not None:
        return send(*args, **kwargs)
    return task(*args, **kwargs)


def _task_name(task: Any) -> str:
    name = getattr(task, "name", None) or getattr(task, "actor_name", None)
    if isinstance(name, str):
        return name
    inner = getattr(task, "func", None)
    if inner is not None:
        return _task_name(inner)
    return getattr(task, "__qualname__", type(task).__name__)
