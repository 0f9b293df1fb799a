"""Scheduling: which waiting job gets a slot next, on which loop or thread, and when.

Coroutine jobs wait in a heap per event loop (a "lane"): each job runs on the loop that
spawned it, in the context copied at spawn. Slots are counted for the whole queue, so a job
that frees a slot on one loop may start the next one on another loop, through that loop's
`call_soon_threadsafe`. Jobs over a rate limit are set aside until their window opens.
"""

from __future__ import annotations

import asyncio
import heapq
import logging
import sys
import threading

from .job import CANCELLED, FAILED, Job

logger = logging.getLogger("ffscan.runtime")
TASK_CONTEXT = sys.version_info >= (3, 11)  # create_task(context=...) arrived in 3.11
TASK_CONTEXT_VISIBLE = sys.version_info >= (3, 12)  # Task.get_context() arrived in 3.12


class Lane:
    """One event loop's share of the queue: its waiting jobs, and the ones about to start."""

    __slots__ = ("loop", "pending", "to_start", "starting", "paused")

    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        self.loop = loop
        self.pending: list[tuple[int, int, Job]] = []
        self.to_start: list[Job] = []
        self.starting = False
        self.paused = False  # the loop cancelled our jobs from outside (it is closing)


class Scheduling:
    """Slot accounting and starting; TrackedQueue mixes this in."""

    def _lane_locked(self, loop: asyncio.AbstractEventLoop) -> Lane:
        lane = self._lanes.get(loop)
        if lane is None:
            lane = self._lanes[loop] = Lane(loop)
            if len(self._lanes) > 1:
                self._lanes_may_be_closed = True  # check for closed loops on each intake from now on
        return lane

    def _starts_now_locked(self, job: Job) -> bool:
        """Return True if the job would get a slot at once, so it never counts as waiting."""
        if job.delay or job.rate_key is not None or self._limiter is not None:
            return False
        if job.kind == "async":
            lane = job._lane
            return not lane.paused and not lane.pending and self._coroutine_slots < self.max_concurrency
        return self._busy_workers + len(self._thread_pending) < self.max_concurrency

    def _take_startable_locked(self) -> list[Job]:
        """Pop coroutine jobs into free slots, best priority first across lanes."""
        starting: list[Job] = []
        if len(self._lanes) == 1 and self._limiter is None and self._key_limiter is None:
            # One loop and no rate limit (the common case): pop its heap straight into the slots.
            for lane in self._lanes.values():
                pending = lane.pending
                while pending and not lane.paused and self._coroutine_slots < self.max_concurrency:
                    job = heapq.heappop(pending)[2]
                    self._waiting -= 1
                    self._coroutine_slots += 1
                    self._running[job] = None
                    starting.append(job)
            return starting
        while self._coroutine_slots < self.max_concurrency:
            best = None
            for lane in self._lanes.values():
                if lane.pending and not lane.paused and (best is None or lane.pending[0] < best.pending[0]):
                    best = lane
            if best is None:
                break
            job = heapq.heappop(best.pending)[2]
            self._waiting -= 1
            if not self._may_start_locked(job):
                continue  # set aside until its rate window opens
            self._coroutine_slots += 1
            self._running[job] = None
            starting.append(job)
        return starting

    def _may_start_locked(self, job: Job) -> bool:
        """Apply the rate limits: True if the job may start now, else hold it and set a timer."""
        if self._limiter is None and job.rate_key is None:
            return True
        now = self.clock.now()
        wait = self._key_limiter.wait(job.rate_key, now) if job.rate_key is not None else 0.0
        if self._limiter is not None:
            wait = max(wait, self._limiter.wait(None, now))
        if not wait:
            if job.rate_key is not None:
                self._key_limiter.record(job.rate_key, now)
            if self._limiter is not None:
                self._limiter.record(None, now)
            return True
        self._waiting += 1
        self._held.append(job)
        self._emit_later.append(("rate_limited", job))
        if self._held_timer is None or self._held_due > now + wait:
            if self._held_timer is not None:
                self._held_timer.cancel()
            self._held_due = now + wait
            self._held_timer = self.clock.call_later(wait, self._release_held)
        return False

    def _release_held(self) -> None:
        """A rate window opened: put the held jobs back in line (runs on the clock's thread)."""
        with self._lock:
            self._held_timer = None
            held, self._held = self._held, []
            threads = False
            for job in held:
                self._waiting -= 1
                if job.status != "pending" or job not in self._live:
                    continue  # cancelled by shutdown meanwhile
                self._waiting += 1
                if job.kind == "async":
                    heapq.heappush(job._lane.pending, (-job.priority, next(self._order), job))
                else:
                    heapq.heappush(self._thread_pending, (-job.priority, next(self._order), job))
                    threads = True
            starting = self._take_startable_locked()
            add_worker = self._wake_or_add_worker_locked() if threads else False
        self._flush_events()
        self._start_coroutines(starting)
        if add_worker:
            self._start_worker_thread()

    def _start_coroutines(self, jobs: list[Job]) -> None:
        """Start each job as a task on its own loop: here if it is this thread's, else by message."""
        try:
            running = asyncio.get_running_loop()
        except RuntimeError:  # a worker or timer thread: every start goes by message
            running = None
        if len(jobs) == 1 and not self._emit_later:
            job = jobs[0]
            lane = job._lane
            if lane.loop is running:  # the common case: one slot freed, one job starts here
                lane.to_start.append(job)
                self._drain_lane(lane)
                return
        elsewhere: dict[Lane, list[Job]] = {}
        for job in jobs:
            lane = job._lane
            if lane.loop is running:
                lane.to_start.append(job)
            else:
                elsewhere.setdefault(lane, []).append(job)
        if self._emit_later:
            self._flush_events()
        for lane, batch in elsewhere.items():
            try:
                lane.loop.call_soon_threadsafe(self._start_on_lane, lane, batch)
            except RuntimeError:  # that loop closed: its jobs can never start
                for job in batch:
                    self._finish(job, CANCELLED)
        if running is not None:
            lane = self._lanes.get(running)
            if lane is not None and lane.to_start:
                self._drain_lane(lane)

    def _start_on_lane(self, lane: Lane, jobs: list[Job]) -> None:
        lane.to_start.extend(jobs)
        self._drain_lane(lane)

    def _drain_lane(self, lane: Lane) -> None:
        # With an eager task factory (3.12+), create_task may run a job to its end, whose
        # cleanup starts the next job from inside this loop; queue those instead of recursing.
        if lane.starting:
            return
        lane.starting = True
        to_start = lane.to_start
        try:
            while to_start:
                batch = to_start[:]
                to_start.clear()
                for job in batch:
                    self._create_task(lane, job)
        finally:
            lane.starting = False

    def _create_task(self, lane: Lane, job: Job) -> None:
        """Start the job as a task on its lane's loop (this thread's), in the job's own context."""
        try:
            if job.context is None:  # started at once, from the spawning code: the task copies its context
                task = lane.loop.create_task(self._run_coroutine(job))
                if TASK_CONTEXT_VISIBLE:
                    job.context = task.get_context()
            elif TASK_CONTEXT:
                task = lane.loop.create_task(self._run_coroutine(job), context=job.context)
            else:
                task = job.context.run(lane.loop.create_task, self._run_coroutine(job))
        except RuntimeError as error:  # the loop closed under us: the job cannot start
            logger.error("job %s could not start: %s", job.label, error)
            self._finish(job, CANCELLED)
            return
        if not task.done():
            job._task = task  # for shutdown to cancel; the loop itself holds tasks only weakly

    def _wake_or_add_worker_locked(self) -> bool:
        """Hand new thread work to an idle worker; return True if another worker is needed."""
        self._work_ready.notify()
        if self._workers < self.max_concurrency and len(self._thread_pending) > self._idle_workers:
            self._workers += 1
            return True
        return False

    def _start_worker_thread(self) -> None:
        # Daemon, so a stuck job cannot keep the process alive past the bounded exit drain.
        worker = threading.Thread(target=self._work_in_thread, name=f"ffscan-{self.name}", daemon=True)
        try:
            worker.start()
        except RuntimeError as error:  # out of threads, or the interpreter is exiting
            with self._lock:
                self._workers -= 1
                stranded = [] if self._workers else [entry[2] for entry in self._thread_pending]
                if stranded:
                    self._thread_pending.clear()
                    self._waiting -= len(stranded)
            logger.error("queue %r cannot start a worker thread: %s", self.name, error)
            for job in stranded:
                self._finish(job, FAILED, error=error)
            with self._lock:
                self._notify_if_idle_locked()
