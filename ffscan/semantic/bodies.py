"""What a function's own body can do: suspend, raise past its own handlers.

Two facts the task rules need about the coroutine a task runs. A coroutine whose body never
suspends (no `await`, `async for` or `async with` of its own) runs to its end in the task's
first step: it cannot be garbage-collected half-way. A coroutine whose whole body sits in a
`try` with a broad handler that never re-raises cannot fail: a done-callback that ignores its
outcome loses nothing. Both are read from the syntax alone, and both err towards "it can".
"""

from __future__ import annotations

import ast
from typing import Callable, List, Optional

from ffscan.semantic.names import iter_own_nodes

_SUSPENDING = (ast.Await, ast.AsyncFor, ast.AsyncWith)
_BROAD = frozenset({"builtins.Exception", "builtins.BaseException"})


def suspends(function: ast.AST) -> bool:
    """Whether the body of the `async def` may give control back to the loop before it ends."""
    return any(isinstance(node, _SUSPENDING) for node in iter_own_nodes(function))


def may_raise(function: ast.AST, qualified: Callable[[ast.expr], Optional[str]]) -> bool:
    """Whether the function may end with an exception: False only when everything after its
    docstring is one `try` whose broad handler (bare, `Exception`, `BaseException`) re-raises
    nothing, with no `else` or `finally` that could."""
    body = _without_docstring(getattr(function, "body", []))
    if len(body) != 1 or not isinstance(body[0], ast.Try):
        return True
    guard = body[0]
    if guard.orelse or guard.finalbody:
        return True
    for handler in guard.handlers:
        if _is_broad(handler.type, qualified):
            return any(isinstance(node, ast.Raise) for node in ast.walk(ast.Module(body=handler.body, type_ignores=[])))
    return True


def is_stub(function: ast.AST) -> bool:
    """Whether the body is only a docstring, `pass`, `...` or `raise NotImplementedError`."""
    for statement in _without_docstring(getattr(function, "body", [])):
        if isinstance(statement, ast.Pass):
            continue
        if isinstance(statement, ast.Expr) and isinstance(statement.value, ast.Constant):
            continue
        if isinstance(statement, ast.Raise):
            continue
        return False
    return True


def _is_broad(expr: Optional[ast.expr], qualified: Callable[[ast.expr], Optional[str]]) -> bool:
    if expr is None:
        return True
    if isinstance(expr, ast.Tuple):
        return any(_is_broad(element, qualified) for element in expr.elts)
    return qualified(expr) in _BROAD


def _without_docstring(body: List[ast.stmt]) -> List[ast.stmt]:
    if body and isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant) and isinstance(body[0].value.value, str):
        return body[1:]
    return body
