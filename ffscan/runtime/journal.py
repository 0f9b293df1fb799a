"""A SQLite record of every job: status after the fact, and replay after a crash.

One row per job, rewritten as its status changes. `record()` never touches the database:
it appends the job to an in-memory buffer that one writer thread commits in batches (a
job that changed several times between two batches is written once), so neither the
event loop nor a worker thread ever waits on the disk or on another process's write lock.

Several processes may share one file. Each journal is an *owner* with an id and a lease
that its writer thread renews (a heartbeat); opening a journal marks as `interrupted` only
the unfinished rows of owners that are gone: closed, past their lease, or (on this host)
whose process no longer exists. `replay()` claims such rows one by one, so two processes
never replay the same job. Replay means a job can run twice (it may have done its work
just before the crash), so replayed jobs must be idempotent.
"""

from __future__ import annotations

import json
import logging
import os
import socket
import sqlite3
import threading
import time
from typing import TYPE_CHECKING, Any

from .job import Job, new_job_id
from .journal_rows import (  # noqa: F401  (the public readers)
    COLUMNS,
    INTERRUPTED,
    UNFINISHED,
    key_from_json,
    public_row,
    read_journal,
    row_of,
    summarize,
)
from .journal_writer import JournalWriter

if TYPE_CHECKING:
    from .queue import TrackedQueue

logger = logging.getLogger("ffscan.runtime")

SCHEMA_VERSION = 2  # 2 added owners and jobs.owner
DEFAULT_LEASE = 30.0  # seconds an owner stays alive without a heartbeat
HOST = socket.gethostname()

_SCHEMA = """
CREATE TABLE IF NOT EXISTS jobs (
    id TEXT PRIMARY KEY,
    queue TEXT NOT NULL,
    name TEXT NOT NULL,
    kind TEXT NOT NULL,
    job_key TEXT,
    priority INTEGER NOT NULL DEFAULT 0,
    payload TEXT,
    replay_args TEXT,
    status TEXT NOT NULL,
    attempts INTEGER NOT NULL DEFAULT 0,
    last_error TEXT,
    created REAL NOT NULL,
    started REAL,
    finished REAL
);
CREATE INDEX IF NOT EXISTS jobs_by_status ON jobs (status);
CREATE TABLE IF NOT EXISTS owners (
    owner TEXT PRIMARY KEY,
    host TEXT NOT NULL,
    pid INTEGER NOT NULL,
    started REAL NOT NULL,
    heartbeat REAL NOT NULL,
    lease REAL NOT NULL,
    closed INTEGER NOT NULL DEFAULT 0
);
"""
_SELECT = f"SELECT {', '.join(COLUMNS)} FROM jobs ORDER BY created, id"


class SQLiteJournal:
    """Record jobs in a SQLite file (WAL mode), off the calling thread; safe to share.

    Pass it as `TrackedQueue(journal=SQLiteJournal(path))`. `lease` is how long this
    process's rows count as live without a heartbeat (renewed every lease / 3 seconds).
    """

    def __init__(
        self,
        path: str | os.PathLike[str],
        *,
        lease: float = DEFAULT_LEASE,
        batch_interval: float = 0.02,
        max_buffered: int = 200_000,
    ) -> None:
        if lease <= 0:
            raise ValueError("lease must be a positive number of seconds")
        self.path = os.fspath(path)
        self.owner = new_job_id()
        self.lease = lease
        self._lock = threading.Lock()  # one connection, used by the writer thread and readers in turn
        self._conn = sqlite3.connect(self.path, timeout=30.0, isolation_level=None, check_same_thread=False)
        with self._lock:
            self._conn.execute("PRAGMA journal_mode=WAL")
            self._conn.execute("PRAGMA synchronous=NORMAL")  # WAL keeps commits through a crash of the process
            version = self._conn.execute("PRAGMA user_version").fetchone()[0]
            if version > SCHEMA_VERSION:
                self._conn.close()
                raise ValueError(f"{self.path} was written by a newer ffscan (journal schema {version})")
            self._conn.executescript(_SCHEMA)
            if "owner" not in {row[1] for row in self._conn.execute("PRAGMA table_info(jobs)")}:
                self._conn.execute("ALTER TABLE jobs ADD COLUMN owner TEXT")  # schema 1 -> 2
            self._conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")
            now = time.time()
            self._conn.execute(
                "INSERT INTO owners (owner, host, pid, started, heartbeat, lease) VALUES (?, ?, ?, ?, ?, ?)",
                (self.owner, HOST, os.getpid(), now, now, lease),
            )
            self.interrupted_on_open = self._mark_expired_locked()
        self._writer = JournalWriter(self, batch_interval=batch_interval, max_buffered=max_buffered)

    @property
    def write_errors(self) -> int:
        """Rows that could not be written (logged; the jobs ran anyway)."""
        return self._writer.write_errors

    def record(self, job: Job) -> None:
        """Queue the job's current state for the writer thread; never blocks, never raises into the job."""
        self._writer.record(job)

    def flush(self, timeout: float | None = 30.0) -> bool:
        """Wait until every change recorded so far is committed; False if `timeout` ran out."""
        return self._writer.flush(timeout)

    def mark_expired(self) -> int:
        """Mark unfinished rows of owners that are gone as interrupted; return how many."""
        with self._lock:
            return self._mark_expired_locked()

    def rows(self) -> list[dict[str, Any]]:
        """Return every recorded job as a dict, oldest first (after writing what is buffered)."""
        self.flush()
        with self._lock:
            return [public_row(row) for row in self._conn.execute(_SELECT).fetchall()]

    def row(self, job_id: str) -> dict[str, Any] | None:
        """Return one job's row by id, or None."""
        self.flush()
        with self._lock:
            found = self._conn.execute(f"SELECT {', '.join(COLUMNS)} FROM jobs WHERE id = ?", (job_id,)).fetchone()
        return public_row(found) if found else None

    def replay(self, queue: TrackedQueue, *, statuses: tuple[str, ...] = (INTERRUPTED,)) -> list[Job]:
        """Run interrupted jobs again on `queue`, under their old ids; return the new jobs.

        Only jobs spawned through a name registered on `queue` (`@queue.job(name)`,
        `queue.register(name, fn)` or `@job(name)`) with JSON-serialisable arguments are
        replayed: they run at least once, so they must be idempotent. Each row is claimed
        before it runs, so a job is replayed by one process only. `statuses=("failed",)`
        re-runs failed jobs instead. Coroutine jobs need a running event loop.
        """
        self.flush()
        marks = ", ".join("?" for _ in statuses)
        with self._lock:
            rows = self._conn.execute(
                f"SELECT id, name, replay_args, job_key, priority, created, status FROM jobs "
                f"WHERE status IN ({marks}) AND replay_args IS NOT NULL ORDER BY created, id",
                statuses,
            ).fetchall()
        known = [row for row in rows if queue.registered(row[1]) is not None]
        for job_id, name, *_ in rows:
            if queue.registered(name) is None:
                logger.warning("journal %s: job %s[%s] is not registered on queue %r; not replayed", self.path, name, job_id, queue.name)
        _require_loop_for_coroutines(queue, [row[1] for row in known])
        replayed = []
        for job_id, name, replay_args, job_key, priority, created, status in known:
            if not self._claim(job_id, status):
                continue  # another process claimed it first
            arguments = json.loads(replay_args)
            job = queue._replay(
                name,
                arguments["args"],
                arguments["kwargs"],
                job_id=job_id,
                key=key_from_json(job_key),
                priority=priority,
                created=created,
            )
            if job.id != job_id:  # its key matched a job already queued, which does the work
                self._mark(job_id, "dropped", f"replay deduplicated into job {job.label}")
            replayed.append(job)
        return replayed

    def close(self) -> None:
        """Write what is buffered, end this owner's lease, and close; later records count as failed writes."""
        self._writer.stop()
        with self._lock:
            try:
                self._conn.execute("UPDATE owners SET closed = 1, heartbeat = ? WHERE owner = ?", (time.time(), self.owner))
            except sqlite3.Error as error:  # closing must still close: the lease then simply runs out
                logger.warning("journal %s: cannot end the lease of owner %s: %s", self.path, self.owner, error)
            self._conn.close()

    def __enter__(self) -> SQLiteJournal:
        return self

    def __exit__(self, *exc_info: Any) -> None:
        self.close()

    # -- used by the writer thread --------------------------------------------------------

    def _write_batch(self, jobs: list[Job]) -> None:
        rows = [row_of(job, self.owner) for job in jobs]
        with self._lock:
            self._conn.execute("BEGIN IMMEDIATE")
            try:
                self._conn.executemany(_UPSERT, rows)
                self._conn.execute("COMMIT")
            except BaseException:  # roll back so the connection stays usable, then let the writer log it
                self._conn.execute("ROLLBACK")
                raise

    def _heartbeat(self) -> None:
        with self._lock:
            self._conn.execute("UPDATE owners SET heartbeat = ? WHERE owner = ?", (time.time(), self.owner))

    # -- owners ---------------------------------------------------------------------------

    def _mark_expired_locked(self) -> int:
        now = time.time()
        gone = []
        for owner, host, pid, heartbeat, lease, closed in self._conn.execute(
            "SELECT owner, host, pid, heartbeat, lease, closed FROM owners WHERE owner != ?", (self.owner,)
        ):
            if closed or heartbeat + lease < now or (host == HOST and not _process_exists(pid)):
                gone.append(owner)
        if gone:  # forget the owners that are gone; rows whose owner is not listed are then orphans
            self._conn.execute(f"DELETE FROM owners WHERE owner IN ({', '.join('?' for _ in gone)})", gone)
        marks = ", ".join("?" for _ in UNFINISHED)
        cursor = self._conn.execute(
            f"UPDATE jobs SET status = ?, finished = ?, "
            f"last_error = 'process ended while the job was ' || status || COALESCE('; last error: ' || last_error, '') "
            f"WHERE status IN ({marks}) AND (owner IS NULL OR owner NOT IN (SELECT owner FROM owners))",
            (INTERRUPTED, now, *UNFINISHED),
        )
        return cursor.rowcount

    def _claim(self, job_id: str, status: str) -> bool:
        with self._lock:
            cursor = self._conn.execute(
                "UPDATE jobs SET status = 'pending', owner = ? WHERE id = ? AND status = ?", (self.owner, job_id, status)
            )
        return cursor.rowcount == 1

    def _mark(self, job_id: str, status: str, note: str) -> None:
        with self._lock:
            self._conn.execute("UPDATE jobs SET status = ?, last_error = ? WHERE id = ?", (status, note, job_id))


_UPSERT = (
    f"INSERT OR REPLACE INTO jobs ({', '.join(COLUMNS)}, owner) VALUES ({', '.join('?' for _ in COLUMNS)}, ?)"
)


def _process_exists(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:  # no such process: its owner is gone
        return False
    except PermissionError:  # it exists, under another user
        return True
    except OSError:  # cannot tell (e.g. a platform without signals): trust the lease instead
        return True
    return True


def _require_loop_for_coroutines(queue: TrackedQueue, names: list[str]) -> None:
    import asyncio

    if not any(asyncio.iscoroutinefunction(queue.registered(name)) for name in names):
        return
    try:
        asyncio.get_running_loop()
    except RuntimeError:  # no loop in this thread: fail before replaying anything
        raise RuntimeError("replay() of coroutine jobs needs a running event loop; call it from async code") from None
