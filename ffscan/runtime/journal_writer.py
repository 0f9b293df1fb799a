"""The journal's writer thread: records are buffered in memory and committed in batches.

`record()` is a deque append (no lock, no I/O), so a journaled job costs the event loop
almost nothing, and a job already in the buffer is not added again: the writer reads each
job's latest state when it writes it. The thread wakes on the first record after a quiet
spell, waits `batch_interval` seconds for more (a job that ends within it is written once,
in its final state), and commits everything buffered in one transaction, each job once;
records that arrive while it writes form the next batch, so batches grow with the load. It also renews
the owner's lease. The buffer holds at most one entry per job and is bounded: past
`max_buffered` jobs waiting (the disk, or another process's write lock, held the writer up
that long) new records are dropped, counted in `write_errors` and logged once, and the
jobs themselves carry on.
"""

from __future__ import annotations

import collections
import logging
import sqlite3
import threading
import time
from typing import Any

logger = logging.getLogger("ffscan.runtime")


class _Flush:
    __slots__ = ("done",)

    def __init__(self) -> None:
        self.done = threading.Event()


class JournalWriter:
    def __init__(self, journal: Any, *, batch_interval: float, max_buffered: int) -> None:
        self.journal = journal
        self.batch_interval = batch_interval
        self.max_buffered = max_buffered
        self.write_errors = 0
        self.rows_written = 0  # row writes committed (a job changed twice between batches counts once)
        self._buffer: collections.deque[Any] = collections.deque()
        self._wake = threading.Event()
        self._signalled = False
        self._closed = False
        self._overflowing = False
        self._thread = threading.Thread(target=self._run, name=f"ffscan-journal-{journal.owner}", daemon=True)
        self._thread.start()

    def record(self, job: Any) -> None:
        if self._closed:
            self._failed(1, f"cannot record job {job.label}: the journal is closed", exc_info=False)
            return
        if job._journaled:
            return  # already waiting in the buffer: the writer reads its latest state
        if len(self._buffer) >= self.max_buffered:
            if not self._overflowing:
                self._overflowing = True
                logger.error(
                    "journal %s: %d records wait to be written; dropping records until the writer catches up",
                    self.journal.path,
                    len(self._buffer),
                )
            self.write_errors += 1
            return
        job._journaled = True
        self._buffer.append(job)
        if not self._signalled:
            self._signalled = True
            self._wake.set()

    def flush(self, timeout: float | None) -> bool:
        if self._closed or not self._thread.is_alive():
            return True
        marker = _Flush()
        self._buffer.append(marker)
        self._signalled = True
        self._wake.set()
        return marker.done.wait(timeout)

    def stop(self) -> None:
        if self._closed:
            return
        self.flush(None)
        self._closed = True
        self._wake.set()
        self._thread.join(30)

    def _run(self) -> None:
        heartbeat_every = self.journal.lease / 3
        next_heartbeat = time.monotonic() + heartbeat_every
        while not self._closed:
            self._wake.wait(max(0.0, next_heartbeat - time.monotonic()))
            self._wake.clear()
            self._signalled = False
            if self._buffer and self.batch_interval:
                time.sleep(self.batch_interval)  # let a burst gather into one transaction
            self._write_buffered()
            if time.monotonic() >= next_heartbeat:
                next_heartbeat = time.monotonic() + heartbeat_every
                try:
                    self.journal._heartbeat()
                except sqlite3.Error as error:  # a missed heartbeat only shortens the lease: log it
                    logger.warning("journal %s: cannot renew the lease: %s", self.journal.path, error)
        self._write_buffered()

    def _write_buffered(self) -> None:
        buffer = self._buffer
        while buffer:
            batch: dict[str, Any] = {}
            markers = []
            while buffer:
                item = buffer.popleft()
                if isinstance(item, _Flush):
                    markers.append(item)
                    break  # commit what came before the marker, then release its waiter
                item._journaled = False  # before its state is read: a later change queues it again
                batch[item.id] = item
            if batch:
                try:
                    self.journal._write_batch(list(batch.values()))
                    self.rows_written += len(batch)
                except sqlite3.Error as error:  # the journal is a record, not the work: log it and go on
                    self._failed(len(batch), f"cannot record {len(batch)} job(s): {error}", exc_info=True)
            self._overflowing = False
            for marker in markers:
                marker.done.set()

    def _failed(self, count: int, message: str, exc_info: bool) -> None:
        first = self.write_errors == 0
        self.write_errors += count
        if first:  # the first failure in full; the rest at debug level, counted
            logger.error("journal %s: %s", self.journal.path, message, exc_info=exc_info)
        else:
            logger.debug("journal %s: %s", self.journal.path, message)
