"""Admission: take a job in, or refuse it; dedup by key, wait for room, hold delayed jobs.

A new job takes the fast path when nothing waits ahead of it on its loop and a slot is
free; otherwise it joins its lane's heap (or the thread heap), is held for its delay, or,
with the queue full, makes a blocking caller wait up to enqueue_timeout, then raises or
drops as `overflow` says. A caller on an event loop is never made to wait.
"""

from __future__ import annotations

import asyncio
import heapq
import logging
from contextvars import copy_context
from logging import DEBUG

from .errors import QueueClosed, QueueFull
from .job import COROUTINE, DROPPED, Job

logger = logging.getLogger("ffscan.runtime")
_is_enabled_for = logger.isEnabledFor


class Admission:
    """Accepting and refusing jobs; TrackedQueue mixes this in."""

    def _accept(self, job: Job, loop: asyncio.AbstractEventLoop | None) -> Job:
        if loop is not None and job.key is None and not job.delay and job.rate_key is None and self._limiter is None:
            # The fast path: one loop, nothing waiting, a free slot. Same steps, fewer checks.
            lane = self._lanes.get(loop)
            if lane is not None and not self._lanes_may_be_closed and len(self._lanes) == 1:
                with self._lock:
                    fast = not self._closed and not lane.pending and self._coroutine_slots < self.max_concurrency
                    if fast:
                        job._lane = lane
                        job._loop = loop
                        lane.paused = False
                        self._coroutine_slots += 1
                        self._running[job] = None
                        self._live[job] = None
                        if self.journal is not None:
                            self.journal.record(job)
                if fast:
                    if self.on_event is not None or _is_enabled_for(DEBUG):
                        self._announce(job)
                    self._create_task(lane, job)  # in the caller's context: the task copies it
                    return job
        if self._lanes_may_be_closed or (loop is not None and self._lanes and loop not in self._lanes):
            self._abandon_closed_loops()  # a loop that ended may have left jobs behind
        if job.context is None:
            job.context = copy_context()  # it may start later, elsewhere: copy the caller's now
        with self._lock:
            if self._closed:
                close_unstarted(job)
                raise QueueClosed(f"queue {self.name!r} is shut down; {job.name} was not accepted")
            if job.key is not None:
                existing = self._existing_for_key_locked(job.key)
                if existing is not None:
                    close_unstarted(job)
                    duplicate = existing
                else:
                    duplicate = None
            else:
                duplicate = None
            if duplicate is None:
                if loop is not None:
                    lane = self._lanes.get(loop)
                    job._lane = lane if lane is not None else self._lane_locked(loop)
                    job._loop = loop
                full = self._waiting >= self.max_pending and not self._starts_now_locked(job)
                if full and not self._wait_for_room_locked(job):
                    refused = True
                else:
                    refused = False
                    starting, add_worker = self._admit_locked(job)
        if duplicate is not None:
            self._emit("deduplicated", duplicate)
            return duplicate
        if refused:
            return self._refuse(job)
        if self._emit_later:
            self._flush_events()  # e.g. "rate_limited", noted under the lock
        if self.on_event is not None or _is_enabled_for(DEBUG):
            self._announce(job)
        if starting:
            if starting is job:  # the fast path: it starts here, on this loop, now
                self._create_task(job._lane, job)
            else:
                self._start_coroutines(starting)
        elif add_worker:
            self._start_worker_thread()
        return job

    def _admit_locked(self, job: Job) -> tuple:
        """Take the job in; return (coroutine jobs to start, whether to add a worker thread)."""
        if job.key is not None:
            self._hold_key_locked(job)
        self._live[job] = None
        if self.journal is not None:
            self.journal.record(job)  # before any worker can pick it up and record "running"
        if job.delay:
            self._waiting += 1
            job._timer = self.clock.call_later(job.delay, lambda: self._release_delayed(job))
            return (), False
        if job.kind == COROUTINE:
            lane = job._lane
            if (
                not lane.pending
                and self._coroutine_slots < self.max_concurrency
                and self._limiter is None
                and job.rate_key is None
                and len(self._lanes) == 1
            ):
                # Nothing waits ahead of it: skip the heap (the common case, and the fast one).
                lane.paused = False
                self._coroutine_slots += 1
                self._running[job] = None
                return job, False
            self._waiting += 1
            heapq.heappush(lane.pending, (-job.priority, next(self._order), job))
            lane.paused = False
            return self._take_startable_locked(), False
        self._waiting += 1
        heapq.heappush(self._thread_pending, (-job.priority, next(self._order), job))
        return (), self._wake_or_add_worker_locked()

    def _announce(self, job: Job) -> None:
        if _is_enabled_for(DEBUG):
            logger.debug("job %s accepted on queue %r", job.label, self.name)
        if self.on_event is not None:
            self._emit("accepted", job)

    def _wait_for_room_locked(self, job: Job) -> bool:
        """Wait up to enqueue_timeout for a pending slot, unless waiting would block an event loop."""
        if not self.enqueue_timeout or _in_running_loop():
            return False
        deadline = self.clock.now() + self.enqueue_timeout
        self._room_waiters += 1
        try:
            while self._waiting >= self.max_pending and not self._closed:
                left = deadline - self.clock.now()
                if left <= 0 or not self._room.wait(left):
                    return self._waiting < self.max_pending and not self._closed
            return not self._closed
        finally:
            self._room_waiters -= 1

    def _refuse(self, job: Job) -> Job:
        """Raise QueueFull or drop the job, as `overflow` says (the lock is not held)."""
        waited = f" after waiting {self.enqueue_timeout:g}s" if self.enqueue_timeout and not _in_running_loop() else ""
        message = f"queue {self.name!r} already has {self.max_pending} pending jobs{waited}; {job.name} was not accepted"
        if self.overflow == "raise":
            close_unstarted(job)
            raise QueueFull(message)
        self._finish(job, DROPPED, error=QueueFull(message))
        return job

    def _release_delayed(self, job: Job) -> None:
        """A delayed job's moment came: queue it like a new one (runs on the clock's thread)."""
        with self._lock:
            job._timer = None
            if job.status != "pending" or job not in self._live:
                return  # cancelled by shutdown meanwhile
            if job.kind == COROUTINE:
                heapq.heappush(job._lane.pending, (-job.priority, next(self._order), job))
                starting = self._take_startable_locked()
                add_worker = False
            else:
                heapq.heappush(self._thread_pending, (-job.priority, next(self._order), job))
                starting = ()
                add_worker = self._wake_or_add_worker_locked()
        if starting:
            self._start_coroutines(starting)
        elif add_worker:
            self._start_worker_thread()


def _in_running_loop() -> bool:
    try:
        asyncio.get_running_loop()
    except RuntimeError:  # no loop in this thread: a blocking wait stalls no job
        return False
    return True


def close_unstarted(job: Job) -> None:
    """Close a coroutine object that will never run (closing avoids a "never awaited" warning)."""
    if job._coro is not None:
        coro, job._coro = job._coro, None
        coro.close()
