"""Whether the code a fix writes can run: the runtime module it imports must be importable."""

from __future__ import annotations

import importlib.util
from pathlib import Path


def runtime_importable(module: str, root: Path) -> bool:
    """Whether `module` can be imported from the project (its root or src/) or this Python."""
    relative = Path(*module.split("."))
    for base in (root, root / "src"):
        if (base / relative).with_suffix(".py").is_file() or (base / relative / "__init__.py").is_file():
            return True
    try:
        return importlib.util.find_spec(module) is not None
    except (ImportError, ValueError):
        return False  # a parent package that is not there: not importable
