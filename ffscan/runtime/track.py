"""Keep fire-and-forget tasks, futures and threads alive and their failures visible.

`track(obj)` adds no scheduling of its own: the work runs exactly when and how it would
have run. It only holds a strong reference until the work ends (the event loop holds tasks
weakly, so an unreferenced task can be garbage-collected mid-flight) and reports a failure
once through the error hook instead of leaving it to "exception was never retrieved".
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import logging
import threading
import weakref
from typing import Any, Callable, TypeVar

logger = logging.getLogger("ffscan.runtime")

ErrorHook = Callable[[Any, BaseException], None]
Tracked = TypeVar("Tracked")

_lock = threading.Lock()
_live: set[Any] = set()  # strong references until the work ends
_seen: weakref.WeakSet[Any] = weakref.WeakSet()  # tracking twice must not report twice


def log_failure(obj: Any, error: BaseException) -> None:
    """Log a background failure with its traceback; the default error hook."""
    logger.error(
        "background %s %r failed: %r",
        _kind_of(obj),
        name_of(obj),
        error,
        exc_info=(type(error), error, error.__traceback__),
    )


_error_hook: ErrorHook = log_failure


def set_error_hook(hook: ErrorHook | None) -> ErrorHook:
    """Send tracked failures to `hook(obj, error)` (None restores logging); return the old hook."""
    global _error_hook
    previous, _error_hook = _error_hook, hook or log_failure
    return previous


def track(obj: Tracked) -> Tracked:
    """Hold `obj` until it ends, report its failure once, and return the same object.

    Accepts an asyncio Task or Future, a concurrent.futures.Future or a threading.Thread
    (started or not). Cancellation is not a failure and is never reported.
    """
    if isinstance(obj, threading.Thread):
        _track_thread(obj)
    elif asyncio.isfuture(obj) or isinstance(obj, concurrent.futures.Future):
        _track_future(obj)
    else:
        raise TypeError(f"track() takes a task, future or thread, not {type(obj).__name__}")
    return obj


def tracked() -> tuple[Any, ...]:
    """Return the tracked tasks, futures and threads that have not ended yet."""
    with _lock:
        _forget_finished_threads()
        return tuple(_live)


def pending_count() -> int:
    """Return how many tracked objects have not ended yet."""
    return len(tracked())


def name_of(obj: Any) -> str:
    """Return the name a person would look for: task name, thread name or repr."""
    if isinstance(obj, threading.Thread):
        return obj.name
    get_name = getattr(obj, "get_name", None)  # asyncio.Task; plain futures have none
    return get_name() if callable(get_name) else repr(obj)


def _track_future(future: Any) -> None:
    with _lock:
        if future in _seen:
            return
        _seen.add(future)
        _live.add(future)
    future.add_done_callback(_on_future_done)


def _on_future_done(future: Any) -> None:
    with _lock:
        _live.discard(future)
    if future.cancelled():
        return
    error = future.exception()  # retrieving it also silences "exception was never retrieved"
    if error is not None:
        _report(future, error)


def _track_thread(thread: threading.Thread) -> None:
    with _lock:
        _forget_finished_threads()
        if thread in _seen:
            return
        _seen.add(thread)
        _live.add(thread)
        _install_thread_hook()


def _forget_finished_threads() -> None:
    # A thread has no done callback; drop it once it has started (ident set) and ended.
    for item in [item for item in _live if isinstance(item, threading.Thread)]:
        if item.ident is not None and not item.is_alive():
            _live.discard(item)


def _install_thread_hook() -> None:
    """Chain threading.excepthook: report tracked threads, then call the hook it replaces."""
    previous = threading.excepthook
    if getattr(previous, "chained_by_ffscan", False):
        return  # still in place; whoever replaced it since (a test harness) gets chained anew

    def report_then_delegate(args: Any) -> None:
        thread = args.thread
        failed = args.exc_value is not None and not issubclass(args.exc_type, SystemExit)
        if failed and thread is not None and _is_live(thread):
            _report(thread, args.exc_value)
        previous(args)  # the old hook still prints or handles it exactly as before

    report_then_delegate.chained_by_ffscan = True  # type: ignore[attr-defined]
    threading.excepthook = report_then_delegate


def _is_live(obj: Any) -> bool:
    with _lock:
        return obj in _live


def _report(obj: Any, error: BaseException) -> None:
    try:
        _error_hook(obj, error)
    except Exception:  # a broken hook must not hide the failure it was given: log both
        logger.exception("error hook failed while reporting %r", name_of(obj))
        log_failure(obj, error)


def _kind_of(obj: Any) -> str:
    if isinstance(obj, threading.Thread):
        return "thread"
    if isinstance(obj, asyncio.Task):
        return "task"
    return "future"
