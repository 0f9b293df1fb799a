"""How messages show a piece of code: one helper, so that every rule spells code alike."""

from __future__ import annotations

import ast
import sys
from typing import Optional


def spelled(expr: ast.AST, limit: int = 40, too_long: Optional[str] = None, fallback: str = "...") -> str:
    """A short expression as messages show it, on one line: cut to `limit` characters with
    "...", or `too_long` instead when given; `fallback` for a tree `ast.unparse` refuses."""
    text = _dotted(expr)
    if text is None:
        try:
            text = ast.unparse(expr)
        except (ValueError, RecursionError):  # unparse fails on odd trees; the text is cosmetic
            return fallback
    if sys.version_info < (3, 11):
        text = text.replace("lambda :", "lambda:")  # older unparse spaces a bare lambda's colon
    if len(text) <= limit:
        return text
    return too_long if too_long is not None else text[: limit - 3] + "..."


def _dotted(expr: ast.AST) -> Optional[str]:
    """`a.b.c` for a name and its attributes, as `ast.unparse` spells it (without its cost,
    most of what messages spell); None for anything else."""
    attrs = []
    while isinstance(expr, ast.Attribute):
        attrs.append(expr.attr)
        expr = expr.value
    if not isinstance(expr, ast.Name):
        return None
    attrs.append(expr.id)
    return ".".join(reversed(attrs))


def last_name(expr: ast.AST) -> str:
    """The name an expression ends in: `x` for `x`, `attr` for `a.b.attr`, else ""."""
    if isinstance(expr, ast.Attribute):
        return expr.attr
    return expr.id if isinstance(expr, ast.Name) else ""
