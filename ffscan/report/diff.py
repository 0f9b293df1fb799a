"""A fixed file as a unified diff (`ffscan fix --diff`)."""

from __future__ import annotations

import difflib


def unified_diff(path: str, original: str, fixed: str) -> str:
    return "".join(
        difflib.unified_diff(
            original.splitlines(keepends=True),
            fixed.splitlines(keepends=True),
            fromfile=f"a/{path.lstrip('/')}",
            tofile=f"b/{path.lstrip('/')}",
        )
    )
