from __future__ import annotations

import os
import subprocess
import sys
import textwrap
import threading
from pathlib import Path

import pytest

from ffscan.runtime import QueueClosed, TrackedQueue, background, configure, default_queue

REPO_ROOT = Path(__file__).resolve().parents[2]


def run_script(source: str, timeout: float = 20.0) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONPATH": str(REPO_ROOT)}
    return subprocess.run(
        [sys.executable, "-c", textwrap.dedent(source)],
        capture_output=True,
        text=True,
        timeout=timeout,
        env=env,
        cwd=REPO_ROOT,
    )


def test_background_forwards_to_the_configured_queue(fresh_default_queue):
    queue = configure(name="configured", max_concurrency=3)
    assert isinstance(queue, TrackedQueue)
    assert default_queue() is queue
    assert (background.name, background.max_concurrency) == ("configured", 3)
    job = background.submit(sum, [1, 2])
    assert job.result(timeout=5) == 3
    assert queue.stats().succeeded == 1


def test_configure_closes_the_queue_it_replaces(fresh_default_queue):
    first = default_queue()
    second = configure(name="second")
    assert first.closed
    assert not second.closed
    with pytest.raises(QueueClosed):
        first.submit(print)


def test_configure_refuses_while_the_default_queue_has_work(fresh_default_queue):
    release = threading.Event()
    job = background.submit(release.wait, 5)
    with pytest.raises(RuntimeError, match="before it has work"):
        configure(name="too-late")
    release.set()
    assert job.result(timeout=5) is True
    assert background.name == "background"


def test_bad_options_leave_the_default_queue_in_place(fresh_default_queue):
    before = default_queue()
    with pytest.raises(ValueError, match="overflow"):
        configure(overflow="block")
    assert default_queue() is before
    assert not before.closed


def test_interpreter_exit_lets_pending_thread_jobs_finish():
    finished = run_script(
        """
        import time
        from ffscan.runtime import background, configure

        configure(max_concurrency=1)  # one runs, two wait in the queue when the script ends

        def slow_write(label):
            time.sleep(0.1)
            print(label, flush=True)

        for label in ("first", "second", "third"):
            background.submit(slow_write, label)
        """
    )
    assert finished.returncode == 0, finished.stderr
    assert finished.stdout.split() == ["first", "second", "third"]


def test_interpreter_exit_gives_up_on_a_stuck_job_within_its_bound():
    finished = run_script(
        """
        import logging, threading
        from ffscan.runtime import background, configure

        logging.basicConfig(level=logging.WARNING)
        configure(close_timeout=0.1)
        never = threading.Event()

        def stuck_forever():
            never.wait()

        job = background.submit(stuck_forever)
        print(job.label, flush=True)
        """
    )
    assert finished.returncode == 0, finished.stderr
    label = finished.stdout.strip()
    assert label.startswith("stuck_forever[")
    still_running = [line for line in finished.stderr.splitlines() if "still running" in line and label in line]
    assert len(still_running) == 2  # the shutdown warning, then the report after the grace period


def test_names_registered_on_the_default_queue_survive_configure(fresh_default_queue):
    @background.job("resize")
    def resize(width):
        return width // 2

    configure(name="reconfigured")
    assert background.registered("resize") is resize
    assert background.submit("resize", 640).result(timeout=5) == 320
