"""One queue used from event loops in several threads at once."""

from __future__ import annotations

import asyncio
import threading

from ffscan.runtime import TrackedQueue


def test_one_queue_runs_coroutine_jobs_on_two_loops_in_two_threads_at_once():
    queue = TrackedQueue("two-threads", max_concurrency=4)
    both_running = threading.Barrier(2, timeout=10)  # breaks unless both jobs run at the same time
    results: dict[str, object] = {}

    async def job(label):
        await asyncio.get_running_loop().run_in_executor(None, both_running.wait)
        return label, asyncio.get_running_loop()

    def serve(label):
        async def main():
            value = await queue.spawn(job, label)
            return value, asyncio.get_running_loop()

        try:
            results[label] = asyncio.run(main())
        except BaseException as error:  # shown by the assertion below, not lost in the thread
            results[label] = error

    threads = [threading.Thread(target=serve, args=(label,)) for label in ("a", "b")]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(20)
    for label in ("a", "b"):
        (value, ran_on), own_loop = results[label]
        assert (value, ran_on) == (label, own_loop)
    assert queue.stats().succeeded == 2
