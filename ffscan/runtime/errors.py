"""Exceptions the tracked queue raises, and the ones a job may raise to steer its retries."""

from __future__ import annotations


class QueueFull(RuntimeError):
    """The queue already holds `max_pending` jobs waiting to start."""


class QueueClosed(RuntimeError):
    """The queue was shut down and takes no new jobs."""


class UnknownQueue(LookupError):
    """`queue(name)` for a name that neither `configure()` nor `[tool.ffscan.queues]` defines."""


class NotAwaitable(TypeError):
    """A function given to spawn() returned a plain value: it already ran, so it is not retried."""


class SkipRetry(Exception):
    """Raise it inside a job to fail the job now, whatever retries it has left.

    For errors a retry cannot cure (a validation error, a 404): `raise SkipRetry("no such
    user") from error`. The job ends `failed` with this exception as its error.
    """


class JobTimeout(TimeoutError):
    """A coroutine job's attempt ran past its `timeout` and was cancelled.

    It is an ordinary failure: retried if the job has retries left and its `retry_on`
    matches (a TimeoutError does by default), else the job fails with it.
    """
