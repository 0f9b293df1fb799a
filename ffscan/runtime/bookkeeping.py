"""Bookkeeping: each job's status changes, counters, dedup keys, history, events and stats."""

from __future__ import annotations

import collections
import logging
import time
from typing import Any

from .job import (
    COROUTINE,
    DROPPED,
    FAILED,
    FINAL_STATUSES,
    RETRYING,
    RUNNING,
    SUCCEEDED,
    Job,
    describe_error,
)
from .stats import FailureRecord, QueueStats

logger = logging.getLogger("ffscan.runtime")
HISTORY = 1000  # finished jobs kept for status(job_id) and retry_failed()


def log_job_failure(job: Job, error: BaseException) -> None:
    """Log a job's final failure or drop; the default `on_error`."""
    if job.status == DROPPED:
        logger.error("job %s dropped by queue %r: %s", job.label, job.queue_name, error)
        return
    logger.error(
        "job %s on queue %r failed after %d attempt(s): %r",
        job.label,
        job.queue_name,
        job.attempts,
        error,
        exc_info=(type(error), error, error.__traceback__),
    )


class Bookkeeping:
    """Status, counters and visibility; TrackedQueue mixes this in."""

    def stats(self) -> QueueStats:
        """Return a snapshot of the queue's counters and recent failures."""
        with self._lock:
            statuses = collections.Counter(job.status for job in self._running)
            return QueueStats(
                name=self.name,
                pending=self._waiting,
                running=len(self._running) - statuses[RETRYING],
                retrying=statuses[RETRYING],
                succeeded=self._counts[SUCCEEDED],
                failed=self._counts[FAILED],
                retried=self._counts["retried"],
                dropped=self._counts[DROPPED],
                cancelled=self._counts["cancelled"],
                recent_failures=tuple(self._recent),
            )

    def get(self, job_id: str) -> Job | None:
        """Return the job with this id if it is live or among the last finished ones, else None."""
        with self._lock:
            for job in self._live:
                if job.id == job_id:
                    return job
            for job in reversed(self._history):
                if job.id == job_id:
                    return job
        return None

    def status(self, job_id: str) -> str | None:
        """Return the status of a job by id: from memory, else from the journal; None if unknown."""
        job = self.get(job_id)
        if job is not None:
            return job.status
        if self.journal is not None:
            row = self.journal.row(job_id)
            if row is not None:
                return row["status"]
        return None

    def retry_failed(self) -> list[Job]:
        """Run every failed job still in this queue's history again, under its old id.

        Jobs made from a coroutine object (`spawn_coro`) cannot run twice and are skipped.
        Coroutine jobs need a running event loop in this thread.
        """
        with self._lock:
            failed = [job for job in self._history if job.status == FAILED and job.fn is not None]
            self._history = collections.deque(
                (job for job in self._history if job not in failed), maxlen=HISTORY
            )
        again = []
        for old in failed:
            retry = self._spawn if old.kind == COROUTINE else None
            if retry is not None:
                from .intake import (
                    _running_loop_or_explain,  # one helper for the error text
                )

                loop = _running_loop_or_explain("retry_failed() of coroutine jobs")
                job = self._spawn(loop, old.fn, old.args, old.kwargs, old.key, old.priority, _options_of(old), job_id=old.id)
            else:
                job = self._submit(old.fn, old.args, old.kwargs, old.key, old.priority, _options_of(old), job_id=old.id)
            logger.info("job %s on queue %r: failed job re-run by retry_failed()", job.label, self.name)
            again.append(job)
        return again

    # -- keys -----------------------------------------------------------------------------

    def _existing_for_key_locked(self, key: Any) -> Job | None:
        existing = self._by_key.get(key)
        if existing is None:
            return None
        if existing.done():
            until = self._key_until.get(key)
            if until is None or self.clock.now() >= until:
                del self._by_key[key]
                self._key_until.pop(key, None)
                return None
        return existing

    def _hold_key_locked(self, job: Job) -> None:
        self._by_key[job.key] = job
        if job.unique_for:
            self._key_until[job.key] = self.clock.now() + job.unique_for
        else:
            self._key_until.pop(job.key, None)

    # -- status changes -------------------------------------------------------------------

    def _begin_attempt(self, job: Job) -> None:
        if job.attempts:
            with self._lock:
                self._counts["retried"] += 1
                job.attempts += 1
                job.status = RUNNING
        else:  # the first attempt: nothing shared changes, so no lock
            job.attempts = 1
            job.status = RUNNING
            job.started = time.time()
        if self.journal is not None:
            self.journal.record(job)
        if self.on_event is not None:
            self._emit("started", job)

    def _before_retry(self, job: Job, error: BaseException) -> float:
        delay = self.backoff.delay(job.attempts, self._rng)
        with self._lock:
            job.status = RETRYING
            job.last_error = error
        self._record(job)
        logger.info(
            "job %s attempt %d of %d failed with %r; retrying in %.3fs",
            job.label,
            job.attempts,
            job.retries + 1,
            error,
            delay,
        )
        self._emit("retrying", job)
        return delay

    def _finish(self, job: Job, status: str, value: Any = None, error: BaseException | None = None) -> None:
        """Settle a job once: record it, report a failure, free its key and slot, wake its awaiters."""
        failure = status == FAILED or status == DROPPED
        early = failure or self.on_event is not None  # report and emit before any awaiter wakes
        if early:
            with self._lock:
                if job.status in FINAL_STATUSES:
                    return
                job._settle(status, error)
                self._counts[status] += 1
                if failure:
                    self._recent.append(FailureRecord(job.label, describe_error(error), job.finished))
            if failure:
                if self.journal is not None:
                    self.journal.record(job)
                self._report(job, error)
            if self.on_event is not None:
                self._emit(status, job)
        starting = None
        with self._lock:
            if not early:
                if job.status in FINAL_STATUSES:
                    return
                job.status = status
                job.finished = time.time()
                self._counts[status] += 1
            # One step, so whoever sees the result also sees the key and the slot free.
            if job.key is not None and self._by_key.get(job.key) is job and job.key not in self._key_until:
                del self._by_key[job.key]
            if job in self._running:
                del self._running[job]
                if job.kind == COROUTINE:
                    self._coroutine_slots -= 1
                    if self._waiting:
                        starting = self._take_startable_locked()
                else:
                    self._busy_workers -= 1
            elif job in self._live:
                self._waiting -= 1  # cancelled or abandoned before it ever started
            if job in self._live:
                del self._live[job]
                self._history.append(job)
            if job._coro is not None:
                coro, job._coro = job._coro, None
                coro.close()  # it never ran; closing avoids a "never awaited" warning
            job._resolve(value, error)
            if self._room_waiters:
                self._room.notify()
            if not self._running and not self._waiting:
                self._notify_idle_locked()
        if not failure and self.journal is not None:
            self.journal.record(job)
        if starting:
            self._start_coroutines(starting)

    def _report(self, job: Job, error: BaseException) -> None:
        try:
            self.on_error(job, error)
        except Exception:  # a broken hook must not hide the failure it was given: log both
            logger.exception("on_error hook of queue %r failed for job %s", self.name, job.label)
            log_job_failure(job, error)

    def _record(self, job: Job) -> None:
        if self.journal is not None:
            self.journal.record(job)

    def _emit(self, event: str, job: Job) -> None:
        hook = self.on_event
        if hook is None:
            return
        try:
            hook(event, job)
        except Exception:  # a metrics exporter must never break the job it counts: log and go on
            logger.exception("on_event hook of queue %r failed on %r for job %s", self.name, event, job.label)

    def _flush_events(self) -> None:
        """Emit the events noted while the lock was held (a hook may spawn, so never under it)."""
        with self._lock:
            noted, self._emit_later = self._emit_later, []
        for event, job in noted:
            self._emit(event, job)

    def _is_idle_locked(self) -> bool:
        return not self._running and not self._waiting

    def _notify_if_idle_locked(self) -> None:
        if not self._running and not self._waiting:
            self._notify_idle_locked()

    def _notify_idle_locked(self) -> None:
        if self._idle_sync_waiters:
            self._idle.notify_all()
        waiters, self._idle_waiters = self._idle_waiters, []
        for loop, waiter in waiters:
            try:
                loop.call_soon_threadsafe(_set_idle, waiter)
            except RuntimeError:  # that loop has closed; nobody there is waiting any more
                pass


def _set_idle(waiter: Any) -> None:
    if not waiter.done():
        waiter.set_result(True)


def _options_of(job: Job) -> Any:
    from .options import JobOptions  # the job's own settings, for a re-run

    return JobOptions(retries=job.retries, retry_on=job.retry_on, timeout=job.timeout, rate_key=job.rate_key)
