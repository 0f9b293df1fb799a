"""Queues by name: the default `background`, `configure()`, `queue(name)` and pyproject.

`configure(**options)` sets up the default queue, as before; `configure("emails", ...)`
defines or replaces a named one. `queue(name)` returns the queue configured under that
name, else the one `[tool.ffscan.queues.<name>]` defines, else raises UnknownQueue.
"""

from __future__ import annotations

import threading
from typing import Any

from .errors import UnknownQueue
from .options import QueueConfig
from .pyproject import find_pyproject, load_queue_configs
from .queue import TrackedQueue

DEFAULT_NAME = "background"
HOOKS = ("on_error", "on_event", "journal", "clock")  # given to configure(), not part of a QueueConfig

_lock = threading.RLock()
_queue: TrackedQueue | None = None
_options: dict[str, Any] = {}
_named: dict[str, Any] = {}  # name -> TrackedQueue, or an engine's queue (CeleryQueue)
_from_pyproject: dict[str, QueueConfig] | None = None


def default_queue() -> TrackedQueue:
    """Return the default queue, creating it with the configured options on first use."""
    global _queue
    with _lock:
        if _queue is None:
            options = dict(_options)
            if not options:
                config = _pyproject_configs().get(DEFAULT_NAME)
                if config is not None:
                    if config.engine != "local":
                        raise ValueError(
                            f"[tool.ffscan.queues.{DEFAULT_NAME}]: the default queue runs in process; "
                            f'put work for engine = "{config.engine}" on a named queue'
                        )
                    _queue = TrackedQueue.from_config(DEFAULT_NAME, config)
            if _queue is None:
                _queue = TrackedQueue(**options)
            _register_jobs(_queue, DEFAULT_NAME)
        return _queue


def configure(queue_name: str | None = None, /, **options: Any) -> Any:
    """Set up a queue and return it; call it at startup, before the queue has work.

    Without a name it replaces the default queue with `TrackedQueue(**options)`. With one,
    `configure("emails", max_concurrency=4, rate_limit="10/s")` defines the named queue
    from QueueConfig's fields (plus on_error, on_event, journal, clock; engine="celery"
    with `app=`). It raises RuntimeError while the queue it replaces has jobs pending or
    running; names registered on the old queue carry over and the old queue is closed.
    """
    if queue_name is not None and queue_name != DEFAULT_NAME:
        return _configure_named(queue_name, options)
    global _queue, _options
    if queue_name == DEFAULT_NAME:
        options = _tracked_options(options)
    replacement = TrackedQueue(**options)  # bad options raise here, leaving the old queue in place
    with _lock:
        previous = _queue
        _refuse_if_busy(previous, "the default queue")
        if previous is not None:
            for name, fn in previous.registrations().items():
                replacement.register(name, fn)  # `@background.job(...)` may run before configure()
        _register_jobs(replacement, DEFAULT_NAME)
        _options = dict(options)
        _queue = replacement
    if previous is not None:
        previous.shutdown(timeout=0)
    return replacement


def queue(name: str) -> Any:
    """Return the queue named `name`: from configure(), else from pyproject, else UnknownQueue."""
    if name == DEFAULT_NAME:
        return default_queue()
    with _lock:
        found = _named.get(name)
        if found is not None:
            return found
        config = _pyproject_configs().get(name)
        if config is None:
            raise UnknownQueue(_unknown(name))
        built = _named[name] = _build(name, config, {})
        return built


def queue_names() -> list[str]:
    """Return the names of every queue known so far: configured in code or in pyproject."""
    with _lock:
        return sorted({DEFAULT_NAME, *_named, *_pyproject_configs()})


def reset_queues() -> None:
    """Forget named queues and the cached pyproject (for tests); each forgotten queue is shut down."""
    global _from_pyproject
    with _lock:
        queues = list(_named.values())
        _named.clear()
        _from_pyproject = None
    for item in queues:
        item.shutdown(timeout=0)


def _configure_named(name: str, options: dict[str, Any]) -> Any:
    hooks = {key: options.pop(key) for key in list(options) if key in HOOKS or key == "app"}
    config = QueueConfig().with_changes(**options)  # bad options raise here, nothing replaced
    with _lock:
        previous = _named.get(name)
        _refuse_if_busy(previous, f"queue {name!r}")
        replacement = _named[name] = _build(name, config, hooks)
        if previous is not None and isinstance(previous, TrackedQueue) and isinstance(replacement, TrackedQueue):
            for job_name, fn in previous.registrations().items():
                replacement.register(job_name, fn)
    if previous is not None:
        previous.shutdown(timeout=0)
    return replacement


def _build(name: str, config: QueueConfig, hooks: dict[str, Any]) -> Any:
    if config.engine == "celery":
        from .backends.celery import (
            CeleryQueue,  # imports celery only for a queue that uses it
        )

        return CeleryQueue(name, config, app=hooks.pop("app", None), **hooks)
    if "app" in hooks:
        raise TypeError(f"queue {name!r}: app= is for engine='celery'")
    built = TrackedQueue.from_config(name, config, **hooks)
    _register_jobs(built, name)
    return built


def _register_jobs(target: TrackedQueue, name: str) -> None:
    from .registry import jobs_for_queue

    for spec in jobs_for_queue(name):
        target.register(spec.name, spec.fn)


def _tracked_options(options: dict[str, Any]) -> dict[str, Any]:
    QueueConfig().with_changes(**{k: v for k, v in options.items() if k not in HOOKS})  # same checks
    return options


def _refuse_if_busy(previous: Any, what: str) -> None:
    if previous is None or not isinstance(previous, TrackedQueue):
        return
    stats = previous.stats()
    if stats.pending or stats.running or stats.retrying:
        raise RuntimeError(f"configure() {what} before it has work; it has jobs pending or running")


def _pyproject_configs() -> dict[str, QueueConfig]:
    global _from_pyproject
    if _from_pyproject is None:
        _from_pyproject = load_queue_configs()
    return _from_pyproject


def _unknown(name: str) -> str:
    where = find_pyproject()
    known = ", ".join(repr(n) for n in queue_names())
    looked = f"{where} has no [tool.ffscan.queues.{name}]" if where else "no pyproject.toml was found from the working directory"
    return f"no queue named {name!r}: call configure({name!r}, ...) at startup or add [tool.ffscan.queues.{name}] ({looked}); known queues: {known}"


class DefaultQueue:
    """Stand-in for the default TrackedQueue: each attribute is looked up on the current one.

    `from ffscan.runtime import background` stays valid across `configure()` calls.
    """

    def __getattr__(self, name: str) -> Any:
        return getattr(default_queue(), name)

    def __enter__(self) -> TrackedQueue:
        return default_queue().__enter__()

    def __exit__(self, *exc_info: Any) -> None:
        default_queue().__exit__(*exc_info)

    async def __aenter__(self) -> TrackedQueue:
        return await default_queue().__aenter__()

    async def __aexit__(self, *exc_info: Any) -> None:
        await default_queue().__aexit__(*exc_info)

    def __repr__(self) -> str:
        return f"<default {default_queue()!r}>"


background = DefaultQueue()
