"""FF103 unused-coroutine-binding: a coroutine bound to a local name that is never read."""

from __future__ import annotations

import ast
from typing import Dict, Iterator, List, Tuple

from ffscan.model import Applicability, Impact
from ffscan.rules import fixes
from ffscan.rules.base import Rule
from ffscan.semantic.coroutines import (
    coroutine_call,
    coroutine_query,
    expects_warning,
    spelled,
)
from ffscan.semantic.flow import is_declared_global, name_loads
from ffscan.semantic.stdlib import COROUTINE_WORDS

# Calls that can read any local variable by name.
_INTROSPECTION = frozenset({"locals", "vars", "eval", "exec"})


class UnusedCoroutineBinding(Rule):
    """## What it does
    Finds a call that certainly makes a coroutine (see FF101) assigned to local names of a
    function, where no name it is bound to is ever read again in that function or in a
    function nested in it: never awaited, returned, passed on or stored.

    ## Why is this bad?
    Assigning the coroutine silences mypy and pyright (the value is "used"), but the coroutine
    still never runs: it is garbage-collected with the frame and Python prints "coroutine ...
    was never awaited" to stderr. The usual cause is a forgotten `await` in front of a call
    whose result was meant to be kept, as in `result = fetch()`, or `_ = notify()` written to
    quiet a linter.

    ## Example
    ```python
    async def save(record):
        ...

    async def import_rows(rows):
        for row in rows:
            _ = save(row)
    ```

    ## Fix
    ```python
    async def import_rows(rows):
        for row in rows:
            _ = await save(row)
    ```
    The binding is kept (the name may be meant for a use still to be written); delete it by
    hand where it only quietened a linter.

    ## Fix safety
    Unsafe, and offered only inside an `async def` (not in a lambda, a class body or a
    generator expression): `ffscan fix --unsafe-fixes` writes `await` in front of the call
    and keeps the assignment, which now binds the result. The body now runs, the caller waits
    for it and sees what it raises: that changes timing and errors. Outside `async def` the
    `await` is display-only.

    ## Known limits
    Any later read of the name counts as a use, even one that does not await it. Bindings at
    module or class level are not checked, nor are functions that call `locals()`, `vars()`,
    `eval()` or `exec()`, nor names declared `global` or `nonlocal`.

    ## References
    - basedpyright issue 1547 and mypy issue 20570: `_ = coro()` silences both checkers.
    """

    code = "FF103"
    name = "unused-coroutine-binding"
    subject = ("coroutine bound but never awaited", "coroutines bound but never awaited")
    loss = "coroutine work never runs"
    triggers = COROUTINE_WORDS
    message = "Coroutine from `{callee}` is bound to `{name}` but never awaited; its body never runs"
    fix_title = "Await the coroutine"
    fix_applicability = Applicability.UNSAFE
    impacts = (Impact.NO_TRACKING, Impact.NO_ALERTING)
    risk = (
        "The work in the coroutine silently never happens; the assignment also hides the "
        "mistake from type checkers."
    )

    def __init__(self, semantic, sink) -> None:
        super().__init__(semantic, sink)
        # function -> [(call, the names its result is bound to)], judged when the function ends
        self._pending: Dict[ast.AST, List[Tuple[ast.Call, Tuple[str, ...]]]] = {}

    def visit_Assign(self, node: ast.Assign) -> None:
        self._record(node.targets, node.value, node)

    def visit_AnnAssign(self, node: ast.AnnAssign) -> None:
        if node.value is not None and node.simple:
            self._record([node.target], node.value, node)

    def _record(self, targets: List[ast.expr], value: ast.expr, statement: ast.stmt) -> None:
        if not all(isinstance(t, ast.Name) for t in targets):
            return
        function = self.names.enclosing_function(statement)
        if function is None:
            return  # module and class level: the value may be read from elsewhere
        if expects_warning(self.semantic, statement):
            return  # a test checking the "never awaited" warning itself
        bound = tuple(t.id for t in targets)  # type: ignore[attr-defined]
        for call in _bound_calls(value):
            self._pending.setdefault(function, []).append((call, bound))

    def leave_FunctionDef(self, node: ast.FunctionDef) -> None:
        self._check(node)

    def leave_AsyncFunctionDef(self, node: ast.AsyncFunctionDef) -> None:
        self._check(node)

    def _check(self, function: ast.AST) -> None:
        pending = self._pending.pop(function, None)
        if not pending:
            return
        loads = name_loads(self.semantic, function)
        if any(name in loads for name in _INTROSPECTION):
            return
        for call, bound in pending:
            if any(name in loads or is_declared_global(function, name) for name in bound):
                continue
            # Only now, for the few bindings never read, is it worth asking what the call makes.
            callee = coroutine_call(self.semantic, call)
            query = None if callee is not None else coroutine_query(self.semantic, call)
            if callee is None and query is None:
                continue
            fix = [fixes.await_fix(self.semantic, call, "Await the coroutine and bind its result")]
            if query is None:
                self.report(call, fixes=fix, callee=callee, name=", ".join(bound))
            else:
                self.report_if(call, query, fixes=fix, callee=spelled(call.func), name=", ".join(bound))


def _bound_calls(value: ast.expr) -> Iterator[ast.Call]:
    """The calls whose result the assignment binds: the value, or a branch of a conditional."""
    if isinstance(value, ast.Call):
        yield value
    elif isinstance(value, ast.IfExp):
        yield from _bound_calls(value.body)
        yield from _bound_calls(value.orelse)
