"""Draining and shutdown: wait for the work, cancel what is left, say what could not be stopped."""

from __future__ import annotations

import asyncio
import atexit
import logging
import weakref
from collections.abc import Iterable
from typing import Any

from .job import CANCELLED, COROUTINE, RETRYING, THREAD, Job
from .stats import ShutdownReport

logger = logging.getLogger("ffscan.runtime")
EXIT_GRACE = 1.0  # seconds that interpreter exit waits after cancelling leftovers

open_queues: weakref.WeakSet[Any] = weakref.WeakSet()


class Shutdown:
    """drain / shutdown / aclose and the context managers; TrackedQueue mixes this in."""

    @property
    def closed(self) -> bool:
        """True once shutdown started; spawning then raises QueueClosed."""
        return self._closed

    async def drain(self, timeout: float | None = None) -> bool:
        """Wait until no job is pending or running; return False if `timeout` ran out first."""
        loop = asyncio.get_running_loop()
        self._abandon_closed_loops()
        with self._lock:
            lane = self._lanes.get(loop)
            starting = []
            if lane is not None and lane.paused:
                lane.paused = False
                starting = self._take_startable_locked()
            if self._is_idle_locked():
                return True
            waiter = loop.create_future()
            self._idle_waiters.append((loop, waiter))
        self._start_coroutines(starting)
        try:
            await asyncio.wait_for(waiter, timeout)
            return True
        except asyncio.TimeoutError:  # the caller asked for a bound: say it was reached
            return False
        finally:
            with self._lock:
                if (loop, waiter) in self._idle_waiters:
                    self._idle_waiters.remove((loop, waiter))

    def drain_sync(self, timeout: float | None = None) -> bool:
        """Block until no job is pending or running; return False if `timeout` ran out first.

        For threads and sync code. Inside an event loop that runs this queue's coroutine
        jobs it raises RuntimeError, because blocking there would stop those jobs.
        """
        self._refuse_to_block_own_loop("drain_sync")
        self._abandon_closed_loops()
        with self._idle:
            self._idle_sync_waiters += 1
            try:
                return self._idle.wait_for(self._is_idle_locked, timeout)
            finally:
                self._idle_sync_waiters -= 1

    def shutdown(self, timeout: float | None = 10.0, grace: float = 2.0) -> ShutdownReport:
        """Stop intake, wait up to `timeout` for every job, then cancel what is left.

        Pending jobs are cancelled, running coroutine jobs get `Task.cancel()`, thread jobs
        in a backoff stop there; a thread inside an attempt cannot be cancelled and is left
        running. After `grace` more seconds, whatever still runs is logged and returned.
        """
        self._refuse_to_block_own_loop("shutdown")
        self._close_intake()
        if self.drain_sync(timeout):
            self._flush_journal()
            return ShutdownReport()
        cancelled = self._cancel_leftovers(timeout)
        self.drain_sync(grace)
        self._flush_journal()
        return self._report_leftovers(cancelled, grace)

    async def aclose(self, timeout: float | None = 10.0, grace: float = 2.0) -> ShutdownReport:
        """Async `shutdown()`: stop intake, drain up to `timeout`, cancel the rest, wait `grace`."""
        self._close_intake()
        if await self.drain(timeout):
            await self._aflush_journal()
            return ShutdownReport()
        cancelled = self._cancel_leftovers(timeout)
        await self.drain(grace)
        await self._aflush_journal()
        return self._report_leftovers(cancelled, grace)

    def __enter__(self) -> Any:
        return self

    def __exit__(self, *exc_info: Any) -> None:
        self.shutdown(self.close_timeout)

    async def __aenter__(self) -> Any:
        return self

    async def __aexit__(self, *exc_info: Any) -> None:
        await self.aclose(self.close_timeout)

    # -- helpers --------------------------------------------------------------------------

    def _flush_journal(self) -> None:
        """A clean shutdown leaves the journal current: wait for its buffered rows."""
        flush = getattr(self.journal, "flush", None)
        if flush is not None:
            flush(self.close_timeout)

    async def _aflush_journal(self) -> None:
        flush = getattr(self.journal, "flush", None)
        if flush is not None:
            await asyncio.get_running_loop().run_in_executor(None, flush, self.close_timeout)

    def _refuse_to_block_own_loop(self, method: str) -> None:
        try:
            running = asyncio.get_running_loop()
        except RuntimeError:  # no loop in this thread: blocking here stalls no job
            return
        with self._lock:
            lane = self._lanes.get(running)
            busy = lane is not None and (lane.pending or any(job._lane is lane for job in self._running))
        if busy:
            raise RuntimeError(f"{method}() would block the event loop that runs this queue's jobs; await the async form")

    def _abandon_closed_loops(self) -> None:
        """Settle coroutine jobs whose event loop closed before they finished."""
        with self._lock:
            closed = [lane for lane in self._lanes.values() if lane.loop.is_closed()]
            if not closed:
                return
            found: dict[str, Job] = {}
            for lane in closed:
                found.update((entry[2].id, entry[2]) for entry in lane.pending)
                found.update((job.id, job) for job in self._running if job._lane is lane)
                found.update((job.id, job) for job in self._live if job._lane is lane)
                lane.pending.clear()  # their loop will never run them again
                del self._lanes[lane.loop]
            self._held = [job for job in self._held if job.id not in found]
            self._lanes_may_be_closed = len(self._lanes) > 1
            lost = list(found.values())
        if lost:
            logger.error(
                "queue %r: the event loop closed before %d coroutine job(s) finished: %s; "
                "await queue.drain() or queue.aclose() before the loop ends",
                self.name,
                len(lost),
                labels(lost),
            )
        for job in lost:
            self._finish(job, CANCELLED)
        with self._lock:
            self._notify_if_idle_locked()

    def _close_intake(self) -> None:
        with self._lock:
            self._closed = True
            self._work_ready.notify_all()  # idle workers can exit now
            self._room.notify_all()  # callers waiting for room get QueueClosed's answer

    def _cancel_leftovers(self, timeout: float | None) -> list[Job]:
        with self._lock:
            self._cancelling = True
            self._stopping.set()
            pending = [job for job in self._live if job not in self._running]
            for lane in self._lanes.values():
                lane.pending.clear()
            self._thread_pending.clear()
            self._held.clear()
            running = list(self._running)
            lanes = list(self._lanes.values())
        for job in pending:
            timer, job._timer = job._timer, None
            if timer is not None:
                timer.cancel()
            self._finish(job, CANCELLED)
        with self._lock:
            self._notify_if_idle_locked()
        coroutines = [job for job in running if job.kind == COROUTINE]
        backing_off = [job for job in running if job.kind == THREAD and job.status == RETRYING]
        threads = [job for job in running if job.kind == THREAD and job.status != RETRYING]
        for lane in lanes:
            tasks = [job._task for job in coroutines if job._lane is lane and job._task is not None]
            if tasks:
                self._cancel_tasks_on(lane, tasks)
        logger.warning(
            "queue %r shutting down with work left after %ss: cancelled %d pending job(s) [%s] and "
            "%d running coroutine job(s) [%s]; %d thread job(s) still running [%s] (threads cannot be cancelled)",
            self.name,
            timeout,
            len(pending) + len(backing_off),
            labels(pending + backing_off),
            len(coroutines),
            labels(coroutines),
            len(threads),
            labels(threads),
        )
        return pending + backing_off + coroutines

    def _cancel_tasks_on(self, lane: Any, tasks: list) -> None:
        try:
            on_loop = asyncio.get_running_loop() is lane.loop
        except RuntimeError:  # called from a thread without a loop
            on_loop = False
        if on_loop:
            _cancel_tasks(tasks)
            return
        try:
            lane.loop.call_soon_threadsafe(_cancel_tasks, tasks)
        except RuntimeError:  # the loop closed meanwhile; _abandon_closed_loops settles its jobs
            self._abandon_closed_loops()

    def _report_leftovers(self, requested: list[Job], grace: float) -> ShutdownReport:
        with self._lock:
            still = list(self._running)
        if still:
            stubborn = [job for job in still if job.kind == COROUTINE]
            threads = [job for job in still if job.kind == THREAD]
            logger.error(
                "queue %r: %ss after cancelling, %d coroutine job(s) ignored cancellation [%s] and "
                "%d thread job(s) are still running [%s] (threads cannot be cancelled); shutdown returns without them",
                self.name,
                grace,
                len(stubborn),
                labels(stubborn),
                len(threads),
                labels(threads),
            )
        cancelled = tuple(job for job in requested if job.status == CANCELLED)
        return ShutdownReport(cancelled=cancelled, still_running=tuple(still))


def _cancel_tasks(tasks: list) -> None:
    for task in tasks:
        task.cancel()


def labels(jobs: Iterable[Job], limit: int = 20) -> str:
    """Name the jobs in a log line, up to `limit` of them, so a big backlog stays readable."""
    names = [job.label for job in jobs]
    shown = ", ".join(names[:limit])
    return f"{shown} and {len(names) - limit} more" if len(names) > limit else shown


def _shutdown_open_queues() -> None:
    """Give every queue with work left its `close_timeout` to finish at interpreter exit.

    Runs after non-daemon threads were joined; the queue's worker threads are daemons, so
    this bounded wait is what lets pending thread jobs finish before the process ends.
    """
    for queue in list(open_queues):
        with queue._lock:
            busy = not queue._is_idle_locked()
        if not busy:
            continue
        try:
            queue.shutdown(queue.close_timeout, grace=EXIT_GRACE)
        except RuntimeError as error:  # e.g. exit triggered from inside its event loop
            logger.error("queue %r could not drain at exit: %s", queue.name, error)


atexit.register(_shutdown_open_queues)
