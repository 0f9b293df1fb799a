from __future__ import annotations

import asyncio
import concurrent.futures
import gc
import logging
import threading
import weakref

import pytest

from ffscan.runtime import pending_count, set_error_hook, track, tracked
from ffscan.runtime.track import log_failure


async def _wait_on_private_future(holder: list, finished: asyncio.Event) -> None:
    # Only this coroutine holds the future, so only the task keeps the chain alive.
    future = asyncio.get_running_loop().create_future()
    holder.append(weakref.ref(future))
    await future
    finished.set()


async def _start_unreferenced_task(use_track: bool):
    holder: list = []
    finished = asyncio.Event()
    task = asyncio.get_running_loop().create_task(_wait_on_private_future(holder, finished))
    returned = track(task) if use_track else task
    assert returned is task
    task_ref = weakref.ref(task)
    del task, returned
    await asyncio.sleep(0)  # the task runs up to its await
    gc.collect()
    return task_ref, holder, finished


def test_track_returns_the_same_object():
    async def scenario():
        task = asyncio.get_running_loop().create_task(asyncio.sleep(0))
        assert track(task) is task
        await task

    asyncio.run(scenario())
    future = concurrent.futures.Future()
    assert track(future) is future
    future.set_result(None)
    thread = threading.Thread(target=lambda: None)
    assert track(thread) is thread


def test_untracked_pending_task_is_garbage_collected():
    # The bug track() exists for: the loop holds tasks weakly.
    destroyed = []

    async def scenario():
        asyncio.get_running_loop().set_exception_handler(lambda loop, context: destroyed.append(context["message"]))
        task_ref, holder, _ = await _start_unreferenced_task(use_track=False)
        assert task_ref() is None
        assert holder[0]() is None

    asyncio.run(scenario())
    assert destroyed == ["Task was destroyed but it is pending!"]


def test_tracked_task_survives_garbage_collection_and_finishes(error_hook):
    async def scenario():
        task_ref, holder, finished = await _start_unreferenced_task(use_track=True)
        task = task_ref()
        assert task is not None
        assert task in tracked()
        holder[0]().set_result(None)
        await asyncio.wait_for(finished.wait(), 5)
        await task
        await asyncio.sleep(0)  # done callbacks run on the next loop pass
        assert task not in tracked()

    asyncio.run(scenario())
    assert error_hook.calls == []


def test_failed_task_is_reported_once_even_if_tracked_twice(error_hook):
    error = ValueError("lost write")

    async def fail():
        raise error

    async def scenario():
        task = asyncio.get_running_loop().create_task(fail(), name="writer")
        track(task)
        track(task)
        await asyncio.wait([task])
        await asyncio.sleep(0)
        track(task)  # tracking a finished task again reports nothing new
        await asyncio.sleep(0)
        return task

    task = asyncio.run(scenario())
    assert error_hook.calls == [(task, error)]


def test_cancelled_task_is_not_reported(error_hook):
    async def scenario():
        task = track(asyncio.get_running_loop().create_task(asyncio.sleep(10)))
        await asyncio.sleep(0)
        task.cancel()
        await asyncio.wait([task])
        await asyncio.sleep(0)
        assert task not in tracked()

    asyncio.run(scenario())
    assert error_hook.calls == []


def test_concurrent_future_failure_is_reported_once(error_hook):
    error = OSError("disk full")

    def fail():
        raise error

    with concurrent.futures.ThreadPoolExecutor(max_workers=1) as executor:
        started = threading.Event()
        release = threading.Event()
        executor.submit(lambda: (started.set(), release.wait(5)))
        future = track(executor.submit(fail))
        started.wait(5)
        assert future in tracked()
        release.set()
    # leaving the executor joined its worker, which ran the done callbacks
    assert error_hook.calls == [(future, error)]
    assert future not in tracked()


def test_thread_failure_is_reported_once_and_the_previous_excepthook_still_runs(error_hook, monkeypatch):
    seen_by_previous = []
    monkeypatch.setattr(threading, "excepthook", seen_by_previous.append)
    error = RuntimeError("worker crashed")

    def crash():
        raise error

    thread = track(threading.Thread(target=crash, name="crasher"))
    before = pending_count()
    assert thread in tracked()
    thread.start()
    thread.join(5)
    assert error_hook.calls == [(thread, error)]
    assert [(args.thread, args.exc_value) for args in seen_by_previous] == [(thread, error)]
    assert thread not in tracked()
    assert pending_count() == before - 1


def test_finished_thread_leaves_the_registry_and_system_exit_is_not_reported(error_hook, monkeypatch):
    monkeypatch.setattr(threading, "excepthook", lambda args: None)

    def leave():
        raise SystemExit(0)

    quiet = track(threading.Thread(target=lambda: None))
    leaving = track(threading.Thread(target=leave))
    for thread in (quiet, leaving):
        thread.start()
        thread.join(5)
    assert quiet not in tracked()
    assert leaving not in tracked()
    assert error_hook.calls == []


def test_untracked_thread_failure_is_left_to_the_previous_hook(error_hook, monkeypatch):
    seen_by_previous = []
    monkeypatch.setattr(threading, "excepthook", seen_by_previous.append)
    track(threading.Thread(target=lambda: None))  # installs the chained hook
    thread = threading.Thread(target=lambda: 1 / 0)
    thread.start()
    thread.join(5)
    assert error_hook.calls == []
    assert len(seen_by_previous) == 1


def test_track_refuses_other_objects():
    async def work():
        return None

    coro = work()
    with pytest.raises(TypeError):
        track(coro)
    coro.close()


def test_set_error_hook_returns_the_previous_hook_and_none_restores_logging(error_hook):
    def other(obj, error):
        return None

    assert set_error_hook(other) is error_hook
    assert set_error_hook(None) is other
    assert set_error_hook(error_hook) is log_failure


def test_default_hook_logs_the_task_name_with_the_traceback(caplog):
    async def fail():
        raise KeyError("user-42")

    async def scenario():
        task = track(asyncio.get_running_loop().create_task(fail(), name="refresh-profile"))
        await asyncio.wait([task])
        await asyncio.sleep(0)

    with caplog.at_level(logging.ERROR, logger="ffscan.runtime"):
        asyncio.run(scenario())
    records = [record for record in caplog.records if record.name == "ffscan.runtime"]
    assert len(records) == 1
    assert "'refresh-profile'" in records[0].getMessage()
    assert records[0].exc_info[1].args == ("user-42",)
