"""FF206 task-tested-for-truth: a task or future used as a condition instead of its result."""

from __future__ import annotations

import ast
from typing import Dict, List, Optional, Tuple

from ffscan.model import Impact
from ffscan.rules.base import Rule
from ffscan.semantic.flow import defining_scope, is_declared_global, name_loads
from ffscan.semantic.stdlib import FUTURE_COMBINATORS, runs_awaitable
from ffscan.semantic.tasks import reads_locals_dynamically, spawned_task

# Methods of a container that keep a task without reading it.
_KEEPERS = frozenset({"add", "append", "discard", "remove"})
# Methods of a task or future that read its outcome.
_OUTCOME_METHODS = frozenset({"result", "exception", "done", "cancelled"})


class TaskTestedForTruth(Rule):
    """## What it does
    Finds a task or future made by `asyncio.create_task`, `asyncio.ensure_future`,
    `loop.create_task`, `asyncio.gather` or `asyncio.shield` used for its truth: the condition
    of an `if`, `while`, `assert` or conditional expression, an operand of `not` or of
    `and`/`or` (not the last), or the argument of `bool()`; directly, or through a local name
    bound once to it (`ok = asyncio.ensure_future(check(user))` then `if ok:`) that is never
    awaited, gathered or asked for its result.

    ## Why is this bad?
    A task is always true: it defines no truth value of its own, so the condition is decided
    before the work has even started, and the branch meant for a failed check runs never (or
    always). The result the author wanted is never read, so a failure of the task is never
    handled either: the loop only logs it when the task is freed.

    ## Example
    ```python
    async def post(user, text):
        allowed = asyncio.ensure_future(check_quota(user))
        if allowed:
            await publish(text)
    ```

    ## Fix
    ```python
    async def post(user, text):
        allowed = await check_quota(user)
        if allowed:
            await publish(text)
    ```

    ## Fix safety
    No automatic fix: whether to await the task where it is tested, or to test something
    else (`task.done()`), is the author's decision.

    ## Known limits
    Only tasks made in the function are followed, through names bound once; a task kept on an
    attribute (`if self._task:`, which tests whether one was started) is never reported.
    """

    code = "FF206"
    name = "task-tested-for-truth"
    subject = ("task tested for truth", "tasks tested for truth")
    loss = "the condition never depends on the task's result"
    triggers = ("create_task", "ensure_future", "gather", "shield")
    message = "{kind} from `{callee}` is used in {where}; it is always true, so its result is never read"
    impacts = (Impact.NO_ALERTING,)
    risk = (
        "The branch is decided by the task object, not by what the work returned: the check it "
        "stands for never happens, and a failure of the task is never handled."
    )

    def __init__(self, semantic, sink) -> None:
        super().__init__(semantic, sink)
        self._bound: Dict[ast.AST, List[Tuple[ast.Call, str, str]]] = {}

    def _spawn(self, call: ast.Call) -> Optional[str]:
        callee = spawned_task(self.semantic, call)
        if callee is None and self.names.qualified(call.func) in FUTURE_COMBINATORS:
            callee = self.names.qualified(call.func)
        return callee

    def visit_Call(self, node: ast.Call) -> None:
        where = self._truth_use(node)
        if where is None and not self._is_bound(node):
            return
        callee = self._spawn(node)
        if callee is None:
            return
        if where is not None:
            self.report(node, callee=callee, where=where, kind=_kind(callee))
            return
        function = self.names.enclosing_function(node)
        if function is not None:
            name = self.semantic.parent(node).targets[0].id  # type: ignore[union-attr]
            self._bound.setdefault(function, []).append((node, callee, name))

    def _is_bound(self, call: ast.Call) -> bool:
        parent = self.semantic.parent(call)
        return (
            isinstance(parent, ast.Assign) and parent.value is call and len(parent.targets) == 1
            and isinstance(parent.targets[0], ast.Name)
        )

    def leave_FunctionDef(self, node: ast.FunctionDef) -> None:
        self._check(node)

    def leave_AsyncFunctionDef(self, node: ast.AsyncFunctionDef) -> None:
        self._check(node)

    def _check(self, function: ast.AST) -> None:
        pending = self._bound.pop(function, None)
        if not pending or reads_locals_dynamically(self.semantic, function):
            return
        scope = self.names.scopes.get(function)
        loads = name_loads(self.semantic, function)
        for call, callee, name in pending:
            if scope is None or is_declared_global(function, name) or len(scope.bindings.get(name, ())) != 1:
                continue
            tested: Optional[Tuple[ast.Name, str]] = None
            outcome_read = False
            for load in loads.get(name, ()):
                if defining_scope(self.semantic, load) is not function or self._reads_outcome(load):
                    outcome_read = True
                    break
                where = self._truth_use(load)
                if where is not None and tested is None:
                    tested = (load, where)
            if tested is not None and not outcome_read:
                self.report(tested[0], callee=callee, where=f"{tested[1]} through `{name}`", kind=_kind(callee))

    def _reads_outcome(self, load: ast.Name) -> bool:
        """Awaited, gathered, asked for its result, or handed to code that may do so."""
        parent = self.semantic.parent(load)
        if isinstance(parent, ast.Await):
            return True
        if isinstance(parent, ast.Attribute) and parent.value is load:
            return parent.attr in _OUTCOME_METHODS
        if isinstance(parent, ast.Starred):
            parent = self.semantic.parent(parent)
        if isinstance(parent, ast.Call) and load is not parent.func:
            if runs_awaitable(self.semantic, parent):
                return True
            func = parent.func
            if isinstance(func, ast.Attribute) and func.attr in _KEEPERS:
                return False  # put in a set of running tasks: kept, not read
            return self.names.qualified(func) != "builtins.bool"  # any other callee may read it
        return isinstance(parent, (ast.Return, ast.Yield, ast.List, ast.Tuple, ast.Set, ast.Dict))

    def _truth_use(self, node: ast.expr) -> Optional[str]:
        semantic = self.semantic
        child: ast.AST = node
        parent = semantic.parent(node)
        while isinstance(parent, ast.BoolOp):
            if child is not parent.values[-1]:
                return "`and`/`or`"
            child, parent = parent, semantic.parent(parent)
        if isinstance(parent, ast.UnaryOp) and isinstance(parent.op, ast.Not):
            return "`not`"
        if isinstance(parent, (ast.If, ast.While, ast.Assert, ast.IfExp)) and child is parent.test:
            return {ast.If: "an `if` condition", ast.While: "a `while` condition", ast.Assert: "an `assert`"}.get(
                type(parent), "a conditional expression"
            )
        if isinstance(parent, ast.Call) and child in parent.args and self.names.qualified(parent.func) == "builtins.bool":
            return "`bool()`"
        return None


def _kind(callee: str) -> str:
    return "Future" if callee in FUTURE_COMBINATORS else "Task"
