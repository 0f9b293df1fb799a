"""`engine = "celery"`: a named queue whose registered jobs run on Celery workers.

Producer side, `CeleryQueue` has the intake surface of a TrackedQueue (spawn, submit,
options, status): it sends each job with `apply_async` from a thread job of its own
delivery queue, so async code never blocks on the broker and never sees its errors; the Job
it returns carries the Celery task id. Worker side, `install(app)` makes every `@job` a
Celery task with late acknowledgement, and runs retries with the queue's Backoff.
What maps and what does not is listed in docs/runtime.md ("On Celery").
"""

from __future__ import annotations

import asyncio
import importlib
import inspect
import json
import logging
from typing import Any, Callable

from ..backoff import Backoff
from ..enqueue import RETRY_ON
from ..errors import SkipRetry
from ..job import Job, new_job_id
from ..options import JobOptions, QueueConfig
from ..queue import TrackedQueue
from ..ratelimit import RateLimit
from ..registry import JobSpec, registered_jobs, require_json

logger = logging.getLogger("ffscan.runtime")

OPTIONS_KWARG = "_ffscan"  # the job's own settings travel with its kwargs, popped before the call
UNIQUE_PREFIX = "ffscan:unique:"
KEY_TTL = 3600.0  # seconds a key= is held on Celery when unique_for is not given (the worker frees it sooner)
HARD_LIMIT_GRACE = 5.0  # seconds between the soft time limit (our timeout) and Celery's hard kill
STATES = {
    "PENDING": "pending",
    "RECEIVED": "pending",
    "STARTED": "running",
    "RETRY": "retrying",
    "SUCCESS": "succeeded",
    "FAILURE": "failed",
    "REVOKED": "cancelled",
}


class CeleryQueue:
    """A named queue whose jobs go to Celery; `queue(name)` returns one for engine = "celery"."""

    def __init__(self, name: str, config: QueueConfig, *, app: Any = None, on_error: Any = None, on_event: Any = None, **unused: Any) -> None:
        if config.rate_limit_per_key is not None:
            raise ValueError(f"queue {name!r}: rate_limit_per_key has no Celery equivalent (Celery limits per task type only)")
        if unused.get("journal") is not None:
            raise ValueError(f"queue {name!r}: a journal records in-process jobs; Celery keeps its own results backend")
        self.name = name
        self.config = config
        self.app = app if app is not None else load_app(config.celery_app, name)
        self.delivery = TrackedQueue(
            f"{name}:delivery",
            max_concurrency=4,
            retries=5,
            backoff=Backoff(initial=0.5, factor=2.0, max=10.0, jitter=0.1),
            on_error=on_error,
            on_event=on_event,
        )

    def spawn(self, fn: Any, /, *args: Any, key: Any = None, priority: int | None = None, **kwargs: Any) -> Job:
        """Send a registered job to the workers; returns at once (its id is the Celery task id)."""
        return self.options(key=key, priority=priority).spawn(fn, *args, **kwargs)

    submit = spawn  # on Celery both kinds run on the workers

    def options(self, **options: Any) -> _BoundCelery:
        return _BoundCelery(self, JobOptions(**options))

    def register(self, name: str, fn: Callable[..., Any]) -> Callable[..., Any]:
        return fn  # the worker's install(app) makes the tasks; producers send by name

    def status(self, job_id: str) -> str | None:
        """Return the job's status from Celery's result backend (a blocking network call)."""
        state = self.app.AsyncResult(job_id).state
        return STATES.get(state, state.lower())

    def stats(self) -> Any:
        """Counts of the sends (delivery jobs): Celery's own tools (Flower, inspect) show the rest."""
        return self.delivery.stats()

    async def drain(self, timeout: float | None = None) -> bool:
        """Wait until every send so far has reached the broker (or failed for good)."""
        return await self.delivery.drain(timeout)

    def drain_sync(self, timeout: float | None = None) -> bool:
        return self.delivery.drain_sync(timeout)

    def shutdown(self, timeout: float | None = 10.0, grace: float = 2.0) -> Any:
        return self.delivery.shutdown(timeout, grace)

    async def aclose(self, timeout: float | None = 10.0, grace: float = 2.0) -> Any:
        return await self.delivery.aclose(timeout, grace)

    def _send(self, fn: Any, args: tuple, kwargs: dict, options: JobOptions) -> Job:
        name = _job_name(fn, self.name)
        require_json(name, args, kwargs)
        task_id = new_job_id()
        message = message_options(self.name, self.config, options, self.app)
        carried = _carried(self.config, options)
        job_options = JobOptions(retry_on=RETRY_ON, name=f"send {name}")
        return self.delivery._submit(
            _deliver, (self.app, name, args, kwargs, task_id, message, carried, options.key, options.unique_for),
            {}, None, None, job_options, job_id=task_id,
        )

    def __repr__(self) -> str:
        return f"<CeleryQueue {self.name!r} app={self.app.main!r}>"


class _BoundCelery:
    __slots__ = ("queue", "job_options")

    def __init__(self, queue: CeleryQueue, job_options: JobOptions) -> None:
        self.queue = queue
        self.job_options = job_options

    def spawn(self, fn: Any, /, *args: Any, **kwargs: Any) -> Job:
        return self.queue._send(fn, args, kwargs, self.job_options)

    submit = spawn


def message_options(queue_name: str, config: QueueConfig, options: JobOptions, app: Any) -> dict[str, Any]:
    """The apply_async options for one job: routing, countdown, priority."""
    if options.rate_key is not None:
        raise ValueError(f"queue {queue_name!r} runs on Celery, which has no per-key rate limit: drop rate_key=")
    message: dict[str, Any] = {"queue": queue_name}
    if options.timeout is not None:  # a per-job timeout: Celery takes time limits per message too
        message["soft_time_limit"] = options.timeout
        message["time_limit"] = options.timeout + HARD_LIMIT_GRACE
    if options.delay:
        message["countdown"] = options.delay
    priority = options.priority if options.priority is not None else config.priority
    message["priority"] = celery_priority(priority, app)  # always: on Redis, "none" would rank first
    return message


def celery_priority(priority: int, app: Any) -> int:
    """Our priority (higher first) as Celery's 0-9: Redis runs 0 first, AMQP runs 9 first."""
    clamped = max(0, min(9, priority))
    broker = str(app.conf.broker_url or "")
    return 9 - clamped if broker.startswith(("redis", "rediss")) else clamped


def _carried(config: QueueConfig, options: JobOptions) -> dict[str, Any]:
    carried: dict[str, Any] = {}
    if options.retries is not None:
        carried["retries"] = options.retries
    if options.retry_on is not None:
        carried["retry_on"] = [f"{t.__module__}.{t.__qualname__}" for t in options.retry_on]
    return carried


def _deliver(app: Any, name: str, args: tuple, kwargs: dict, task_id: str, message: dict, carried: dict, key: Any, unique_for: Any) -> Any:
    if key is not None:
        holder = _claim_key(app, name, key, task_id, unique_for)
        if holder is not None:
            logger.info("job %s[%s] not sent: key %r is held by job %s", name, task_id, key, holder)
            return {"deduplicated_into": holder}
        carried = {**carried, "key": _key_name(name, key), "unique_for": unique_for}
    payload = {**kwargs, OPTIONS_KWARG: carried} if carried else kwargs
    return app.send_task(name, args=list(args), kwargs=payload, task_id=task_id, **message).id


def _key_name(name: str, key: Any) -> str:
    return f"{UNIQUE_PREFIX}{name}:{json.dumps(key, sort_keys=True)}"


def _redis(app: Any) -> Any:
    client = getattr(app.backend, "client", None)
    if client is None or not hasattr(client, "set"):
        raise RuntimeError("key= on the celery engine needs a Redis result backend (it holds the key there)")
    return client


def _claim_key(app: Any, name: str, key: Any, task_id: str, unique_for: Any) -> str | None:
    client = _redis(app)
    ttl = unique_for if unique_for else KEY_TTL
    if client.set(_key_name(name, key), task_id, nx=True, px=max(1, int(ttl * 1000))):
        return None
    holder = client.get(_key_name(name, key))
    return holder.decode() if isinstance(holder, bytes) else holder


def load_app(target: str | None, queue_name: str) -> Any:
    """Import `package.module:attribute` (the Celery app named by celery-app)."""
    if not target or ":" not in target:
        raise ValueError(f'queue {queue_name!r} has engine = "celery": set celery-app = "package.module:app" (or pass app=)')
    module_name, _, attribute = target.partition(":")
    module = importlib.import_module(module_name)
    try:
        return getattr(module, attribute)
    except AttributeError:
        raise ValueError(f"queue {queue_name!r}: {module_name} has no {attribute!r} (celery-app = {target!r})") from None


def _job_name(fn: Any, queue_name: str) -> str:
    if isinstance(fn, str):
        return fn
    name = getattr(getattr(fn, "spec", None), "name", None)
    if name is None:
        for spec in registered_jobs().values():
            if spec.fn is fn:
                name = spec.name
    if name is None:
        raise TypeError(f"queue {queue_name!r} runs on Celery: spawn a job registered with @job(name), by name or function")
    return name


# -- worker side --------------------------------------------------------------------------


def install(app: Any, *, configs: dict[str, QueueConfig] | None = None) -> dict[str, Any]:
    """Register every `@job` as a Celery task on `app` (call it in the worker's app module).

    Each task acknowledges late and is rejected if its worker dies, so a killed worker's job
    is delivered again (after the broker's visibility timeout on Redis). Returns name -> task.
    """
    from ..default import _named, _pyproject_configs

    known = dict(_pyproject_configs())
    known.update({name: q.config for name, q in _named.items() if hasattr(q, "config")})
    known.update(configs or {})
    tasks = {}
    for spec in registered_jobs().values():
        config = known.get(spec.queue, QueueConfig())
        tasks[spec.name] = app.task(name=spec.name, bind=True, **task_options(config))(_runner(spec, config))
    return tasks


def task_options(config: QueueConfig) -> dict[str, Any]:
    """Celery task options for a queue's settings."""
    options: dict[str, Any] = {"acks_late": True, "reject_on_worker_lost": True, "track_started": True}
    if config.timeout:
        options["soft_time_limit"] = config.timeout
        options["time_limit"] = config.timeout + HARD_LIMIT_GRACE
    if config.rate_limit is not None:
        options["rate_limit"] = celery_rate(config.rate_limit)
    options["max_retries"] = config.retries
    return options


def celery_rate(rate: RateLimit) -> str:
    """Celery writes rate limits as N/s, N/m or N/h; other windows have no equivalent."""
    for unit, seconds in (("s", 1.0), ("m", 60.0), ("h", 3600.0)):
        if rate.per == seconds:
            return f"{rate.limit}/{unit}"
    raise ValueError(f"rate limit {rate} has no Celery equivalent (Celery takes N/s, N/m or N/h)")


def _runner(spec: JobSpec, config: QueueConfig) -> Callable[..., Any]:
    def run(task: Any, *args: Any, **kwargs: Any) -> Any:
        carried = kwargs.pop(OPTIONS_KWARG, {})
        try:
            result = spec.fn(*args, **kwargs)
            if inspect.isawaitable(result):
                result = asyncio.run(_awaited(result))
        except SkipRetry:
            _free_key(task, carried)
            raise
        except Exception as error:  # retried per the job's policy, with the queue's Backoff
            retries = carried.get("retries", config.retries)
            attempt = task.request.retries + 1
            if attempt <= retries and _matches(error, carried.get("retry_on")):
                delay = config.backoff.delay(attempt)
                logger.info("job %s[%s] attempt %d failed with %r; retrying in %.3fs", spec.name, task.request.id, attempt, error, delay)
                kwargs[OPTIONS_KWARG] = carried
                raise task.retry(args=args, kwargs=kwargs, exc=error, countdown=delay, max_retries=retries)
            _free_key(task, carried)
            raise
        _free_key(task, carried)
        return result

    run.__name__ = getattr(spec.fn, "__name__", "job")  # an identifier: Celery compiles a signature from it
    run.__qualname__ = getattr(spec.fn, "__qualname__", run.__name__)
    run.__module__ = getattr(spec.fn, "__module__", __name__)
    run.__doc__ = spec.fn.__doc__
    return run


async def _awaited(awaitable: Any) -> Any:
    return await awaitable


def _matches(error: BaseException, retry_on: list[str] | None) -> bool:
    if retry_on is None:
        return True
    names = {f"{k.__module__}.{k.__qualname__}" for k in type(error).__mro__}
    return bool(names & set(retry_on))


def _free_key(task: Any, carried: dict) -> None:
    """Release a key= when its job ends, unless a unique_for window keeps it held."""
    key = carried.get("key")
    if key is None or carried.get("unique_for"):
        return
    try:
        client = _redis(task.app)
        if client.get(key) in (task.request.id, task.request.id.encode()):
            client.delete(key)
    except Exception as error:  # the key then expires by its TTL: log why it was not freed now
        logger.warning("job %s: cannot free key %s: %r", task.request.id, key, error)
