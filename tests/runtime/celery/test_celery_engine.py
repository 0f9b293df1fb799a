"""The celery engine against a real Redis server and real Celery worker processes.

No part of Celery is replaced: jobs go through the broker to `celery worker` processes
started here, which the tests kill and restart. `.ci/run` starts the Redis server; without
one these tests are skipped (and fail instead when $FFSCAN_REQUIRE_REDIS is set, as in CI).
"""

from __future__ import annotations

import asyncio
import importlib
import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

celery = pytest.importorskip("celery", reason="celery is in the test extra: pip install -e '.[test]'")
redis = pytest.importorskip("redis", reason="redis is in the test extra: pip install -e '.[test]'")

HERE = Path(__file__).resolve().parent
REPO_ROOT = HERE.parents[1]
DEFAULT_URL = "redis://127.0.0.1:6390/15"  # database 15 of the server .ci/run starts; flushed by each test
BOUND = 60.0  # seconds any one wait may take before the test fails
VISIBILITY_TIMEOUT = 3  # as celery_app.py sets it


@pytest.fixture
def redis_url(monkeypatch):
    url = os.environ.get("FFSCAN_TEST_REDIS_URL", DEFAULT_URL)
    client = redis.Redis.from_url(url, socket_connect_timeout=1)
    try:
        client.ping()
    except redis.exceptions.ConnectionError as error:  # no server: skip here, fail in CI
        message = f"no Redis server at {url} ({error}); .ci/run starts one"
        if os.environ.get("FFSCAN_REQUIRE_REDIS"):
            pytest.fail(message)
        pytest.skip(message)
    client.flushdb()
    monkeypatch.setenv("FFSCAN_TEST_REDIS_URL", url)
    yield url
    client.flushdb()
    client.close()


@pytest.fixture
def env(redis_url, tmp_path):
    return {
        **os.environ,
        "FFSCAN_TEST_REDIS_URL": redis_url,
        "PYTHONPATH": os.pathsep.join([str(HERE), str(REPO_ROOT)]),
        "FFSCAN_PYPROJECT": str(tmp_path / "pyproject.toml"),
    }


class Workers:
    """Celery worker processes, each killed at the end whatever happened."""

    def __init__(self, env, tmp_path):
        self.env = env
        self.tmp_path = tmp_path
        self.started: list[subprocess.Popen] = []

    def start(self, queues="emails") -> subprocess.Popen:
        log = open(self.tmp_path / f"worker-{len(self.started)}.log", "w")
        worker = subprocess.Popen(
            [sys.executable, "-m", "celery", "-A", "celery_app", "worker", "--pool=solo", "-Q", queues,
             "--without-mingle", "--without-gossip", "--without-heartbeat", "-l", "info"],
            cwd=self.tmp_path, env=self.env, stdout=log, stderr=subprocess.STDOUT,
        )
        log.close()
        self.started.append(worker)
        return worker

    def check_alive(self):
        for number, worker in enumerate(self.started):
            if worker.poll() is not None and worker.returncode != -signal.SIGKILL:
                log = (self.tmp_path / f"worker-{number}.log").read_text()
                raise AssertionError(f"worker {number} exited with {worker.returncode}:\n{log[-3000:]}")

    def stop_all(self):
        for worker in self.started:
            if worker.poll() is None:
                worker.kill()
            worker.wait(10)


@pytest.fixture
def workers(env, tmp_path):
    started = Workers(env, tmp_path)
    yield started
    started.stop_all()


@pytest.fixture
def client_app(redis_url, tmp_path, monkeypatch):
    """The app module as the asyncio client imports it (a fresh import per test)."""
    (tmp_path / "pyproject.toml").write_text("")
    monkeypatch.setenv("FFSCAN_PYPROJECT", str(tmp_path / "pyproject.toml"))
    monkeypatch.syspath_prepend(str(HERE))
    from ffscan.runtime import default, registry

    default.reset_queues()
    registry._jobs.clear()
    sys.modules.pop("celery_app", None)
    module = importlib.import_module("celery_app")
    yield module
    default.reset_queues()
    registry._jobs.clear()
    sys.modules.pop("celery_app", None)


def wait_for(predicate, what, workers=None):
    deadline = time.monotonic() + BOUND
    while not predicate():
        if workers is not None:
            workers.check_alive()
        if time.monotonic() > deadline:
            raise AssertionError(f"{what} did not happen within {BOUND:.0f}s")
        time.sleep(0.1)


def events(module) -> list[str]:
    return [item.decode() for item in module.events.lrange("events", 0, -1)]


def test_a_job_on_a_killed_worker_is_redelivered_and_finished_once_by_a_new_worker(client_app, workers):
    first = workers.start()

    async def handler():
        job = client_app.slow_receipt.spawn(7)  # returns at once; the send runs off the loop
        task_id = await job
        return job, task_id

    job, task_id = asyncio.run(handler())
    assert task_id == job.id
    wait_for(lambda: len(events(client_app)) == 1, "the first worker starting the job", workers)
    assert events(client_app) == [f"started:7:{first.pid}"]
    os.kill(first.pid, signal.SIGKILL)  # mid-job: the message was never acknowledged
    first.wait(10)
    unacked = client_app.events.zrange("unacked_index", 0, -1, withscores=True)
    assert len(unacked) == 1  # the broker still holds it, delivered but not acknowledged
    # A starting worker hands out again what has been unacknowledged longer than the
    # visibility timeout (3 s here); start the new one once that is so.
    wait_for(lambda: time.time() - unacked[0][1] > VISIBILITY_TIMEOUT + 0.5, "the visibility timeout passing")
    second = workers.start()
    wait_for(lambda: any(e.startswith("finished") for e in events(client_app)), "the job finishing on the new worker", workers)
    assert client_app.app.AsyncResult(job.id).get(timeout=BOUND) == "receipt 7"
    assert events(client_app) == [f"started:7:{first.pid}", f"started:7:{second.pid}", f"finished:7:{second.pid}"]
    from ffscan.runtime import queue

    assert queue("emails").status(job.id) == "succeeded"
    second.send_signal(signal.SIGTERM)  # warm shutdown: it would hand back anything unacknowledged
    second.wait(BOUND)
    broker = client_app.events
    assert (broker.llen("emails"), broker.hlen("unacked"), broker.zcard("unacked_index")) == (0, 0, 0)
    assert events(client_app).count(f"finished:7:{second.pid}") == 1


def test_retries_and_skip_retry_follow_the_queue_policy_on_celery(client_app, workers):
    workers.start()

    async def handler():
        flaky = client_app.flaky_webhook.spawn(5)
        bad = client_app.bad_input.spawn(9)
        return await flaky, await bad

    flaky_id, bad_id = asyncio.run(handler())
    app = client_app.app
    assert app.AsyncResult(flaky_id).get(timeout=BOUND) == "delivered 5 on attempt 3"
    with pytest.raises(Exception, match="no user 9"):
        app.AsyncResult(bad_id).get(timeout=BOUND)
    assert int(client_app.events.get("attempts:bad:9")) == 1  # SkipRetry: no second attempt
    from ffscan.runtime import queue

    assert [queue("emails").status(flaky_id), queue("emails").status(bad_id)] == ["succeeded", "failed"]


def test_a_key_sends_one_job_while_the_first_is_held(client_app, workers):
    from ffscan.runtime import queue

    async def handler():
        emails = queue("emails")
        jobs = [emails.options(key=("receipt", 3), unique_for=30).spawn("greet", name) for name in ("ann", "bob")]
        return [(job.id, await job) for job in jobs]

    outcomes = asyncio.run(handler())
    sent = [job_id for job_id, value in outcomes if value == job_id]  # the two sends race: either may win
    assert len(sent) == 1
    assert [value for job_id, value in outcomes if value != job_id] == [{"deduplicated_into": sent[0]}]


CLIENT = """
import asyncio, sys
import celery_app

async def main():
    job = celery_app.greet.spawn(sys.argv[1])
    print(await job, flush=True)

asyncio.run(main())
"""


@pytest.mark.parametrize("engine", ["local", "celery"])
def test_the_same_registered_job_runs_in_process_or_on_celery_by_configuration_alone(engine, env, tmp_path, workers, redis_url):
    settings = 'engine = "celery"\ncelery-app = "celery_app:app"\n' if engine == "celery" else 'engine = "local"\n'
    (tmp_path / "pyproject.toml").write_text(f"[tool.ffscan.queues.greetings]\n{settings}")
    if engine == "celery":
        worker = workers.start(queues="greetings")
    client = subprocess.run(
        [sys.executable, "-c", textwrap.dedent(CLIENT), "ann"],
        cwd=tmp_path, env=env, capture_output=True, text=True, timeout=BOUND,
    )
    assert client.returncode == 0, client.stderr
    value = client.stdout.strip()
    store = redis.Redis.from_url(redis_url)
    if engine == "local":
        assert value == "hello ann"  # the job's own return value: it ran in the client
        greeted = [e.decode() for e in store.lrange("events", 0, -1)]
        assert len(greeted) == 1 and greeted[0].startswith("greeted:ann:")
        assert greeted[0] != f"greeted:ann:{os.getpid()}"
    else:
        result = celery.Celery(broker=redis_url, backend=redis_url).AsyncResult(value)
        assert result.get(timeout=BOUND) == "hello ann"
        assert [e.decode() for e in store.lrange("events", 0, -1)] == [f"greeted:ann:{worker.pid}"]


def test_a_rate_key_on_the_celery_engine_is_refused_at_the_call(client_app):
    from ffscan.runtime import queue

    with pytest.raises(ValueError, match="no per-key rate limit"):
        queue("emails").options(rate_key="ann").spawn("greet", "ann")
