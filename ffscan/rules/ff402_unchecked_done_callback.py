"""FF402 unchecked-done-callback: the only code that sees a finished task never reads its error."""

from __future__ import annotations

import ast
from typing import Dict, List, NamedTuple, Optional

from ffscan.model import Impact
from ffscan.rules.base import Rule
from ffscan.semantic.background import OBSERVING_METHODS, is_spawn
from ffscan.semantic.names import FunctionNode
from ffscan.semantic.outcomes import Outcome, follow
from ffscan.semantic.spelling import spelled

# Container methods a done-callback hands its future to without reading it (`tasks.discard`).
_REMOVERS = frozenset({"discard", "remove", "pop"})


class Verdict(NamedTuple):
    """What a done-callback does with the future it is given."""

    kind: str  # "ignores", "discards", "raises-first", "reads" or "unknown"
    detail: str = ""  # the container it discards from, or the line that can raise


class UncheckedDoneCallback(Rule):
    """## What it does
    Finds `future.add_done_callback(callback)` where the callback is the only code that sees
    how the work ended and it never reads the error:

    - it ignores the future it is given: it calls neither `result()` nor `exception()` on it
      and hands it to nothing that may (a function of this module, a method, a `lambda` or a
      `functools.partial` of one);
    - it only removes the task from a set of running tasks: the "keep a reference" idiom,
      `tasks.add(task)` with `task.add_done_callback(tasks.discard)` (or a `lambda` or a
      method that does the same), when the coroutine the task runs can raise;
    - it can raise before it reads the future (`self._pending.remove(fut)`, `del
      self._jobs[key]` first): then the reading code never runs.

    The work is the task or future a spawn makes right there (`asyncio.create_task`,
    `ensure_future`, `loop.create_task`, `asyncio.Task(...)`, `run_coroutine_threadsafe`,
    `executor.submit`), through the names, sets and `self` attributes that hold it, and it
    counts only when no other code reads its outcome: nothing awaits it, gathers it (a
    `gather(..., return_exceptions=True)` whose results are dropped reads nothing), asks for
    its result, or hands it on. Cancelling it, asking `done()`, testing it for `None` and
    resetting the attribute read nothing.

    ## Why is this bad?
    A done-callback is often the only code that runs when background work finishes. One
    that ignores its argument treats a crash like a success: the follow-up work runs as if
    nothing went wrong, a task's exception is never handled (the loop logs "Task exception was
    never retrieved" when the task is freed), and an executor future's exception is never
    shown at all. The keep-a-set idiom from the asyncio docs keeps the task alive but, on its
    own, handles no failure: projects that use it have had to add `task.exception()` to the
    callback after failures went unnoticed. A callback that raises first is logged by the
    loop ("Exception in callback") or by `concurrent.futures`, and what it meant to report is
    lost.

    ## Example
    ```python
    background_tasks = set()

    async def on_order(order):
        task = asyncio.create_task(send_receipt(order))
        background_tasks.add(task)
        task.add_done_callback(background_tasks.discard)
    ```

    ## Fix
    ```python
    def _finished(task):
        background_tasks.discard(task)
        if not task.cancelled() and task.exception() is not None:
            sentry_sdk.capture_exception(task.exception())

    async def on_order(order):
        task = asyncio.create_task(send_receipt(order))
        background_tasks.add(task)
        task.add_done_callback(_finished)
    ```

    ## Fix safety
    No automatic fix: what a failed job should trigger (a report, a retry, skipping the
    follow-up work) is the author's call.

    ## Known limits
    Only callbacks defined in the same module (or bound methods of a container) are read,
    and only uses in the same module are followed: a task kept on `self` whose attribute is
    read by another module is reported although the failure may be read there. A coroutine
    counts as able to raise unless it is a project `async def` (not an empty default a
    subclass may override) whose every statement is guarded: a `try` with a broad handler
    that does not re-raise, a loop or `if` of such statements, a sleep, an assignment that
    calls nothing.
    """

    code = "FF402"
    name = "unchecked-done-callback"
    subject = ("done-callback that ignores failure", "done-callbacks that ignore failure")
    loss = "failures pass for success"
    triggers = ("add_done_callback",)
    message = "Done-callback `{callback}` {does}; {outcome}"
    impacts = (Impact.NO_ALERTING, Impact.NO_TRACKING)
    risk = (
        "A crashed background job is treated like a finished one: follow-up work runs as if it "
        "succeeded and the exception is, at best, printed to the console."
    )

    def __init__(self, semantic, sink) -> None:
        super().__init__(semantic, sink)
        self.calls: List[ast.Call] = []
        self._outcomes: Dict[ast.Call, Outcome] = {}

    def visit_Call(self, node: ast.Call) -> None:
        func = node.func
        if isinstance(func, ast.Attribute) and func.attr == "add_done_callback" and len(node.args) == 1:
            self.calls.append(node)

    def leave_Module(self, node: ast.Module) -> None:
        for call in self.calls:
            spawns = self._spawns_of(call.func.value)  # type: ignore[attr-defined]
            if not spawns:
                continue
            verdict = self._verdict(call.args[0])
            if verdict.kind in ("reads", "unknown"):
                continue
            outcomes = [self._outcome(spawn) for spawn in spawns]
            if any(o.read or not self._others_ignore(o, call.args[0]) for o in outcomes):
                continue
            fields = self._fields(verdict, call.args[0])
            queries = [q for q in (self._raise_query(spawn) for spawn in spawns) if q is not None]
            if not queries:
                self.report(call.args[0], **fields)
            else:
                self.report_if(call.args[0], queries[0] if len(queries) == 1 else ("all", *queries), **fields)

    def _fields(self, verdict: Verdict, callback: ast.expr) -> dict:
        name = spelled(callback) if not isinstance(callback, ast.Lambda) else "lambda"
        if verdict.kind == "discards":
            return {
                "callback": name,
                "does": f"only removes the task from `{verdict.detail}`",
                "outcome": "if the work fails, its error is never handled (the loop only logs it when the task is freed)",
            }
        if verdict.kind == "raises-first":
            return {
                "callback": name,
                "does": f"can raise at line {verdict.detail} before it reads its future",
                "outcome": "then the failure is only logged by the loop, never handled",
            }
        return {"callback": name, "does": "never reads its future's result or exception", "outcome": "the failure passes for success"}

    def _outcome(self, spawn: ast.Call) -> Outcome:
        found = self._outcomes.get(spawn)
        if found is None:
            found = self._outcomes[spawn] = follow(self.semantic, spawn)
        return found

    def _others_ignore(self, outcome: Outcome, this: ast.expr) -> bool:
        """Whether every other done-callback of the work also leaves its error unread."""
        return all(cb is this or self._verdict(cb).kind in ("ignores", "discards") for cb in outcome.callbacks)

    def _raise_query(self, spawn: ast.Call) -> Optional[tuple]:
        """The question whose no says the task's coroutine cannot fail (nothing is lost)."""
        argument = spawn.args[0] if spawn.args else None
        if not isinstance(argument, ast.Call) or is_spawn_of_callable(spawn):
            return None
        ref = self.semantic.refs.ref_of(argument, self.names.scope_of(argument))
        return None if ref[0] == "unknown" else ("may-raise", ref)

    # ---- which work the callback is added to -----------------------------------------------

    def _spawns_of(self, receiver: ast.expr) -> List[ast.Call]:
        """The spawn calls whose task or future `receiver` certainly is, or [] when it may be
        anything else (a future made elsewhere, owned by someone who reads it)."""
        if isinstance(receiver, ast.Call):
            return [receiver] if is_spawn(self.semantic, receiver) else []
        values: List[ast.AST] = []
        if isinstance(receiver, ast.Name):
            function = self.names.enclosing_function(receiver)
            scope = self.names.scopes.get(function) if function is not None else self.names.module_scope
            bindings = scope.bindings.get(receiver.id, []) if scope is not None else []
            if not bindings or any(b.kind != "value" for b in bindings):
                return []
            values = [b.node for b in bindings]
        elif isinstance(receiver, ast.Attribute) and isinstance(receiver.value, ast.Name) and receiver.value.id == "self":
            owner = self.names.enclosing_class(receiver)
            if owner is None:
                return []
            values = list(self.names.scopes[owner].self_attrs.get(receiver.attr, []))
        if not values or not all(isinstance(v, ast.Call) and is_spawn(self.semantic, v) for v in values):
            return []
        return values  # type: ignore[return-value]

    # ---- what the callback does with its future ----------------------------------------------

    def _verdict(self, expr: ast.expr) -> Verdict:
        bound = 0
        if isinstance(expr, ast.Call) and self.names.qualified(expr.func) == "functools.partial" and expr.args:
            if expr.keywords:
                return Verdict("unknown")  # a keyword may bind the parameter the future would land in
            bound = len(expr.args) - 1
            expr = expr.args[0]
        if isinstance(expr, ast.Attribute) and expr.attr in _REMOVERS and not self._is_method_of_self(expr):
            return Verdict("discards", spelled(expr.value))  # `tasks.discard`: the keep-a-set idiom
        if isinstance(expr, ast.Lambda):
            return _body_verdict(expr.args, [expr.body], bound)
        if not isinstance(expr, (ast.Name, ast.Attribute)):
            return Verdict("unknown")
        function: Optional[FunctionNode] = self.names.function_def(expr)
        if function is None:
            return Verdict("unknown")
        if isinstance(expr, ast.Attribute) and not _is_static(function):
            bound += 1  # `self.on_done`: the instance fills the first parameter
        return _body_verdict(function.args, list(function.body), bound)

    def _is_method_of_self(self, expr: ast.Attribute) -> bool:
        return self.names.function_def(expr) is not None


def is_spawn_of_callable(spawn: ast.Call) -> bool:
    """`executor.submit(fn, ...)`: the work is a callable, not a coroutine the index follows."""
    func = spawn.func
    return isinstance(func, ast.Attribute) and func.attr == "submit"


def _is_static(function: FunctionNode) -> bool:
    return any(isinstance(d, ast.Name) and d.id == "staticmethod" for d in function.decorator_list)


def _body_verdict(arguments: ast.arguments, body: List[ast.AST], index: int) -> Verdict:
    if arguments.vararg is not None:
        return Verdict("unknown")  # `*args`: the future may be read as `args[0]`
    positional = [*arguments.posonlyargs, *arguments.args]
    if index >= len(positional):
        return Verdict("unknown")
    name = positional[index].arg
    parents: Dict[ast.AST, ast.AST] = {}
    for statement in body:
        for node in ast.walk(statement):
            for child in ast.iter_child_nodes(node):
                parents[child] = node
    discarded_from = ""
    for position, statement in enumerate(body):
        for node in ast.walk(statement):
            if isinstance(node, (ast.Global, ast.Nonlocal)) and name in node.names:
                return Verdict("unknown")
            if not (isinstance(node, ast.Name) and node.id == name and isinstance(node.ctx, ast.Load)):
                continue
            parent = parents.get(node)
            if isinstance(parent, ast.Attribute) and parent.value is node and parent.attr not in OBSERVING_METHODS:
                continue  # `done()`, `cancelled()`, `get_name()`: status that hides the error
            holder = _removed_from(node, parent, parents)
            if holder is not None:
                discarded_from = discarded_from or holder
                continue
            raising = _raises_before(body[:position])
            if raising is not None:
                return Verdict("raises-first", str(raising))
            return Verdict("reads")
    if discarded_from:
        return Verdict("discards", discarded_from)
    return Verdict("ignores")


def _removed_from(node: ast.Name, parent: Optional[ast.AST], parents: Dict[ast.AST, ast.AST]) -> Optional[str]:
    """The container a read hands the future to for removal: `tasks.discard(t)`, `del jobs[t]`."""
    if isinstance(parent, ast.Call) and node in parent.args and isinstance(parent.func, ast.Attribute):
        if parent.func.attr in _REMOVERS:
            return spelled(parent.func.value)
    if isinstance(parent, ast.Subscript) and parent.slice is node and isinstance(parent.ctx, ast.Del):
        return spelled(parent.value)
    return None


def _raises_before(statements: List[ast.AST]) -> Optional[int]:
    """The line of the first statement that can raise for an ordinary future: `list.remove`,
    a `dict.pop` without a default, `del d[key]`, `raise`."""
    for statement in statements:
        for node in ast.walk(statement):
            if isinstance(node, ast.Raise):
                return node.lineno
            if isinstance(node, ast.Delete) and any(isinstance(t, ast.Subscript) for t in node.targets):
                return node.lineno
            if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute):
                if node.func.attr == "remove" and len(node.args) == 1:
                    return node.lineno
                if node.func.attr == "pop" and len(node.args) == 1 and not node.keywords:
                    return node.lineno
    return None
