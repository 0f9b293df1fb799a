"""Per-job settings through queue.options(...): delay, retries, retry_on, SkipRetry, timeout, dedup windows."""

from __future__ import annotations

import asyncio
import logging
import threading

import pytest

from ffscan.runtime import (
    Backoff,
    FakeClock,
    JobTimeout,
    QueueFull,
    SkipRetry,
    TrackedQueue,
)

NO_WAIT = Backoff(initial=0.0, jitter=0.0)


def test_spawn_passes_every_other_keyword_to_the_function():
    queue = TrackedQueue("kwargs")

    async def fetch(url, timeout, delay, retries):
        return (url, timeout, delay, retries)

    async def scenario():
        return await queue.spawn(fetch, "u", timeout=3, delay=1, retries=2)

    assert asyncio.run(scenario()) == ("u", 3, 1, 2)


def test_a_delayed_job_starts_when_its_delay_has_passed():
    clock = FakeClock()
    queue = TrackedQueue("later", clock=clock)
    ran = []

    async def remind(user):
        ran.append((user, clock.now()))

    async def scenario():
        job = queue.options(delay=30).spawn(remind, "ann")
        queue.spawn(remind, "bob")
        await asyncio.sleep(0)
        assert (job.status, queue.stats().pending) == ("pending", 1)
        clock.advance(29.0)
        await asyncio.sleep(0)
        assert ran == [("bob", 1000.0)]
        clock.advance(1.0)
        await job

    asyncio.run(scenario())
    assert ran == [("bob", 1000.0), ("ann", 1030.0)]


def test_retries_and_retry_on_are_set_per_job(on_error):
    queue = TrackedQueue("policy", retries=5, backoff=NO_WAIT, on_error=on_error)
    calls = {"io": 0, "value": 0, "two": 0}

    async def io_error():
        calls["io"] += 1
        raise ConnectionError("down")

    async def value_error():
        calls["value"] += 1
        raise ValueError("bad")

    async def scenario():
        only_io = queue.options(retry_on=(ConnectionError,))
        jobs = [
            only_io.spawn(io_error),
            only_io.spawn(value_error),
            queue.options(retries=1).spawn(io_error),
        ]
        await queue.drain(timeout=5)
        return jobs

    io, value, once = asyncio.run(scenario())
    assert [(job.status, job.attempts) for job in (io, value, once)] == [("failed", 6), ("failed", 1), ("failed", 2)]
    assert calls == {"io": 8, "value": 1, "two": 0}


def test_skip_retry_fails_the_job_at_once(on_error):
    queue = TrackedQueue("skip", retries=3, backoff=NO_WAIT, on_error=on_error)

    def lookup(user_id):
        raise SkipRetry(f"no user {user_id}")

    job = queue.submit(lookup, 404)
    assert isinstance(job.exception(timeout=5), SkipRetry)
    assert (job.status, job.attempts) == ("failed", 1)
    assert [str(error) for _, error in on_error.calls] == ["no user 404"]


def test_a_coroutine_job_past_its_timeout_is_cancelled_and_retried(on_error):
    clock = FakeClock()
    queue = TrackedQueue("timeouts", timeout=5.0, retries=1, backoff=NO_WAIT, on_error=on_error, clock=clock)
    attempts = []

    async def stuck():
        attempts.append(clock.now())
        try:
            await asyncio.Event().wait()
        finally:
            attempts.append("cancelled")

    async def scenario():
        job = queue.spawn(stuck)
        await asyncio.sleep(0)
        clock.advance(5.0)  # the first attempt times out
        for _ in range(5):
            await asyncio.sleep(0)
        clock.advance(5.0)  # and so does the retry
        for _ in range(5):
            await asyncio.sleep(0)
        with pytest.raises(JobTimeout, match="timeout of 5s"):
            await job
        return job

    job = asyncio.run(scenario())
    assert attempts == [1000.0, "cancelled", 1005.0, "cancelled"]
    assert (job.status, job.attempts, job.timed_out) == ("failed", 2, True)
    assert [type(error) for _, error in on_error.calls] == [JobTimeout]


def test_a_thread_past_its_timeout_is_reported_and_left_to_finish(caplog):
    clock = FakeClock()
    queue = TrackedQueue("slow-thread", timeout=1.0, clock=clock)
    started, release = threading.Event(), threading.Event()

    def blocking():
        started.set()
        release.wait(5)
        return "late"

    job = queue.submit(blocking)
    assert started.wait(5)
    with caplog.at_level(logging.WARNING, logger="ffscan.runtime"):
        clock.advance(1.0)
    release.set()
    assert job.result(timeout=5) == "late"
    assert (job.status, job.timed_out) == ("succeeded", True)
    warnings = [record.getMessage() for record in caplog.records if "past its timeout" in record.getMessage()]
    assert len(warnings) == 1 and job.label in warnings[0] and "cannot be stopped" in warnings[0]


def test_a_key_with_unique_for_returns_the_same_job_for_the_whole_window():
    clock = FakeClock()
    queue = TrackedQueue("dedup-window", clock=clock)

    def refresh(user):
        return user

    first = queue.options(key=("refresh", 1), unique_for=60).submit(refresh, 1)
    assert first.result(timeout=5) == 1
    assert queue.options(key=("refresh", 1), unique_for=60).submit(refresh, 1) is first  # finished, still in its window
    clock.advance(60.0)
    again = queue.options(key=("refresh", 1), unique_for=60).submit(refresh, 1)
    assert again is not first
    assert again.result(timeout=5) == 1


def test_a_full_queue_makes_a_blocking_caller_wait_up_to_enqueue_timeout():
    queue = TrackedQueue("room", max_concurrency=1, max_pending=1, enqueue_timeout=5.0)
    release = threading.Event()
    queue.submit(release.wait, 5)
    queue.submit(len, [1])  # waits for the only worker
    threading.Timer(0.05, release.set).start()
    job = queue.submit(len, [1, 2])  # no room yet: waits until the first job ends
    assert job.result(timeout=5) == 2

    tight = TrackedQueue("no-room", max_concurrency=1, max_pending=0, enqueue_timeout=0.01)
    hold = threading.Event()
    tight.submit(hold.wait, 5)
    with pytest.raises(QueueFull, match="after waiting 0.01s"):
        tight.submit(len, [])
    hold.set()


def test_a_full_queue_never_blocks_the_event_loop():
    queue = TrackedQueue("loop-room", max_concurrency=1, max_pending=0, enqueue_timeout=30.0)

    async def scenario():
        release = asyncio.Event()
        queue.spawn(release.wait)
        with pytest.raises(QueueFull, match="already has 0 pending jobs; "):
            queue.spawn(release.wait)
        release.set()
        await queue.drain(timeout=5)

    asyncio.run(scenario())


def test_status_by_id_and_retry_failed(on_error):
    queue = TrackedQueue("rerun", on_error=on_error)
    healthy = threading.Event()

    def call_peer(n):
        if not healthy.is_set():
            raise ConnectionError("peer down")
        return n

    jobs = [queue.submit(call_peer, n) for n in range(2)]
    assert queue.drain_sync(timeout=5)
    assert [queue.status(job.id) for job in jobs] == ["failed", "failed"]
    assert queue.status("no-such-id") is None
    healthy.set()
    again = queue.retry_failed()
    assert [job.id for job in again] == [job.id for job in jobs]
    assert [job.result(timeout=5) for job in again] == [0, 1]
    assert [queue.status(job.id) for job in jobs] == ["succeeded", "succeeded"]
    assert queue.retry_failed() == []


def test_on_event_sees_every_change_of_status_in_order():
    seen = []
    queue = TrackedQueue("events", retries=1, backoff=NO_WAIT, on_event=lambda event, job: seen.append(event),
                         on_error=lambda job, error: None)
    calls = []

    def flaky():
        calls.append(1)
        if len(calls) == 1:
            raise OSError("once")

    queue.submit(flaky).result(timeout=5)
    queue.options(key="k").submit(sum, [1]).result(timeout=5)
    assert queue.drain_sync(timeout=5)
    assert seen == ["accepted", "started", "retrying", "started", "succeeded", "accepted", "started", "succeeded"]


def test_a_broken_on_event_hook_is_logged_and_the_job_still_runs(caplog):
    def broken(event, job):
        raise RuntimeError("exporter down")

    queue = TrackedQueue("broken-hook", on_event=broken)
    with caplog.at_level(logging.ERROR, logger="ffscan.runtime"):
        assert queue.submit(sum, [2, 3]).result(timeout=5) == 5
    assert len([r for r in caplog.records if "on_event hook" in r.getMessage()]) == 3
