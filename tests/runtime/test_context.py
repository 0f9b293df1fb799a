"""Context variables: each job runs in a copy of the context it was spawned from."""

from __future__ import annotations

import asyncio
import contextvars

from ffscan.runtime import Backoff, TrackedQueue

request_id: contextvars.ContextVar[str | None] = contextvars.ContextVar("request_id", default=None)


def test_each_queued_job_sees_the_request_that_spawned_it_not_the_job_before_it():
    queue = TrackedQueue("ctx", max_concurrency=1)
    seen = []

    async def job(label):
        seen.append((label, request_id.get()))
        request_id.set("changed by the job")  # must not leak into the next job
        await asyncio.sleep(0)

    async def handler(rid):
        request_id.set(rid)
        queue.spawn(job, rid)

    async def scenario():
        release = asyncio.Event()
        queue.spawn(release.wait)  # holds the only slot, so the jobs below wait in the queue
        for rid in ("r1", "r2", "r3"):
            await asyncio.get_running_loop().create_task(handler(rid))
        release.set()
        assert await queue.drain(timeout=5)

    asyncio.run(scenario())
    assert seen == [("r1", "r1"), ("r2", "r2"), ("r3", "r3")]


def test_a_retry_runs_in_the_same_context_as_the_first_attempt():
    queue = TrackedQueue("ctx-retry", retries=2, backoff=Backoff(initial=0.0, jitter=0.0))
    seen = []

    async def flaky():
        seen.append(request_id.get())
        if len(seen) < 3:
            raise ConnectionError("try again")

    async def scenario():
        request_id.set("r7")
        job = queue.spawn(flaky)
        request_id.set("r8")  # changed after spawn: the job keeps the value it was spawned with
        await job

    asyncio.run(scenario())
    assert seen == ["r7", "r7", "r7"]


def test_a_thread_job_runs_in_the_context_of_its_submitter():
    queue = TrackedQueue("ctx-thread")
    token = request_id.set("from-submitter")
    try:
        job = queue.submit(request_id.get)
    finally:
        request_id.reset(token)
    assert job.result(timeout=5) == "from-submitter"
    assert request_id.get() is None
