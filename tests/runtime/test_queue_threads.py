from __future__ import annotations

import asyncio
import logging
import threading
import time

import pytest

from ffscan.runtime import CANCELLED, FAILED, RETRYING, SUCCEEDED, Backoff, TrackedQueue

from .helpers import wait_until


def test_a_burst_of_10000_thread_jobs_never_exceeds_max_concurrency(on_error):
    queue = TrackedQueue("thread-burst", max_concurrency=16, on_error=on_error)
    first_wave = threading.Barrier(16, timeout=10)  # breaks if fewer than 16 ever run together
    lock = threading.Lock()
    running = 0
    peak = 0

    def work(n):
        nonlocal running, peak
        with lock:
            running += 1
            peak = max(peak, running)
        if n < 16:
            first_wave.wait()
        with lock:
            running -= 1

    for n in range(10_000):
        queue.submit(work, n)
    assert queue.drain_sync(timeout=30)
    assert peak == 16
    assert on_error.calls == []
    stats = queue.stats()
    assert (stats.succeeded, stats.failed, stats.pending, stats.running) == (10_000, 0, 0, 0)


def test_thread_retries_wait_the_configured_backoff(on_error, caplog):
    queue = TrackedQueue(
        "thread-retry", retries=2, backoff=Backoff(initial=0.02, factor=3.0, jitter=0.0), on_error=on_error
    )
    attempt_times: list[float] = []

    def fails_twice():
        attempt_times.append(time.monotonic())
        if len(attempt_times) < 3:
            raise ConnectionResetError(f"attempt {len(attempt_times)}")
        return "third time"

    with caplog.at_level(logging.INFO, logger="ffscan.runtime"):
        job = queue.submit(fails_twice)
        assert job.result(timeout=10) == "third time"
    assert (job.status, job.attempts) == (SUCCEEDED, 3)
    gaps = [later - earlier for earlier, later in zip(attempt_times, attempt_times[1:])]
    for gap, expected in zip(gaps, [0.02, 0.06]):
        assert expected - 0.002 <= gap < expected + 1.0
    retry_lines = [record.getMessage() for record in caplog.records if "retrying in" in record.getMessage()]
    assert [line.rsplit(" ", 1)[1] for line in retry_lines] == ["0.020s", "0.060s"]
    assert on_error.calls == []
    assert repr(job.last_error) == "ConnectionResetError('attempt 2')"


@pytest.mark.parametrize("stop", [KeyboardInterrupt, SystemExit])
def test_keyboard_interrupt_and_system_exit_are_never_retried(stop, on_error):
    queue = TrackedQueue("never-retry", retries=3, backoff=Backoff(initial=0.0, jitter=0.0), on_error=on_error)
    calls = []

    def stops():
        calls.append(1)
        raise stop()

    job = queue.submit(stops)
    assert queue.drain_sync(timeout=5)
    assert (job.status, job.attempts, len(calls)) == (FAILED, 1, 1)
    assert [(subject, type(error)) for subject, error in on_error.calls] == [(job, stop)]


def test_a_failing_thread_job_is_reported_once_and_others_finish(on_error):
    queue = TrackedQueue("thread-isolation", max_concurrency=4, on_error=on_error)
    error = ValueError("corrupt image")
    release = threading.Event()

    def fail():
        raise error

    others = [queue.submit(lambda n=n: release.wait(5) and n) for n in range(3)]
    failing = queue.submit(fail)
    with pytest.raises(ValueError, match="corrupt image"):
        failing.result(timeout=5)
    release.set()
    assert [job.result(timeout=5) for job in others] == [0, 1, 2]
    assert on_error.calls == [(failing, error)]


def test_shutdown_cannot_cancel_a_running_thread_and_says_so(caplog):
    queue = TrackedQueue("thread-shutdown", max_concurrency=1)
    release = threading.Event()
    started = threading.Event()

    def blocking():
        started.set()
        release.wait(10)
        return "done anyway"

    running = queue.submit(blocking)
    waiting = queue.submit(blocking)
    assert started.wait(5)
    with caplog.at_level(logging.WARNING, logger="ffscan.runtime"):
        began = time.monotonic()
        report = queue.shutdown(timeout=0.02, grace=0.02)
        elapsed = time.monotonic() - began
    assert elapsed < 3.0
    assert report.cancelled == (waiting,)
    assert report.still_running == (running,)
    assert waiting.status == CANCELLED
    messages = [record.getMessage() for record in caplog.records]
    warnings = [m for m in messages if "threads cannot be cancelled" in m and running.label in m]
    assert len(warnings) == 2  # the warning when cancelling, the error after the grace period
    release.set()
    assert running.result(timeout=5) == "done anyway"


def test_shutdown_ends_a_thread_job_backoff():
    queue = TrackedQueue("thread-backoff", retries=1, backoff=Backoff(initial=30.0, jitter=0.0))

    def fails():
        raise OSError("service down")

    job = queue.submit(fails)
    wait_until(lambda: job.status == RETRYING)
    began = time.monotonic()
    report = queue.shutdown(timeout=0.01, grace=5)
    assert time.monotonic() - began < 3.0
    assert (job.status, job.attempts) == (CANCELLED, 1)
    assert report.cancelled == (job,)
    assert report.still_running == ()


def test_with_block_drains_thread_jobs_on_exit():
    results = []
    with TrackedQueue("thread-scoped", max_concurrency=2) as queue:
        for n in range(5):
            queue.submit(results.append, n)
    assert sorted(results) == [0, 1, 2, 3, 4]
    assert queue.closed
    assert queue.stats().succeeded == 5


def test_submit_refuses_coroutine_functions():
    async def work():
        return None

    with pytest.raises(TypeError, match="spawn"):
        TrackedQueue("threads-only").submit(work)


def test_submit_works_from_async_code_and_the_job_can_be_awaited():
    queue = TrackedQueue("mixed")

    async def scenario():
        job = queue.submit(sum, [1, 2, 3])
        assert await queue.drain(timeout=5)
        return await job

    assert asyncio.run(scenario()) == 6
