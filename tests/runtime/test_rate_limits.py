"""Rate limits, per queue and per key: jobs over the limit wait for their window, never dropped."""

from __future__ import annotations

import asyncio

import pytest

from ffscan.runtime import FakeClock, RateLimit, TrackedQueue
from ffscan.runtime.ratelimit import RateLimiter

from .helpers import wait_until


def test_rate_limits_parse_count_per_unit():
    assert [RateLimit.parse(text) for text in ("10/s", "100/m", "1/h", "5/30s", " 3 / 1.5s ")] == [
        RateLimit(10, 1.0),
        RateLimit(100, 60.0),
        RateLimit(1, 3600.0),
        RateLimit(5, 30.0),
        RateLimit(3, 1.5),
    ]
    assert [str(RateLimit.parse(text)) for text in ("10/s", "100/m", "5/30s")] == ["10/s", "100/m", "5/30s"]
    with pytest.raises(ValueError, match='"<count>/<unit>"'):
        RateLimit.parse("10 per second")
    with pytest.raises(ValueError, match="at least 1"):
        RateLimit.parse("0/s")


def test_a_sliding_window_allows_the_next_start_when_the_oldest_leaves_it():
    limiter = RateLimiter(RateLimit(2, 10.0))
    assert [limiter.acquire("k", now) for now in (0.0, 1.0, 2.0)] == [0.0, 0.0, 8.0]
    assert limiter.acquire("k", 10.0) == 0.0  # the start at 0.0 left the window
    assert limiter.acquire("other", 10.0) == 0.0  # keys have windows of their own


def test_jobs_over_the_queue_limit_wait_for_the_window_and_all_run():
    clock = FakeClock()
    queue = TrackedQueue("limited", rate_limit="2/s", clock=clock)
    started: list[tuple[int, float]] = []

    async def job(n):
        started.append((n, clock.now()))

    async def scenario():
        for n in range(5):
            queue.spawn(job, n)
        await asyncio.sleep(0)
        assert [n for n, _ in started] == [0, 1]
        assert queue.stats().pending == 3
        clock.advance(1.0)
        await asyncio.sleep(0)
        assert [n for n, _ in started] == [0, 1, 2, 3]
        clock.advance(1.0)
        await asyncio.sleep(0)
        assert await queue.drain(timeout=5)

    asyncio.run(scenario())
    assert started == [(0, 1000.0), (1, 1000.0), (2, 1001.0), (3, 1001.0), (4, 1002.0)]
    assert (queue.stats().succeeded, queue.stats().dropped) == (5, 0)


def test_a_rate_key_limits_each_key_alone():
    clock = FakeClock()
    queue = TrackedQueue("per-user", rate_limit_per_key="1/h", clock=clock)
    ran: list[str] = []

    async def analyse(user):
        ran.append(user)

    async def scenario():
        for user in ("ann", "ann", "bob", "ann"):
            queue.options(rate_key=user).spawn(analyse, user)
        await asyncio.sleep(0)
        assert ran == ["ann", "bob"]
        clock.advance(3600.0)
        await asyncio.sleep(0)
        assert ran == ["ann", "bob", "ann"]
        clock.advance(3600.0)
        await asyncio.sleep(0)
        assert await queue.drain(timeout=5)

    asyncio.run(scenario())
    assert ran == ["ann", "bob", "ann", "ann"]


def test_thread_jobs_obey_the_rate_limit_too():
    clock = FakeClock()
    queue = TrackedQueue("limited-threads", rate_limit="1/m", clock=clock)
    jobs = [queue.submit(lambda n=n: n) for n in range(3)]
    assert jobs[0].result(timeout=5) == 0
    assert queue.drain_sync(timeout=0.05) is False  # the other two wait for the window
    assert [job.status for job in jobs] == ["succeeded", "pending", "pending"]
    clock.advance(60.0)
    assert jobs[1].result(timeout=5) == 1
    clock.advance(60.0)
    assert jobs[2].result(timeout=5) == 2


def test_a_rate_key_on_a_queue_without_a_per_key_limit_is_refused():
    queue = TrackedQueue("no-key-limit")
    with pytest.raises(ValueError, match="rate_limit_per_key"):
        queue.options(rate_key="ann").submit(print)


def test_on_event_reports_jobs_held_by_a_rate_limit_and_duplicates():
    clock = FakeClock()
    seen = []
    queue = TrackedQueue("observed", rate_limit="1/s", clock=clock, on_event=lambda event, job: seen.append((event, job.name)))

    def first():
        return 1

    def second():
        return 2

    queue.submit(first).result(timeout=5)
    held = queue.options(key="only-one").submit(second)
    wait_until(lambda: ("rate_limited", held.name) in seen)
    assert queue.options(key="only-one").submit(second) is held
    clock.advance(1.0)
    assert held.result(timeout=5) == 2
    assert queue.drain_sync(timeout=5)
    assert [event for event in seen if event[1].endswith("first")] == [("accepted", seen[0][1]), ("started", seen[0][1]), ("succeeded", seen[0][1])]
    assert [event for event, name in seen if name.endswith("second")] == ["accepted", "rate_limited", "deduplicated", "started", "succeeded"]
