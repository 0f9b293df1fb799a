"""Named queues: configure(name, ...) in code, [tool.ffscan.queues.<name>] in pyproject, @job registrations."""

from __future__ import annotations

import asyncio

import pytest

from ffscan.runtime import (
    RateLimit,
    TrackedQueue,
    UnknownQueue,
    configure,
    job,
    load_queue_configs,
    queue,
    queue_names,
)
from ffscan.runtime import default, registry


@pytest.fixture(autouse=True)
def isolated_queues(tmp_path, monkeypatch):
    monkeypatch.setenv("FFSCAN_PYPROJECT", str(tmp_path / "pyproject.toml"))
    default.reset_queues()
    saved = dict(registry._jobs)
    yield tmp_path / "pyproject.toml"
    default.reset_queues()
    registry._jobs.clear()
    registry._jobs.update(saved)


def test_configure_defines_a_named_queue_that_queue_returns(isolated_queues):
    emails = configure("emails", max_concurrency=4, retries=2, rate_limit="10/s", timeout=30)
    assert queue("emails") is emails
    assert isinstance(emails, TrackedQueue)
    assert (emails.name, emails.max_concurrency, emails.retries, emails.timeout) == ("emails", 4, 2, 30)
    assert emails.config.rate_limit == RateLimit(10, 1.0)
    assert queue_names() == ["background", "emails"]


def test_an_unknown_queue_name_says_where_it_looked(isolated_queues):
    isolated_queues.write_text("[tool.ffscan.queues.emails]\nretries = 1\n")
    with pytest.raises(UnknownQueue) as raised:
        queue("emials")
    message = str(raised.value)
    assert message.startswith("no queue named 'emials': call configure('emials', ...) at startup or add [tool.ffscan.queues.emials]")
    assert f"{isolated_queues} has no [tool.ffscan.queues.emials]" in message
    assert message.endswith("known queues: 'background', 'emails'")


def test_pyproject_defines_queues_with_every_setting(isolated_queues):
    isolated_queues.write_text(
        """
[tool.ffscan.queues.emails]
max-concurrency = 10
max-pending = 500
priority = 3
retries = 4
backoff = { initial = 1, factor = 3, max = 60, jitter = 0 }
rate-limit = "100/m"
rate-limit-per-key = "1/h"
timeout = 20
overflow = "drop"
enqueue-timeout = 2.5
"""
    )
    emails = queue("emails")
    config = emails.config
    assert (config.max_concurrency, config.max_pending, config.priority, config.retries) == (10, 500, 3, 4)
    assert (config.backoff.initial, config.backoff.factor, config.backoff.max, config.backoff.jitter) == (1, 3, 60, 0)
    assert (config.rate_limit, config.rate_limit_per_key) == (RateLimit(100, 60.0), RateLimit(1, 3600.0))
    assert (config.timeout, config.overflow, config.enqueue_timeout) == (20.0, "drop", 2.5)
    assert queue("emails") is emails


@pytest.mark.parametrize(
    ("table", "message"),
    [
        ("max_concurrency = 3", "`tool.ffscan.queues.q.max_concurrency` is not a queue setting; did you mean `max-concurrency`?"),
        ('retries = "3"', "`tool.ffscan.queues.q.retries` must be a whole number, got '3'"),
        ('rate-limit = "fast"', '`tool.ffscan.queues.q.rate-limit`: a rate limit is "<count>/<unit>"'),
        ("max-concurrency = 0", "`tool.ffscan.queues.q`: max_concurrency must be at least 1"),
        ('engine = "sidekiq"', "`tool.ffscan.queues.q`: engine must be one of ('local', 'celery'), not 'sidekiq'"),
    ],
)
def test_bad_queue_settings_name_the_file_and_the_key(isolated_queues, table, message):
    isolated_queues.write_text(f"[tool.ffscan.queues.q]\n{table}\n")
    with pytest.raises(ValueError) as raised:
        load_queue_configs(isolated_queues)
    assert str(raised.value).startswith(f"{isolated_queues}: {message}")


def test_a_registered_job_runs_on_its_named_queue(isolated_queues):
    emails = configure("emails", max_concurrency=2)
    sent = []

    @job("send-welcome", queue="emails")
    async def send_welcome(user_id: int) -> int:
        sent.append(user_id)
        return user_id

    async def scenario():
        first = send_welcome.spawn(7)
        second = send_welcome.options(priority=5).spawn(8)
        return await first, await second, first

    assert asyncio.run(scenario())[:2] == (7, 8)
    assert sent == [7, 8]
    assert emails.registered("send-welcome") is send_welcome.__wrapped__
    with pytest.raises(TypeError, match="JSON arguments"):
        send_welcome.submit(object())


def test_a_job_name_cannot_be_taken_twice(isolated_queues):
    @job("resize")
    def resize(path: str) -> None: ...

    with pytest.raises(ValueError, match="already registered"):

        @job("resize")
        def another(path: str) -> None: ...
