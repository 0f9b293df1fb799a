"""A SQLite record of every job: status after the fact, and replay after a crash.

One row per job, rewritten at each change of status. Opening a journal marks the rows a
dead process left unfinished as `interrupted`; `replay()` runs those again if they were
registered by name with JSON arguments. Replay means a job can run twice (it may have done
its work just before the crash), so replayed jobs must be idempotent.
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
import reprlib
import sqlite3
import threading
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .job import CANCELLED, Job, describe_error

if TYPE_CHECKING:
    from .queue import TrackedQueue

logger = logging.getLogger("ffscan.runtime")

INTERRUPTED = "interrupted"
JOURNAL_STATUSES = ("pending", "running", "retrying", "succeeded", "failed", INTERRUPTED, "dropped")
UNFINISHED = ("pending", "running", "retrying")
SCHEMA_VERSION = 1
TEXT_LIMIT = 500  # characters kept of a payload or error repr

_COLUMNS = (
    "id",
    "queue",
    "name",
    "kind",
    "job_key",
    "priority",
    "payload",
    "replay_args",
    "status",
    "attempts",
    "last_error",
    "created",
    "started",
    "finished",
)
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
"""
_UPSERT = f"INSERT OR REPLACE INTO jobs ({', '.join(_COLUMNS)}) VALUES ({', '.join('?' for _ in _COLUMNS)})"
_SELECT = f"SELECT {', '.join(_COLUMNS)} FROM jobs ORDER BY created, id"

_payload_repr = reprlib.Repr()
_payload_repr.maxstring = 120
_payload_repr.maxother = 120


class SQLiteJournal:
    """Record jobs in a SQLite file (WAL mode); safe to share between threads.

    Pass it as `TrackedQueue(journal=SQLiteJournal(path))`. Use one journal file per running
    process: opening it marks every unfinished row as interrupted.
    """

    def __init__(self, path: str | os.PathLike[str]) -> None:
        self.path = os.fspath(path)
        self.write_errors = 0
        self._lock = threading.Lock()  # one connection, used by the loop and worker threads in turn
        self._conn = sqlite3.connect(self.path, timeout=10.0, isolation_level=None, check_same_thread=False)
        with self._lock:
            self._conn.execute("PRAGMA journal_mode=WAL")
            self._conn.execute("PRAGMA synchronous=NORMAL")  # WAL keeps commits through a crash of the process
            version = self._conn.execute("PRAGMA user_version").fetchone()[0]
            if version > SCHEMA_VERSION:
                self._conn.close()
                raise ValueError(f"{self.path} was written by a newer ffscan (journal schema {version})")
            self._conn.executescript(_SCHEMA)
            self._conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")
            self.interrupted_on_open = self._mark_interrupted()

    def _mark_interrupted(self) -> int:
        placeholders = ", ".join("?" for _ in UNFINISHED)
        cursor = self._conn.execute(
            f"UPDATE jobs SET status = ?, finished = ?, "
            f"last_error = 'process ended while the job was ' || status || COALESCE('; last error: ' || last_error, '') "
            f"WHERE status IN ({placeholders})",
            (INTERRUPTED, time.time(), *UNFINISHED),
        )
        return cursor.rowcount

    def record(self, job: Job) -> None:
        """Write the job's current state; a failed write is logged, never raised into the job."""
        row = _row_of(job)
        try:
            with self._lock:
                self._conn.execute(_UPSERT, row)
        except sqlite3.Error as error:  # the journal is a record, not the work: log it and go on
            self.write_errors += 1
            if self.write_errors == 1:
                logger.error("journal %s: cannot record job %s: %s", self.path, job.label, error, exc_info=True)
            else:
                logger.debug("journal %s: cannot record job %s: %s", self.path, job.label, error)

    def rows(self) -> list[dict[str, Any]]:
        """Return every recorded job as a dict, oldest first."""
        with self._lock:
            return [_public_row(row) for row in self._conn.execute(_SELECT).fetchall()]

    def replay(self, queue: TrackedQueue) -> list[Job]:
        """Run interrupted jobs again on `queue`, under their old ids; return the new jobs.

        Only jobs spawned through a name registered on `queue` (`@queue.job(name)` or
        `queue.register(name, fn)`) with JSON-serialisable arguments are replayed: they run
        at least once, so they must be idempotent. Coroutine jobs need a running event loop.
        """
        with self._lock:
            rows = self._conn.execute(
                "SELECT id, name, replay_args, job_key, priority, created FROM jobs "
                "WHERE status = ? AND replay_args IS NOT NULL ORDER BY created, id",
                (INTERRUPTED,),
            ).fetchall()
        known = [row for row in rows if queue.registered(row[1]) is not None]
        for job_id, name, *_ in rows:
            if queue.registered(name) is None:
                logger.warning(
                    "journal %s: job %s[%s] is not registered on queue %r; not replayed",
                    self.path,
                    name,
                    job_id,
                    queue.name,
                )
        _require_loop_for_coroutines(queue, [row[1] for row in known])
        replayed = []
        for job_id, name, replay_args, job_key, priority, created in known:
            arguments = json.loads(replay_args)
            job = queue._replay(
                name,
                arguments["args"],
                arguments["kwargs"],
                job_id=job_id,
                key=_key_from_json(job_key),
                priority=priority,
                created=created,
            )
            if job.id != job_id:  # its key matched a job already queued, which does the work
                self._mark(job_id, "dropped", f"replay deduplicated into job {job.label}")
            replayed.append(job)
        return replayed

    def _mark(self, job_id: str, status: str, note: str) -> None:
        with self._lock:
            self._conn.execute("UPDATE jobs SET status = ?, last_error = ? WHERE id = ?", (status, note, job_id))

    def close(self) -> None:
        """Close the connection; later records are logged as failed writes."""
        with self._lock:
            self._conn.close()

    def __enter__(self) -> SQLiteJournal:
        return self

    def __exit__(self, *exc_info: Any) -> None:
        self.close()


def read_journal(path: str | os.PathLike[str]) -> list[dict[str, Any]]:
    """Return every job recorded in the journal at `path`, oldest first, without changing it.

    Rows of a process that is still running, or that was killed and whose journal was not
    reopened since, still show `running`: only opening a `SQLiteJournal` marks them.
    """
    source = Path(path)
    if not source.is_file():
        raise FileNotFoundError(f"no job journal at {source}")
    try:
        conn = sqlite3.connect(f"{source.resolve().as_uri()}?mode=ro", uri=True)
    except sqlite3.Error as error:  # unreadable file: say which path, keep the cause
        raise ValueError(f"cannot open job journal {source}: {error}") from error
    try:
        return [_public_row(row) for row in conn.execute(_SELECT).fetchall()]
    except sqlite3.DatabaseError as error:  # not SQLite, or SQLite without our table
        raise ValueError(f"{source} is not an ffscan job journal: {error}") from error
    finally:
        conn.close()


def summarize(path: str | os.PathLike[str], recent: int = 10) -> dict[str, Any]:
    """Count the journal's jobs per status and list its most recent failures, newest first."""
    rows = read_journal(path)
    by_status = {status: 0 for status in JOURNAL_STATUSES}
    for row in rows:
        by_status[row["status"]] = by_status.get(row["status"], 0) + 1
    failed = [row for row in rows if row["status"] == "failed"]
    failed.sort(key=lambda row: row["finished"] or 0.0, reverse=True)
    return {
        "path": os.fspath(path),
        "total": len(rows),
        "by_status": by_status,
        "replayable": sum(1 for row in rows if row["status"] == INTERRUPTED and row["replayable"]),
        "failures": failed[:recent],
    }


def _row_of(job: Job) -> tuple[Any, ...]:
    status = INTERRUPTED if job.status == CANCELLED else job.status
    error = describe_error(job.last_error) if job.last_error is not None else None
    if job.status == CANCELLED and error is None:
        error = "cancelled before it finished"
    return (
        job.id,
        job.queue_name,
        job.name,
        job.kind,
        _json_or_none(job.key),
        job.priority,
        _payload_repr.repr((job.args, job.kwargs))[:TEXT_LIMIT],
        _replay_arguments(job),
        status,
        job.attempts,
        error[:TEXT_LIMIT] if error else None,
        job.created,
        job.started,
        job.finished,
    )


def _replay_arguments(job: Job) -> str | None:
    if job.registered_name is None or job.fn is None:
        return None
    return _json_or_none({"args": list(job.args), "kwargs": job.kwargs})


def _json_or_none(value: Any) -> str | None:
    if value is None:
        return None
    try:
        return json.dumps(value)
    except (TypeError, ValueError):  # not JSON: kept out of replay, still shown as payload
        return None


def _key_from_json(text: str | None) -> Any:
    return _hashable(json.loads(text)) if text is not None else None


def _hashable(value: Any) -> Any:
    # JSON turns tuple keys into lists; turn them back so the key can be hashed again.
    if isinstance(value, list):
        return tuple(_hashable(item) for item in value)
    return value


def _public_row(row: tuple[Any, ...]) -> dict[str, Any]:
    data = dict(zip(_COLUMNS, row))
    data["key"] = _key_from_json(data.pop("job_key"))
    data["replayable"] = data.pop("replay_args") is not None
    return data


def _require_loop_for_coroutines(queue: TrackedQueue, names: list[str]) -> None:
    if not any(asyncio.iscoroutinefunction(queue.registered(name)) for name in names):
        return
    try:
        asyncio.get_running_loop()
    except RuntimeError:  # no loop in this thread: fail before replaying anything
        raise RuntimeError("replay() of coroutine jobs needs a running event loop; call it from async code") from None


def clock(timestamp: float | None) -> str:
    return time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(timestamp)) if timestamp else ""


def duration(started: float | None, finished: float | None) -> str:
    return f"{finished - started:.2f}s" if started and finished else ""
