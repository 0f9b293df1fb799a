from __future__ import annotations

import asyncio
import io
import logging
import os
import signal
import sqlite3
import subprocess
import sys
import textwrap
import threading
from pathlib import Path

import pytest

from ffscan.runtime import (
    Backoff,
    SQLiteJournal,
    TrackedQueue,
    read_journal,
    summarize,
)

from .helpers import wait_until_async

REPO_ROOT = Path(__file__).resolve().parents[2]

KILLED_WORKER = """
import asyncio, sys
from ffscan.runtime import SQLiteJournal, TrackedQueue

journal = SQLiteJournal(sys.argv[1])
queue = TrackedQueue("mailer", journal=journal)
running = 0

async def hold():
    global running
    running += 1
    if running == 3:
        journal.flush()  # rows are committed by a writer thread; wait for them before saying so
        print("all running", flush=True)
    await asyncio.Event().wait()

@queue.job("send-email")
async def send_email(to, subject):
    await hold()

@queue.job("store-blob")
async def store_blob(blob):
    await hold()

async def not_registered(n):
    await hold()

async def main():
    queue.spawn(send_email, "ann@example.com", subject="receipt")
    queue.spawn(store_blob, object())  # registered, but its argument is not JSON
    queue.spawn(not_registered, 3)
    await asyncio.Event().wait()

asyncio.run(main())
"""


@pytest.fixture
def killed_journal(tmp_path) -> Path:
    """A journal whose process was SIGKILLed while three jobs were running."""
    path = tmp_path / "jobs.db"
    worker = subprocess.Popen(
        [sys.executable, "-c", textwrap.dedent(KILLED_WORKER), str(path)],
        stdout=subprocess.PIPE,
        text=True,
        cwd=REPO_ROOT,
        env={**os.environ, "PYTHONPATH": str(REPO_ROOT)},
    )
    watchdog = threading.Timer(20, worker.kill)  # a child that never reports must not hang the suite
    watchdog.start()
    try:
        assert worker.stdout.readline() == "all running\n"
    finally:
        watchdog.cancel()
        os.kill(worker.pid, signal.SIGKILL)
        worker.wait(10)
        worker.stdout.close()
    assert worker.returncode == -signal.SIGKILL
    return path


def test_a_killed_process_leaves_running_rows_that_reopening_marks_interrupted(killed_journal):
    before = read_journal(killed_journal)
    assert [(row["name"], row["status"]) for row in before] == [
        ("send-email", "running"),
        ("store-blob", "running"),
        ("not_registered", "running"),
    ]
    journal = SQLiteJournal(killed_journal)
    assert journal.interrupted_on_open == 3
    after = journal.rows()
    journal.close()
    assert [row["status"] for row in after] == ["interrupted"] * 3
    assert [row["replayable"] for row in after] == [True, False, False]
    assert {row["last_error"] for row in after} == {"process ended while the job was running"}
    assert [row["id"] for row in after] == [row["id"] for row in before]
    assert after[0]["payload"] == "(('ann@example.com',), {'subject': 'receipt'})"


def test_replay_runs_registered_interrupted_jobs_again_under_their_old_ids(killed_journal):
    journal = SQLiteJournal(killed_journal)
    queue = TrackedQueue("mailer", journal=journal)
    sent = []

    @queue.job("send-email")
    async def send_email(to, subject):
        sent.append((to, subject))

    async def scenario():
        jobs = journal.replay(queue)
        assert await queue.drain(timeout=5)
        return jobs

    old_id = journal.rows()[0]["id"]
    jobs = asyncio.run(scenario())
    assert [job.id for job in jobs] == [old_id]
    assert sent == [("ann@example.com", "receipt")]
    rows = journal.rows()
    journal.close()
    assert [(row["name"], row["status"]) for row in rows] == [
        ("send-email", "succeeded"),
        ("store-blob", "interrupted"),
        ("not_registered", "interrupted"),
    ]
    assert SQLiteJournal(killed_journal).replay(queue) == []  # nothing is replayed twice


def test_replay_of_coroutine_jobs_needs_a_running_loop(killed_journal):
    journal = SQLiteJournal(killed_journal)
    queue = TrackedQueue("mailer")
    queue.register("send-email", _async_noop)
    with pytest.raises(RuntimeError, match="running event loop"):
        journal.replay(queue)
    assert [row["status"] for row in journal.rows()] == ["interrupted"] * 3
    journal.close()


async def _async_noop(*args, **kwargs):
    return None


def test_the_journal_records_how_each_job_ended(tmp_path):
    journal = SQLiteJournal(tmp_path / "jobs.db")
    queue = TrackedQueue(
        "recorded",
        retries=1,
        backoff=Backoff(initial=0.0, jitter=0.0),
        journal=journal,
        on_error=lambda job, error: None,
    )
    calls = []

    def flaky(n):
        calls.append(n)
        if len(calls) == 1:
            raise ValueError("first try fails")
        return n

    def broken():
        raise KeyError("always")

    assert queue.submit(flaky, 5).result(timeout=5) == 5
    with pytest.raises(KeyError):
        queue.submit(broken).result(timeout=5)
    assert queue.drain_sync(timeout=5)
    rows = journal.rows()
    journal.close()
    assert [(row["name"], row["kind"], row["status"], row["attempts"], row["last_error"]) for row in rows] == [
        (
            "test_the_journal_records_how_each_job_ended.<locals>.flaky",
            "thread",
            "succeeded",
            2,
            "ValueError('first try fails')",
        ),
        ("test_the_journal_records_how_each_job_ended.<locals>.broken", "thread", "failed", 2, "KeyError('always')"),
    ]
    for row in rows:
        assert row["created"] <= row["started"] <= row["finished"]
        assert row["replayable"] is False


def test_a_job_cancelled_in_its_backoff_is_recorded_as_retrying_then_interrupted(tmp_path):
    journal = SQLiteJournal(tmp_path / "jobs.db")
    queue = TrackedQueue(
        "backoff",
        retries=1,
        backoff=Backoff(initial=30.0, jitter=0.0),
        journal=journal,
        on_error=lambda job, error: None,
    )

    async def fails():
        raise ConnectionError("down")

    async def scenario():
        job = queue.spawn(fails, key=("user", 7))
        await wait_until_async(lambda: job.status == "retrying")
        during = [row["status"] for row in journal.rows()]
        await queue.aclose(timeout=0, grace=5)
        return during

    assert asyncio.run(scenario()) == ["retrying"]
    (row,) = journal.rows()
    journal.close()
    assert (row["status"], row["attempts"], row["last_error"], row["key"]) == (
        "interrupted",
        1,
        "ConnectionError('down')",
        ("user", 7),
    )


def test_a_failed_journal_write_is_logged_once_and_the_job_still_runs(tmp_path, caplog):
    journal = SQLiteJournal(tmp_path / "jobs.db")
    journal.close()
    queue = TrackedQueue("unrecorded", journal=journal)
    with caplog.at_level(logging.DEBUG, logger="ffscan.runtime"):
        assert queue.submit(sum, [2, 3]).result(timeout=5) == 5
        assert queue.drain_sync(timeout=5)
    assert journal.write_errors == 3  # pending, running, succeeded
    errors = [record for record in caplog.records if record.levelno == logging.ERROR]
    assert len(errors) == 1
    assert "cannot record job" in errors[0].getMessage()


def test_summarize_counts_each_status_and_lists_failures_newest_first(tmp_path):
    path = tmp_path / "jobs.db"
    journal = SQLiteJournal(path)
    queue = TrackedQueue(
        "summary", max_concurrency=1, max_pending=0, overflow="drop", journal=journal, on_error=lambda job, error: None
    )
    release = threading.Event()

    def fail(message):
        raise RuntimeError(message)

    queue.submit(fail, "older").exception(timeout=5)
    queue.submit(fail, "newer").exception(timeout=5)
    blocker = queue.submit(release.wait, 5)
    dropped = queue.submit(sum, [1])  # the only worker is busy and nothing may wait
    release.set()
    assert queue.drain_sync(timeout=5)
    journal.close()
    assert (blocker.status, dropped.status) == ("succeeded", "dropped")

    summary = summarize(path)
    assert summary["total"] == 4
    assert summary["by_status"] == {
        "pending": 0,
        "running": 0,
        "retrying": 0,
        "succeeded": 1,
        "failed": 2,
        "interrupted": 0,
        "dropped": 1,
    }
    assert [row["last_error"] for row in summary["failures"]] == ["RuntimeError('newer')", "RuntimeError('older')"]
    assert summary["replayable"] == 0


def test_read_journal_explains_a_missing_or_foreign_file(tmp_path):
    with pytest.raises(FileNotFoundError):
        read_journal(tmp_path / "missing.db")
    foreign = tmp_path / "other.db"
    sqlite3.connect(foreign).execute("CREATE TABLE t (x)").connection.close()
    with pytest.raises(ValueError, match="not an ffscan job journal"):
        read_journal(foreign)


def test_render_jobs_table_shows_brackets_literally(tmp_path):
    from ffscan.report.jobs import jobs_table as render_jobs_table

    from rich.console import Console

    journal = SQLiteJournal(tmp_path / "jobs.db")
    queue = TrackedQueue("table", journal=journal, on_error=lambda job, error: None)

    def fail():
        raise KeyError("[bold]")

    queue.submit(sum, [1, 2]).result(timeout=5)
    queue.submit(fail).exception(timeout=5)
    assert queue.drain_sync(timeout=5)
    rows = journal.rows()
    journal.close()
    table = render_jobs_table(rows, title="jobs")
    assert table.row_count == 2
    assert [column.header for column in table.columns] == [
        "id",
        "name",
        "status",
        "attempts",
        "created",
        "took",
        "last error",
    ]
    console = Console(width=250, record=True, file=io.StringIO())
    console.print(table)
    assert "KeyError('[bold]')" in console.export_text()


LIVE_WORKER = """
import asyncio, sys
from ffscan.runtime import SQLiteJournal, TrackedQueue

journal = SQLiteJournal(sys.argv[1])
queue = TrackedQueue("mailer", journal=journal)

@queue.job("send-email")
async def send_email(to):
    journal.flush()
    print("running", flush=True)
    await asyncio.Event().wait()

async def main():
    queue.spawn(send_email, "ann@example.com")
    await asyncio.Event().wait()

asyncio.run(main())
"""


def test_a_second_process_leaves_the_live_owners_jobs_alone_until_that_owner_dies(tmp_path):
    path = tmp_path / "shared.db"
    worker = subprocess.Popen(
        [sys.executable, "-c", textwrap.dedent(LIVE_WORKER), str(path)],
        stdout=subprocess.PIPE,
        text=True,
        cwd=REPO_ROOT,
        env={**os.environ, "PYTHONPATH": str(REPO_ROOT)},
    )
    watchdog = threading.Timer(20, worker.kill)
    watchdog.start()
    try:
        assert worker.stdout.readline() == "running\n"
        second = SQLiteJournal(path)
        queue = TrackedQueue("mailer", journal=second)
        queue.register("send-email", _async_noop)

        async def replay():
            return second.replay(queue)

        assert second.interrupted_on_open == 0
        assert asyncio.run(replay()) == []
        assert [row["status"] for row in second.rows()] == ["running"]
    finally:
        watchdog.cancel()
        os.kill(worker.pid, signal.SIGKILL)
        worker.wait(10)
        worker.stdout.close()
    second.close()
    third = SQLiteJournal(path)
    assert third.interrupted_on_open == 1
    assert [row["status"] for row in third.rows()] == ["interrupted"]
    third.close()


def test_spawn_and_the_jobs_run_while_another_connection_holds_the_journal_write_lock(tmp_path):
    path = tmp_path / "locked.db"
    journal = SQLiteJournal(path)
    queue = TrackedQueue("unblocked", journal=journal)
    holder = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
    holder.execute("BEGIN IMMEDIATE")  # another process writing: the journal must wait, the loop must not
    jobs_done = threading.Event()
    released_by_timeout = []

    def release_later():
        if not jobs_done.wait(5):
            released_by_timeout.append(True)
        holder.execute("COMMIT")

    releaser = threading.Thread(target=release_later)
    releaser.start()

    async def job(n):
        return n

    async def scenario():
        results = [await queue.spawn(job, n) for n in range(20)]
        jobs_done.set()
        return results

    try:
        assert asyncio.run(scenario()) == list(range(20))
    finally:
        jobs_done.set()
        releaser.join(20)
        holder.close()
    assert released_by_timeout == []
    assert queue.drain_sync(timeout=5)
    assert [row["status"] for row in journal.rows()] == ["succeeded"] * 20
    journal.close()
