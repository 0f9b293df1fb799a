"""What a named queue is configured with, and the options one job may override.

`QueueConfig` is what `configure(name, ...)` and `[tool.ffscan.queues.<name>]` produce;
`JobOptions` is what `queue.options(...)` sets for the jobs spawned through it.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field, fields, replace
from typing import Any, Mapping

from .backoff import Backoff
from .ratelimit import RateLimit

OVERFLOW_POLICIES = ("raise", "drop")
ENGINES = ("local", "celery")
DEFAULT_BACKOFF = Backoff()  # frozen, so every queue can share it


@dataclass(frozen=True)
class QueueConfig:
    """The settings of one named queue; every field has the default a plain TrackedQueue has."""

    max_concurrency: int = 16
    max_pending: int = 10_000
    priority: int = 0  # the priority of jobs spawned without one
    retries: int = 0
    backoff: Backoff = DEFAULT_BACKOFF
    rate_limit: RateLimit | None = None  # starts of the whole queue
    rate_limit_per_key: RateLimit | None = None  # starts per `rate_key=`
    timeout: float | None = None  # seconds per attempt
    overflow: str = "raise"
    enqueue_timeout: float = 0.0  # seconds a full queue makes a blocking caller wait
    close_timeout: float = 10.0
    engine: str = "local"  # "celery": registered jobs go to Celery workers
    celery_app: str | None = None  # "package.module:app", for engine = "celery"

    def __post_init__(self) -> None:
        if self.max_concurrency < 1:
            raise ValueError("max_concurrency must be at least 1")
        if self.max_pending < 0 or self.retries < 0:
            raise ValueError("max_pending and retries cannot be negative")
        if self.overflow not in OVERFLOW_POLICIES:
            raise ValueError(f"overflow must be one of {OVERFLOW_POLICIES}, not {self.overflow!r}")
        if self.engine not in ENGINES:
            raise ValueError(f"engine must be one of {ENGINES}, not {self.engine!r}")
        for name in ("timeout", "enqueue_timeout", "close_timeout"):
            value = getattr(self, name)
            if value is not None and (not isinstance(value, (int, float)) or value < 0 or math.isnan(value)):
                raise ValueError(f"{name} must be a number of seconds, 0 or more, not {value!r}")
        for name in ("rate_limit", "rate_limit_per_key"):
            value = getattr(self, name)
            if value is not None and not isinstance(value, RateLimit):
                object.__setattr__(self, name, RateLimit.parse(value))  # accept "10/s" in code too

    def with_changes(self, **changes: Any) -> QueueConfig:
        unknown = set(changes) - {f.name for f in fields(self)}
        if unknown:
            raise TypeError(f"unknown queue option(s): {', '.join(sorted(unknown))}")
        return replace(self, **changes)


_TOML_KEYS = {f.name.replace("_", "-"): f.name for f in fields(QueueConfig)}
_INT_KEYS = {"max_concurrency", "max_pending", "priority", "retries"}
_SECONDS_KEYS = {"timeout", "enqueue_timeout", "close_timeout"}
_BACKOFF_KEYS = {"initial", "factor", "max", "jitter"}


def parse_queue_table(name: str, table: Any, where: str) -> QueueConfig:
    """Turn one `[tool.ffscan.queues.<name>]` table into a QueueConfig; raise ValueError naming the key."""
    if not isinstance(name, str) or not name or not all(c.isalnum() or c in "-_." for c in name):
        raise ValueError(f"{where}: a queue name uses letters, digits, '-', '_' and '.', not {name!r}")
    if not isinstance(table, Mapping):
        raise ValueError(f"{where} must be a table of queue settings")
    changes: dict[str, Any] = {}
    for key, value in table.items():
        inner = f"{where[:-1]}.{key}`" if where.endswith("`") else f"{where}.{key}"
        if key not in _TOML_KEYS:
            hint = f"; did you mean `{key.replace('_', '-')}`?" if key.replace("_", "-") in _TOML_KEYS else ""
            raise ValueError(f"{inner} is not a queue setting{hint} (known: {', '.join(sorted(_TOML_KEYS))})")
        option = _TOML_KEYS[key]
        changes[option] = _parse_value(option, value, inner)
    try:
        return QueueConfig(**changes)
    except (TypeError, ValueError) as error:  # cross-field checks: name the table, keep the reason
        raise ValueError(f"{where}: {error}") from None


def _parse_value(option: str, value: Any, where: str) -> Any:
    if option in _INT_KEYS:
        if isinstance(value, bool) or not isinstance(value, int):
            raise ValueError(f"{where} must be a whole number, got {value!r}")
        return value
    if option in _SECONDS_KEYS:
        if isinstance(value, bool) or not isinstance(value, (int, float)) or value < 0:
            raise ValueError(f"{where} must be a number of seconds, 0 or more, got {value!r}")
        return float(value)
    if option in ("rate_limit", "rate_limit_per_key"):
        try:
            return RateLimit.parse(value)
        except ValueError as error:
            raise ValueError(f"{where}: {error}") from None
    if option == "backoff":
        if not isinstance(value, Mapping) or not set(value) <= _BACKOFF_KEYS:
            raise ValueError(f"{where} must be a table with keys among {sorted(_BACKOFF_KEYS)}, got {value!r}")
        try:
            return Backoff(**{k: float(v) for k, v in value.items()})
        except (TypeError, ValueError) as error:
            raise ValueError(f"{where}: {error}") from None
    if not isinstance(value, str):
        raise ValueError(f"{where} must be a string, got {value!r}")
    return value


@dataclass(frozen=True)
class JobOptions:
    """Per-job settings; None means "the queue's setting"."""

    key: Any = None
    priority: int | None = None
    delay: float = 0.0
    retries: int | None = None
    retry_on: tuple[type[BaseException], ...] | None = None
    timeout: float | None = None
    rate_key: Any = None
    unique_for: float | None = None
    name: str | None = None
    extra: Mapping[str, Any] = field(default_factory=dict)  # engine options, passed through

    def __post_init__(self) -> None:
        if self.delay < 0 or (self.retries is not None and self.retries < 0):
            raise ValueError("delay and retries cannot be negative")
        if self.timeout is not None and self.timeout <= 0:
            raise ValueError("timeout must be a positive number of seconds")
        if self.unique_for is not None and (self.key is None or self.unique_for < 0):
            raise ValueError("unique_for needs a key= and a number of seconds, 0 or more")
        if self.retry_on is not None:
            retry_on = self.retry_on if isinstance(self.retry_on, tuple) else (self.retry_on,)
            if not all(isinstance(t, type) for t in retry_on):  # exception classes (or ABCs that match them)
                raise TypeError("retry_on takes exception classes")
            object.__setattr__(self, "retry_on", retry_on)
