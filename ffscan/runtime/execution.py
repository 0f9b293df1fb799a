"""Execution: run each attempt of a job, time it out, and decide whether to retry.

A coroutine job is one task for all its attempts, created in the context copied at spawn,
so every attempt sees the same context variables. A thread job runs each attempt with
`context.run` on a worker thread. A coroutine attempt past its `timeout` is cancelled and
counts as a `JobTimeout` failure; a thread cannot be stopped, so a late thread job is
reported and keeps its slot until it returns.
"""

from __future__ import annotations

import asyncio
import heapq
import inspect
import logging
import sys
from time import time
from types import CoroutineType
from typing import Any

from .errors import JobTimeout, NotAwaitable, SkipRetry
from .job import CANCELLED, FAILED, RUNNING, SUCCEEDED, THREAD, Job

logger = logging.getLogger("ffscan.runtime")
WORKER_IDLE_SECONDS = 2.0  # an idle worker thread waits this long for work, then exits
UNCANCEL = sys.version_info >= (3, 11)  # Task.uncancel() keeps asyncio.timeout() and TaskGroup right


class Execution:
    """The attempt loops for both kinds of job; TrackedQueue mixes this in."""

    async def _run_coroutine(self, job: Job) -> None:
        try:
            while True:
                if job.attempts or self.journal is not None or self.on_event is not None:
                    self._begin_attempt(job)
                else:  # the first attempt, unobserved: the same steps, without the call
                    job.attempts = 1
                    job.status = RUNNING
                    job.started = time()
                expired = self._arm_timeout(job) if job.timeout is not None else None
                try:
                    if job._coro is not None:
                        coro, job._coro = job._coro, None
                        value = await coro
                    else:
                        result = job.fn(*job.args, **job.kwargs)
                        if result.__class__ is not CoroutineType and not inspect.isawaitable(result):
                            raise NotAwaitable(
                                f"{job.name} returned {type(result).__name__}, not an awaitable; "
                                "use submit() for blocking functions"
                            )
                        value = await result
                except asyncio.CancelledError:
                    if expired is None or not expired:
                        raise  # a real cancellation, not our timeout
                    if UNCANCEL:
                        asyncio.current_task().uncancel()
                    error: BaseException = self._timed_out(job)
                except Exception as failure:  # any ordinary failure may be retried
                    error = failure
                else:
                    if expired is not None:
                        self._disarm(job)
                    self._finish(job, SUCCEEDED, value)
                    return
                if expired is not None:
                    self._disarm(job)
                if not self._may_retry(job, error):
                    self._finish(job, FAILED, error=error)
                    return
                await asyncio.sleep(self._before_retry(job, error))
        except asyncio.CancelledError:  # from our shutdown, from asyncio.run() closing, or the job's own
            self._disarm(job)
            self._note_outside_cancel(job)
            self._finish(job, CANCELLED)
            raise
        except GeneratorExit:  # the task was destroyed unfinished (its loop was closed)
            self._finish(job, CANCELLED)
            raise
        except BaseException as error:  # KeyboardInterrupt, SystemExit: record, then let them stop the loop
            self._finish(job, FAILED, error=error)
            raise
        finally:
            job._task = None

    def _arm_timeout(self, job: Job) -> list:
        """Cancel this attempt when its timeout passes; the returned cell becomes truthy if it did."""
        expired: list = []
        loop = job._loop
        task = asyncio.current_task()
        attempt = job.attempts

        def expire() -> None:
            if job.attempts == attempt and not task.done():
                expired.append(True)
                task.cancel()

        job._timer = self.clock.call_later(job.timeout, lambda: _call_soon(loop, expire))
        return expired

    def _timed_out(self, job: Job) -> JobTimeout:
        job.timed_out = True
        self._emit("timed_out", job)
        return JobTimeout(f"{job.label} ran past its timeout of {job.timeout:g}s and was cancelled")

    def _disarm(self, job: Job) -> None:
        timer, job._timer = job._timer, None
        if timer is not None:
            timer.cancel()

    def _may_retry(self, job: Job, error: BaseException) -> bool:
        return (
            job.attempts <= job.retries
            and not self._stopping.is_set()
            and isinstance(error, job.retry_on)
            and not isinstance(error, (NotAwaitable, SkipRetry))
        )

    def _note_outside_cancel(self, job: Job) -> None:
        with self._lock:
            if self._cancelling:
                return
            # Most often asyncio.run() cancelling leftover tasks as it closes the loop:
            # starting more jobs there would only have them destroyed half-way.
            job._lane.paused = True
        logger.warning(
            "job %s was cancelled from outside queue %r (is its event loop closing? await "
            "queue.drain() before it ends); pending coroutine jobs wait for the next spawn() or drain()",
            job.label,
            self.name,
        )

    # -- thread jobs ----------------------------------------------------------------------

    def _work_in_thread(self) -> None:
        """Run thread jobs, highest priority first, until idle for WORKER_IDLE_SECONDS."""
        with self._lock:
            try:
                while True:
                    heap = self._thread_pending
                    if heap:
                        job = heapq.heappop(heap)[2]
                        self._waiting -= 1
                        limited = self._limiter is not None or job.rate_key is not None
                        if limited and not self._may_start_locked(job):
                            self._lock.release()
                            try:
                                self._flush_events()  # "rate_limited", never emitted under the lock
                            finally:
                                self._lock.acquire()
                            continue
                        self._running[job] = None
                        self._busy_workers += 1
                        self._lock.release()
                        try:
                            if self._emit_later:
                                self._flush_events()
                            self._attempt_in_thread(job)  # ends in _finish, which frees the slot
                        finally:
                            self._lock.acquire()
                        continue
                    if self._closed:
                        return  # no more work can arrive
                    self._idle_workers += 1
                    notified = self._work_ready.wait(WORKER_IDLE_SECONDS)
                    self._idle_workers -= 1
                    if not notified and not self._thread_pending:
                        return
            finally:
                self._workers -= 1

    def _attempt_in_thread(self, job: Job) -> None:
        while True:
            self._begin_attempt(job)
            if job.timeout:
                job._timer = self.clock.call_later(job.timeout, lambda attempt=job.attempts: self._late_thread(job, attempt))
            try:
                value = job.context.run(job.fn, *job.args, **job.kwargs)
            except Exception as error:  # any ordinary failure may be retried
                if job._timer is not None:
                    self._disarm(job)
                if not self._may_retry(job, error):
                    self._finish(job, FAILED, error=error)
                    return
                if self._stopping.wait(self._before_retry(job, error)):
                    self._finish(job, CANCELLED)  # shutdown ended the backoff
                    return
            except BaseException as error:  # KeyboardInterrupt/SystemExit raised by the job itself
                self._disarm(job)
                self._finish(job, FAILED, error=error)  # re-raising would only end this worker
                return
            else:
                if job._timer is not None:
                    self._disarm(job)
                self._finish(job, SUCCEEDED, value)
                return

    def _late_thread(self, job: Job, attempt: int) -> None:
        if job.attempts != attempt or job.done() or job.kind != THREAD:
            return
        job.timed_out = True
        logger.warning(
            "job %s on queue %r has run past its timeout of %gs; a thread cannot be stopped, so it "
            "keeps running and holds its slot until it returns",
            job.label,
            self.name,
            job.timeout,
        )
        self._emit("timed_out", job)


def _call_soon(loop: asyncio.AbstractEventLoop, callback: Any) -> None:
    try:
        loop.call_soon_threadsafe(callback)
    except RuntimeError:  # the loop has closed; its jobs are settled when the queue notices
        pass
