#!/usr/bin/env python3
"""Per-job overhead of the tracked runtime against its baselines, in one run, as ratios.

    python -m venv .bench && .bench/bin/pip install -e . -r benchmarks/requirements.txt
    .bench/bin/python benchmarks/runtime_bench.py              # 100,000 jobs, best of 5 runs
    .bench/bin/python benchmarks/runtime_bench.py --jobs 20000 --runs 3

Every job is a no-op, so what is timed is the machinery: from the first spawn until the
last job has finished (and, with the journal, until every row is committed to disk),
divided by the number of jobs. Coroutine jobs are compared with bare
`asyncio.create_task` (tasks kept in a set, the usual idiom) and with aiojobs; thread jobs
with `ThreadPoolExecutor.submit`. A peer that is not installed is reported as missing.
"""

from __future__ import annotations

import argparse
import asyncio
import concurrent.futures
import gc
import os
import sys
import tempfile
import time
from pathlib import Path
from typing import Callable, Optional

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from ffscan.runtime import SQLiteJournal, TrackedQueue  # noqa: E402

TARGETS = {"queue": 1.5, "journal": 3.0}


async def noop() -> None:
    return None


def blocking_noop() -> None:
    return None


async def bare_create_task(n: int) -> None:
    tasks: set = set()
    loop = asyncio.get_running_loop()
    for _ in range(n):
        task = loop.create_task(noop())
        tasks.add(task)
        task.add_done_callback(tasks.discard)
    while tasks:  # every task is ready, so one pass of the loop runs them all
        await asyncio.sleep(0)


async def aiojobs_scheduler(n: int, limit: Optional[int]) -> None:
    import aiojobs

    scheduler = aiojobs.Scheduler(limit=limit, pending_limit=0)
    for _ in range(n):
        await scheduler.spawn(noop())
    await scheduler.wait_and_close(timeout=None)


def queue_coroutines(max_concurrency: int, journal_dir: Optional[str] = None) -> Callable:
    async def run(n: int) -> None:
        journal = SQLiteJournal(os.path.join(journal_dir, f"{time.monotonic_ns()}.db")) if journal_dir else None
        queue = TrackedQueue("bench", max_concurrency=max_concurrency, max_pending=n, journal=journal)
        for _ in range(n):
            queue.spawn(noop)
        await queue.drain()
        if journal is not None:
            journal.close()  # waits until every row is on disk: the journal's cost is counted

    return run


def thread_pool(n: int) -> None:
    with concurrent.futures.ThreadPoolExecutor(max_workers=16) as pool:
        futures = [pool.submit(blocking_noop) for _ in range(n)]
        concurrent.futures.wait(futures)


def queue_threads(n: int) -> None:
    queue = TrackedQueue("bench-threads", max_concurrency=16, max_pending=n)
    for _ in range(n):
        queue.submit(blocking_noop)
    queue.drain_sync()
    queue.shutdown()


def best_of(runs: int, n: int, case: Callable) -> float:
    """Return the best per-job time in microseconds (the least disturbed run)."""
    times = []
    for _ in range(runs):
        gc.collect()
        start = time.perf_counter()
        outcome = case(n)
        if asyncio.iscoroutine(outcome):
            asyncio.run(outcome)
        times.append(time.perf_counter() - start)
    return min(times) / n * 1e6


def main(argv: Optional[list] = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--jobs", type=int, default=100_000)
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args(argv)
    n, runs = args.jobs, args.runs

    with tempfile.TemporaryDirectory() as journal_dir:
        rows = []
        bare = best_of(runs, n, bare_create_task)
        rows.append(("asyncio.create_task (baseline)", bare, bare, None))
        for label, case, target in (
            ("TrackedQueue.spawn, max_concurrency=n", queue_coroutines(n), "queue"),
            ("TrackedQueue.spawn, max_concurrency=16", queue_coroutines(16), "queue"),
            ("TrackedQueue.spawn + SQLiteJournal, max_concurrency=n", queue_coroutines(n, journal_dir), "journal"),
            ("TrackedQueue.spawn + SQLiteJournal, max_concurrency=16", queue_coroutines(16, journal_dir), "journal"),
        ):
            rows.append((label, best_of(runs, n, case), bare, target))
        try:
            import aiojobs  # noqa: F401
        except ImportError:
            rows.append(("aiojobs.Scheduler (not installed)", None, bare, None))
        else:
            rows.append(("aiojobs.Scheduler, limit=None", best_of(runs, n, lambda n: aiojobs_scheduler(n, None)), bare, None))
            rows.append(("aiojobs.Scheduler, limit=100 (its default)", best_of(runs, n, lambda n: aiojobs_scheduler(n, 100)), bare, None))
        pool = best_of(runs, n, thread_pool)
        rows.append(("ThreadPoolExecutor(16).submit (baseline)", pool, pool, None))
        rows.append(("TrackedQueue.submit, max_concurrency=16", best_of(runs, n, queue_threads), pool, None))

    print(f"{n:,} no-op jobs, best of {runs} runs, Python {sys.version.split()[0]}, {os.cpu_count()} cores\n")
    print("| Case | us per job | x baseline | target |")
    print("| --- | ---: | ---: | ---: |")
    for label, per_job, baseline, target in rows:
        if per_job is None:
            print(f"| {label} | - | - | |")
            continue
        goal = f"< {TARGETS[target]}x" if target else ""
        print(f"| {label} | {per_job:.2f} | {per_job / baseline:.2f} | {goal} |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
