"""Journal rows: what one job looks like on disk, and reading a journal without writing to it."""

from __future__ import annotations

import json
import os
import reprlib
import sqlite3
from pathlib import Path
from typing import Any

from .job import CANCELLED, Job, describe_error

INTERRUPTED = "interrupted"
JOURNAL_STATUSES = ("pending", "running", "retrying", "succeeded", "failed", INTERRUPTED, "dropped")
UNFINISHED = ("pending", "running", "retrying")
TEXT_LIMIT = 500  # characters kept of a payload or error repr

COLUMNS = (
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
_SELECT = f"SELECT {', '.join(COLUMNS)} FROM jobs ORDER BY created, id"

_payload_repr = reprlib.Repr()
_payload_repr.maxstring = 120
_payload_repr.maxother = 120


def row_of(job: Job, owner: str) -> tuple[Any, ...]:
    """Return the job's row, as the journal's upsert takes it (the owner last)."""
    status = INTERRUPTED if job.status == CANCELLED else job.status
    error = describe_error(job.last_error) if job.last_error is not None else None
    if job.status == CANCELLED and error is None:
        error = "cancelled before it finished"
    return (
        job.id,
        job.queue_name,
        job.name,
        job.kind,
        json_or_none(job.key) if job.key is not None else None,
        job.priority,
        _payload(job.args, job.kwargs),
        _replay_arguments(job) if job.registered_name is not None else None,
        status,
        job.attempts,
        error[:TEXT_LIMIT] if error else None,
        job.created,
        job.started,
        job.finished,
        owner,
    )


_SMALL = (int, float, bool, type(None))


def _payload(args: tuple, kwargs: dict) -> str:
    """A bounded repr of the arguments; the plain repr when every one is small (the usual case)."""
    if not args and not kwargs:
        return "((), {})"
    if all(type(a) in _SMALL or (type(a) is str and len(a) <= 100) for a in args) and all(
        type(v) in _SMALL or (type(v) is str and len(v) <= 100) for v in kwargs.values()
    ):
        return repr((args, kwargs))[:TEXT_LIMIT]
    return _payload_repr.repr((args, kwargs))[:TEXT_LIMIT]  # reprlib: never huge, never raising


def _replay_arguments(job: Job) -> str | None:
    if job.registered_name is None or job.fn is None:
        return None
    return json_or_none({"args": list(job.args), "kwargs": job.kwargs})


def json_or_none(value: Any) -> str | None:
    if value is None:
        return None
    try:
        return json.dumps(value)
    except (TypeError, ValueError):  # not JSON: kept out of replay, still shown as payload
        return None


def key_from_json(text: str | None) -> Any:
    return _hashable(json.loads(text)) if text is not None else None


def _hashable(value: Any) -> Any:
    # JSON turns tuple keys into lists; turn them back so the key can be hashed again.
    if isinstance(value, list):
        return tuple(_hashable(item) for item in value)
    return value


def public_row(row: tuple[Any, ...]) -> dict[str, Any]:
    data = dict(zip(COLUMNS, row))
    data["key"] = key_from_json(data.pop("job_key"))
    data["replayable"] = data.pop("replay_args") is not None
    return data


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
        return [public_row(row) for row in conn.execute(_SELECT).fetchall()]
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


def overview(path: str | os.PathLike[str], *, recent: int = 10, window: float = 60.0, now: float | None = None) -> dict[str, Any]:
    """Per-queue counts, throughput and the latest failures of the journal at `path`.

    `per_minute` is how many jobs of the queue finished (any final status) in the last
    `window` seconds, scaled to one minute. Reads only; changes nothing.
    """
    import time

    rows = read_journal(path)
    now = time.time() if now is None else now
    queues: dict[str, Any] = {}
    for row in rows:
        queue = queues.setdefault(row["queue"], {"by_status": {status: 0 for status in JOURNAL_STATUSES}, "finished_recently": 0})
        queue["by_status"][row["status"]] = queue["by_status"].get(row["status"], 0) + 1
        if row["finished"] is not None and now - window <= row["finished"] <= now and row["status"] not in UNFINISHED:
            queue["finished_recently"] += 1
    for queue in queues.values():
        queue["per_minute"] = queue.pop("finished_recently") * 60.0 / window
    failed = sorted((row for row in rows if row["status"] == "failed"), key=lambda row: row["finished"] or 0.0, reverse=True)
    return {"path": os.fspath(path), "now": now, "window": window, "queues": dict(sorted(queues.items())), "failures": failed[:recent]}
