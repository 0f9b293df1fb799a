from __future__ import annotations

import asyncio
import concurrent.futures
import inspect
import json
import logging
import time

import pytest

from ffscan.runtime import (
    CANCELLED,
    DROPPED,
    FAILED,
    RUNNING,
    SUCCEEDED,
    Backoff,
    NotAwaitable,
    QueueClosed,
    QueueFull,
    TrackedQueue,
)

NO_WAIT = Backoff(initial=0.0, jitter=0.0)


def test_a_burst_of_10000_coroutine_jobs_never_exceeds_max_concurrency():
    queue = TrackedQueue("burst", max_concurrency=16)
    running = 0
    peak = 0

    async def job():
        nonlocal running, peak
        running += 1
        peak = max(peak, running)
        await asyncio.sleep(0)
        await asyncio.sleep(0)
        running -= 1

    async def scenario():
        for _ in range(10_000):
            queue.spawn(job)
        assert queue.stats().running == 16
        assert queue.stats().pending == 10_000 - 16
        assert await queue.drain(timeout=30)

    asyncio.run(scenario())
    assert peak == 16
    stats = queue.stats()
    assert (stats.succeeded, stats.failed, stats.pending, stats.running) == (10_000, 0, 0, 0)


def test_retries_wait_the_configured_backoff_and_stop_at_the_limit(on_error, caplog):
    queue = TrackedQueue("retry", retries=3, backoff=Backoff(initial=0.02, factor=2.0, jitter=0.0), on_error=on_error)
    attempt_times: list[float] = []

    async def always_fails():
        attempt_times.append(time.monotonic())
        raise ConnectionError(f"attempt {len(attempt_times)}")

    async def scenario():
        job = queue.spawn(always_fails)
        assert await queue.drain(timeout=10)
        return job

    with caplog.at_level(logging.INFO, logger="ffscan.runtime"):
        job = asyncio.run(scenario())
    assert (job.status, job.attempts) == (FAILED, 4)
    assert [(subject, str(error)) for subject, error in on_error.calls] == [(job, "attempt 4")]
    gaps = [later - earlier for earlier, later in zip(attempt_times, attempt_times[1:])]
    for gap, expected in zip(gaps, [0.02, 0.04, 0.08]):
        assert expected - 0.002 <= gap < expected + 1.0
    retry_lines = [record.getMessage() for record in caplog.records if "retrying in" in record.getMessage()]
    assert [line.rsplit(" ", 1)[1] for line in retry_lines] == ["0.020s", "0.040s", "0.080s"]
    stats = queue.stats()
    assert (stats.failed, stats.retried, stats.succeeded) == (1, 3, 0)


def test_a_job_that_succeeds_on_retry_is_not_reported(on_error):
    queue = TrackedQueue("flaky", retries=2, backoff=NO_WAIT, on_error=on_error)
    calls = []

    async def flaky(value):
        calls.append(value)
        if len(calls) == 1:
            raise TimeoutError("first call times out")
        return value * 2

    async def scenario():
        return await queue.spawn(flaky, 21), queue

    result, _ = asyncio.run(scenario())
    assert result == 42
    assert calls == [21, 21]
    assert on_error.calls == []
    stats = queue.stats()
    assert (stats.succeeded, stats.failed, stats.retried) == (1, 0, 1)


def test_a_failing_job_is_reported_once_and_does_not_stop_the_others(on_error):
    queue = TrackedQueue("isolation", on_error=on_error)
    error = ValueError("bad row")

    async def fail():
        raise error

    async def scenario():
        release = asyncio.Event()

        async def wait_then_return(n):
            await release.wait()
            return n

        others = [queue.spawn(wait_then_return, n) for n in range(5)]
        failing = queue.spawn(fail)
        with pytest.raises(ValueError, match="bad row"):
            await failing
        assert [job.status for job in others] == [RUNNING] * 5
        release.set()
        assert [await job for job in others] == [0, 1, 2, 3, 4]
        return failing

    failing = asyncio.run(scenario())
    assert on_error.calls == [(failing, error)]
    assert (queue.stats().succeeded, queue.stats().failed) == (5, 1)


def test_cancellation_raised_by_a_job_is_never_retried(on_error):
    queue = TrackedQueue("cancel", retries=3, backoff=NO_WAIT, on_error=on_error)

    async def gives_up():
        raise asyncio.CancelledError()

    async def scenario():
        job = queue.spawn(gives_up)
        assert await queue.drain(timeout=5)
        return job

    job = asyncio.run(scenario())
    assert (job.status, job.attempts) == (CANCELLED, 1)
    assert on_error.calls == []
    assert queue.stats().retried == 0


def test_a_key_returns_the_queued_or_running_job_instead_of_a_second_one():
    queue = TrackedQueue("dedup", max_concurrency=1)
    runs = []

    async def refresh(user):
        runs.append(user)
        await asyncio.sleep(0)

    async def scenario():
        release = asyncio.Event()
        first = queue.spawn(refresh, "ann", key="user:ann")
        blocker = queue.spawn(release.wait, key="blocker")
        assert queue.spawn(release.wait, key="blocker") is blocker
        await asyncio.sleep(0)  # first runs and finishes; blocker now holds the slot
        queued = queue.spawn(refresh, "bob", key="user:bob")
        assert queue.spawn(refresh, "bob", key="user:bob") is queued
        release.set()
        assert await queue.drain(timeout=5)
        again = queue.spawn(refresh, "bob", key="user:bob")
        assert again is not queued
        await again
        return first

    asyncio.run(scenario())
    assert runs == ["ann", "bob", "bob"]


def test_higher_priority_runs_first_and_ties_keep_arrival_order():
    queue = TrackedQueue("priority", max_concurrency=1)
    order = []

    async def note(label):
        order.append(label)

    async def scenario():
        release = asyncio.Event()
        queue.spawn(release.wait)
        for label, priority in [("low", 0), ("high", 5), ("mid", 3), ("high-2", 5), ("negative", -1)]:
            queue.spawn(note, label, priority=priority)
        release.set()
        assert await queue.drain(timeout=5)

    asyncio.run(scenario())
    assert order == ["high", "high-2", "mid", "low", "negative"]


def test_overflow_raise_refuses_jobs_beyond_max_pending():
    queue = TrackedQueue("bounded", max_concurrency=1, max_pending=2)

    async def scenario():
        release = asyncio.Event()
        queue.spawn(release.wait)
        queue.spawn(release.wait)
        queue.spawn(release.wait)
        with pytest.raises(QueueFull):
            queue.spawn(release.wait)
        stats = queue.stats()
        assert (stats.running, stats.pending, stats.dropped) == (1, 2, 0)
        release.set()
        assert await queue.drain(timeout=5)

    asyncio.run(scenario())
    assert queue.stats().succeeded == 3


def test_overflow_drop_drops_the_job_and_reports_it(on_error):
    queue = TrackedQueue("lossy", max_concurrency=1, max_pending=1, overflow="drop", on_error=on_error)
    ran = []

    async def work(label):
        ran.append(label)

    async def scenario():
        release = asyncio.Event()
        queue.spawn(release.wait)
        queue.spawn(work, "kept")
        dropped = queue.spawn(work, "dropped")
        assert dropped.status == DROPPED
        with pytest.raises(QueueFull):
            await dropped
        release.set()
        assert await queue.drain(timeout=5)
        return dropped

    dropped = asyncio.run(scenario())
    assert ran == ["kept"]
    assert [(subject, type(error)) for subject, error in on_error.calls] == [(dropped, QueueFull)]
    stats = queue.stats()
    assert (stats.dropped, stats.succeeded, stats.failed) == (1, 2, 0)
    assert [record.job for record in stats.recent_failures] == [dropped.label]


def test_spawning_after_shutdown_raises_queue_closed():
    queue = TrackedQueue("closed")

    async def work():
        return None

    async def scenario():
        await queue.aclose(timeout=1)
        with pytest.raises(QueueClosed):
            queue.spawn(work)
        coro = work()
        with pytest.raises(QueueClosed):
            queue.spawn_coro(coro)
        assert inspect.getcoroutinestate(coro) == inspect.CORO_CLOSED
        with pytest.raises(QueueClosed):
            queue.submit(print)

    asyncio.run(scenario())
    assert queue.closed


def test_drain_waits_for_jobs_that_spawn_more_jobs():
    queue = TrackedQueue("fan-out")
    done = []

    async def child(n):
        await asyncio.sleep(0)
        done.append(n)

    async def parent():
        for n in range(3):
            queue.spawn(child, n)

    async def scenario():
        queue.spawn(parent)
        assert await queue.drain(timeout=5)

    asyncio.run(scenario())
    assert sorted(done) == [0, 1, 2]


def test_drain_returns_false_when_its_timeout_runs_out():
    queue = TrackedQueue("slow")

    async def scenario():
        release = asyncio.Event()
        job = queue.spawn(release.wait)
        assert await queue.drain(timeout=0.02) is False
        release.set()
        assert await queue.drain(timeout=5) is True
        return job

    assert asyncio.run(scenario()).status == SUCCEEDED


def test_aclose_cancels_what_is_left_and_logs_it_by_name(caplog):
    queue = TrackedQueue("leftovers", max_concurrency=1)
    started = []

    async def hang(label):
        started.append(label)
        await asyncio.Event().wait()

    async def scenario():
        running = queue.spawn(hang, "running")
        waiting = queue.spawn(hang, "waiting")
        await asyncio.sleep(0)
        report = await queue.aclose(timeout=0.02, grace=5)
        return running, waiting, report

    with caplog.at_level(logging.WARNING, logger="ffscan.runtime"):
        running, waiting, report = asyncio.run(scenario())
    assert started == ["running"]
    assert (running.status, waiting.status) == (CANCELLED, CANCELLED)
    with pytest.raises(concurrent.futures.CancelledError):
        waiting.result(timeout=0)
    assert report.cancelled == (waiting, running)
    assert report.still_running == ()
    warnings = [record.getMessage() for record in caplog.records if "shutting down" in record.getMessage()]
    assert len(warnings) == 1
    assert running.label in warnings[0]
    assert waiting.label in warnings[0]
    assert queue.stats().cancelled == 2


def test_a_job_that_ignores_cancellation_does_not_hang_shutdown(caplog):
    queue = TrackedQueue("stubborn")

    async def scenario():
        release = asyncio.Event()
        started = asyncio.Event()

        async def stubborn():
            started.set()
            try:
                await asyncio.sleep(30)
            except asyncio.CancelledError:
                pass  # the bug under test: swallowing cancellation
            await release.wait()
            return "finished late"

        job = queue.spawn(stubborn)
        await started.wait()
        began = time.monotonic()
        report = await queue.aclose(timeout=0.02, grace=0.05)
        elapsed = time.monotonic() - began
        assert job.status == RUNNING
        release.set()
        return job, report, elapsed, await job

    with caplog.at_level(logging.WARNING, logger="ffscan.runtime"):
        job, report, elapsed, result = asyncio.run(scenario())
    assert elapsed < 3.0
    assert report.still_running == (job,)
    assert report.cancelled == ()
    errors = [record.getMessage() for record in caplog.records if record.levelno == logging.ERROR]
    assert len(errors) == 1
    assert "ignored cancellation" in errors[0]
    assert job.label in errors[0]
    assert (result, job.status) == ("finished late", SUCCEEDED)


def test_async_with_drains_the_queue_on_exit():
    async def scenario():
        async with TrackedQueue("scoped") as queue:
            job = queue.spawn(asyncio.sleep, 0.01, result="done")
        return queue, job

    queue, job = asyncio.run(scenario())
    assert (job.status, job.result(), queue.closed) == (SUCCEEDED, "done", True)


def test_spawn_coro_runs_once_even_on_a_retrying_queue(on_error):
    queue = TrackedQueue("once", retries=3, backoff=NO_WAIT, on_error=on_error)
    error = RuntimeError("no second chance")

    async def fail():
        raise error

    async def scenario():
        job = queue.spawn_coro(fail(), name="one-shot")
        assert await queue.drain(timeout=5)
        return job

    job = asyncio.run(scenario())
    assert (job.name, job.status, job.attempts) == ("one-shot", FAILED, 1)
    assert on_error.calls == [(job, error)]


def test_spawn_refuses_a_coroutine_object_and_a_missing_loop():
    queue = TrackedQueue("misuse")

    async def work():
        return None

    async def scenario():
        coro = work()
        with pytest.raises(TypeError, match="spawn_coro"):
            queue.spawn(coro)
        coro.close()

    asyncio.run(scenario())
    with pytest.raises(RuntimeError, match="submit"):
        queue.spawn(work)


def test_a_function_that_returns_a_plain_value_fails_without_retry(on_error):
    queue = TrackedQueue("sync-by-mistake", retries=2, backoff=NO_WAIT, on_error=on_error)
    calls = []

    async def scenario():
        job = queue.spawn(calls.append, "side effect")
        assert await queue.drain(timeout=5)
        return job

    job = asyncio.run(scenario())
    assert (job.status, job.attempts, calls) == (FAILED, 1, ["side effect"])
    assert [type(error) for _, error in on_error.calls] == [NotAwaitable]


def test_cancelling_an_awaiter_leaves_the_job_running():
    queue = TrackedQueue("awaiters")

    async def scenario():
        release = asyncio.Event()

        async def work():
            await release.wait()
            return 7

        job = queue.spawn(work)
        waiter = asyncio.ensure_future(job)
        await asyncio.sleep(0)
        waiter.cancel()
        await asyncio.sleep(0)
        assert job.status == RUNNING
        release.set()
        return await job

    assert asyncio.run(scenario()) == 7


def test_blocking_result_inside_the_jobs_loop_is_refused():
    queue = TrackedQueue("no-deadlock")

    async def scenario():
        release = asyncio.Event()
        job = queue.spawn(release.wait)
        with pytest.raises(RuntimeError, match="await it"):
            job.result(timeout=1)
        with pytest.raises(RuntimeError, match="drain_sync"):
            queue.drain_sync(timeout=1)
        release.set()
        await job

    asyncio.run(scenario())


def test_jobs_left_when_the_loop_closes_are_settled_and_the_queue_moves_to_a_new_loop(caplog):
    queue = TrackedQueue("two-loops", max_concurrency=1)

    async def forgotten():
        return [queue.spawn(asyncio.Event().wait), queue.spawn(asyncio.sleep, 0)]  # main returns without draining

    async def later():
        return await queue.spawn(asyncio.sleep, 0, result="second loop")

    with caplog.at_level(logging.WARNING, logger="ffscan.runtime"):
        running, waiting = asyncio.run(forgotten())
        result = asyncio.run(later())
    assert result == "second loop"
    assert (running.status, waiting.status) == (CANCELLED, CANCELLED)
    messages = [record.getMessage() for record in caplog.records]
    assert [m for m in messages if running.label in m and "cancelled from outside" in m] == [messages[0]]
    assert len([m for m in messages if waiting.label in m and "event loop closed" in m]) == 1
    assert queue.stats().succeeded == 1


def test_registered_names_can_be_spawned_by_name():
    queue = TrackedQueue("named")
    sent = []

    @queue.job("send-email")
    async def send_email(to, subject):
        sent.append((to, subject))

    async def scenario():
        by_function = queue.spawn(send_email, "ann@example.com", subject="hi")
        by_name = queue.spawn("send-email", "bob@example.com", subject="yo")
        assert await queue.drain(timeout=5)
        return by_function, by_name

    by_function, by_name = asyncio.run(scenario())
    assert (by_function.name, by_name.name) == ("send-email", "send-email")
    assert (by_function.registered_name, by_name.registered_name) == ("send-email", "send-email")
    assert sent == [("ann@example.com", "hi"), ("bob@example.com", "yo")]
    assert queue.registered("send-email") is send_email
    with pytest.raises(LookupError):
        queue.submit("no-such-job")


def test_stats_are_plain_data_ready_for_json(on_error):
    queue = TrackedQueue("health", on_error=on_error)

    async def fail():
        raise ValueError("nope")

    async def scenario():
        job = queue.spawn(fail)
        assert await queue.drain(timeout=5)
        return job

    job = asyncio.run(scenario())
    data = json.loads(json.dumps(queue.stats().as_dict()))
    when = data["recent_failures"][0].pop("when")
    assert job.created <= when == job.finished
    assert data == {
        "name": "health",
        "pending": 0,
        "running": 0,
        "retrying": 0,
        "succeeded": 0,
        "failed": 1,
        "retried": 0,
        "dropped": 0,
        "cancelled": 0,
        "recent_failures": [{"job": job.label, "error": "ValueError('nope')"}],
    }


@pytest.mark.skipif(not hasattr(asyncio, "eager_task_factory"), reason="eager tasks arrived in 3.12")
def test_jobs_that_finish_eagerly_start_the_next_ones_without_recursing():
    queue = TrackedQueue("eager", max_concurrency=1)
    finished = []

    async def quick(n):
        finished.append(n)  # no await: an eager task runs to its end inside create_task

    async def scenario():
        asyncio.get_running_loop().set_task_factory(asyncio.eager_task_factory)
        release = asyncio.Event()
        queue.spawn(release.wait)
        for n in range(3000):  # deeper than the default recursion limit
            queue.spawn(quick, n)
        release.set()
        assert await queue.drain(timeout=10)

    asyncio.run(scenario())
    assert finished == list(range(3000))
    assert queue.stats().succeeded == 3001


def test_shutdown_logs_name_at_most_twenty_jobs_per_list(caplog):
    queue = TrackedQueue("backlog", max_concurrency=1)

    async def scenario():
        release = asyncio.Event()
        for _ in range(26):  # one runs, 25 wait
            queue.spawn(release.wait)
        return await queue.aclose(timeout=0, grace=5)

    with caplog.at_level(logging.WARNING, logger="ffscan.runtime"):
        report = asyncio.run(scenario())
    assert len(report.cancelled) == 26
    (warning,) = [record.getMessage() for record in caplog.records if "shutting down" in record.getMessage()]
    assert "cancelled 25 pending job(s)" in warning
    assert "and 5 more]" in warning
    assert warning.count("Event.wait[") == 21  # 20 of the pending jobs, plus the running one
