"""enqueue(): hand work to a durable queue's synchronous client without blocking the loop."""

from __future__ import annotations

import asyncio
import threading

from ffscan.runtime import Backoff, configure_delivery, enqueue


class BrokerDown:
    """A task object whose `apply_async` blocks, as Celery's does while the broker is down, then fails."""

    def __init__(self) -> None:
        self.calls: list[tuple] = []
        self.release = threading.Event()

    def apply_async(self, args=None, kwargs=None, **options):
        self.calls.append((tuple(args or ()), dict(kwargs or {})))
        self.release.wait(10)
        raise ConnectionError("broker unreachable")


def test_enqueue_from_async_code_returns_at_once_and_never_raises_into_the_caller(on_error):
    task = BrokerDown()

    configure_delivery(retries=1, backoff=Backoff(initial=0.0, jitter=0.0), on_error=on_error)

    async def handler():
        job = enqueue(task, 42, urgent=True)
        while not task.calls:  # the loop keeps running while the client blocks in its thread
            await asyncio.sleep(0.001)
        task.release.set()
        return job

    job = asyncio.run(handler())
    assert job.exception(timeout=10).args == ("broker unreachable",)
    assert (job.status, job.attempts) == ("failed", 2)
    assert task.calls == [((42,), {"urgent": True})] * 2
    assert [(subject, str(error)) for subject, error in on_error.calls] == [(job, "broker unreachable")]
