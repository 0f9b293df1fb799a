"""`[tool.ffscan.queues.<name>]` in the project's pyproject.toml, read when a queue is first used.

Read with tomllib (3.11+) or tomli when it is installed; without either, a pyproject that
defines queues is an error that says to use `configure()` in code instead.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Any

from .options import QueueConfig, parse_queue_table

try:
    if sys.version_info >= (3, 11):
        import tomllib as _toml
    else:  # pragma: no cover - exercised on Python < 3.11 only
        import tomli as _toml
except ImportError:  # Python < 3.11 without tomli: configure() in code still works
    _toml = None  # type: ignore[assignment]

ENVIRONMENT_VARIABLE = "FFSCAN_PYPROJECT"  # a pyproject.toml to read instead of searching from the cwd


def find_pyproject(start: Path | None = None) -> Path | None:
    """Return $FFSCAN_PYPROJECT, or the nearest pyproject.toml from `start` (the cwd) upwards."""
    chosen = os.environ.get(ENVIRONMENT_VARIABLE)
    if chosen:
        return Path(chosen)
    here = (start or Path.cwd()).resolve()
    for directory in (here, *here.parents):
        candidate = directory / "pyproject.toml"
        if candidate.is_file():
            return candidate
    return None


def load_queue_configs(path: Path | str | None = None) -> dict[str, QueueConfig]:
    """Return every queue `[tool.ffscan.queues]` defines in `path` (default: found from the cwd).

    A missing file or table gives {}. Invalid settings raise ValueError naming the file and
    the key; a table that cannot be read on this Python raises RuntimeError saying why.
    """
    source = Path(path) if path is not None else find_pyproject()
    if source is None or not source.is_file():
        return {}
    data = source.read_bytes()
    if b"queues" not in data:  # the common case: no table to read, no TOML parser needed
        return {}
    if _toml is None:
        raise RuntimeError(
            f"{source} defines [tool.ffscan.queues], which needs Python 3.11+ or the tomli package to "
            "read; on this Python, install tomli or call ffscan.runtime.configure(name, ...) in code instead"
        )
    try:
        document = _toml.loads(data.decode("utf-8"))
    except (UnicodeDecodeError, _toml.TOMLDecodeError) as error:
        raise ValueError(f"{source}: invalid TOML: {error}") from None
    table: Any = document.get("tool", {}).get("ffscan", {}).get("queues", {})
    if not isinstance(table, dict):
        raise ValueError(f"{source}: `tool.ffscan.queues` must be a table of [tool.ffscan.queues.<name>] tables")
    return {
        name: parse_queue_table(name, settings, f"{source}: `tool.ffscan.queues.{name}`")
        for name, settings in table.items()
    }
