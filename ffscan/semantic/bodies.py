"""What a function's own body can do: suspend, raise past its own handlers.

Two facts the task rules need about the coroutine a task runs. A coroutine whose body never
suspends (no `await`, `async for` or `async with` of its own) runs to its end in the task's
first step: it cannot be garbage-collected half-way. A coroutine whose whole body sits in a
`try` with a broad handler that never re-raises cannot fail: a done-callback that ignores its
outcome loses nothing. Both are read from the syntax alone, and both err towards "it can".
"""

from __future__ import annotations

import ast
from typing import Callable, List, Optional, Sequence

from ffscan.semantic.names import iter_own_nodes

_SUSPENDING = (ast.Await, ast.AsyncFor, ast.AsyncWith)
_BROAD = frozenset({"builtins.Exception", "builtins.BaseException"})


def suspends(function: ast.AST, waits: Optional[Sequence[ast.AST]] = None) -> bool:
    """Whether the body of the `async def` may give control back to the loop before it ends.

    `waits`: the function's own waiting nodes as the engine's pass recorded them, when it ran
    (they include its signature's, which run before the body: left out by position).
    """
    if waits is None:
        return any(isinstance(node, _SUSPENDING) for node in iter_own_nodes(function))
    first = function.body[0]  # type: ignore[attr-defined]
    start = (first.lineno, first.col_offset)
    return any(isinstance(node, _SUSPENDING) and (node.lineno, node.col_offset) >= start for node in waits)


def may_raise(function: ast.AST, qualified: Callable[[ast.expr], Optional[str]]) -> bool:
    """Whether the function may end with an exception: False only when every statement after
    its docstring is guarded, a `try` whose broad handler (bare, `Exception`,
    `BaseException`) re-raises nothing, or a loop or `if` (with a test that awaits nothing)
    made only of guarded statements, or cannot raise for an ordinary value (`pass`, an
    assignment that calls nothing, `await asyncio.sleep(...)`, `break`). A loop's test may
    call (`while not self.closed():`): such a check is taken not to fail."""
    return not _all_guarded(_without_docstring(getattr(function, "body", [])), qualified)


def _all_guarded(body: List[ast.stmt], qualified: Callable[[ast.expr], Optional[str]]) -> bool:
    return bool(body) and all(_guarded(statement, qualified) for statement in body)


def _guarded(statement: ast.stmt, qualified: Callable[[ast.expr], Optional[str]]) -> bool:
    if isinstance(statement, ast.Try):
        if statement.orelse and not _all_guarded(statement.orelse, qualified):
            return False
        for handler in statement.handlers:
            if is_broad_catch(handler.type, qualified):
                return not any(isinstance(node, ast.Raise) for node in ast.walk(ast.Module(body=handler.body, type_ignores=[])))
        # `try: await asyncio.sleep(t) except CancelledError: break`: nothing in it can fail
        return _all_guarded(statement.body, qualified) and all(
            _all_guarded(handler.body, qualified) for handler in statement.handlers
        )
    if isinstance(statement, (ast.While, ast.If)):
        return (
            not any(isinstance(node, ast.Await) for node in ast.walk(statement.test))  # `while not closed()`
            and _all_guarded(statement.body, qualified)
            and (not statement.orelse or _all_guarded(statement.orelse, qualified))
        )
    if isinstance(statement, (ast.Pass, ast.Break, ast.Continue)):
        return True
    if isinstance(statement, ast.Return):
        return statement.value is None or not _calls(statement.value)
    if isinstance(statement, ast.Expr):
        value = statement.value
        if isinstance(value, ast.Constant):
            return True
        return isinstance(value, ast.Await) and _is_sleep(value.value)
    if isinstance(statement, (ast.Assign, ast.AugAssign, ast.AnnAssign)):
        return statement.value is not None and not _calls(statement.value) and not isinstance(statement, ast.AugAssign)
    return False


def _calls(expr: ast.AST) -> bool:
    return any(isinstance(node, (ast.Call, ast.Await, ast.Subscript)) for node in ast.walk(expr))


def _is_sleep(expr: ast.expr) -> bool:
    """`asyncio.sleep(t)`, `anyio.sleep(t)`, `trio.sleep(t)`: waits, and only a cancellation ends it early."""
    if not isinstance(expr, ast.Call) or expr.keywords or len(expr.args) > 1:
        return False
    func = expr.func
    return isinstance(func, ast.Attribute) and func.attr == "sleep" and isinstance(func.value, ast.Name) and func.value.id in (
        "asyncio", "anyio", "trio",
    )


def is_broad_catch(expr: Optional[ast.expr], qualified: Callable[[ast.expr], Optional[str]]) -> bool:
    """Whether an `except` clause's type catches everything: bare, `Exception`,
    `BaseException`, or a tuple naming one of them."""
    if expr is None:
        return True
    if isinstance(expr, ast.Tuple):
        return any(is_broad_catch(element, qualified) for element in expr.elts)
    return qualified(expr) in _BROAD


def _without_docstring(body: List[ast.stmt]) -> List[ast.stmt]:
    if body and isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant) and isinstance(body[0].value.value, str):
        return body[1:]
    return body
