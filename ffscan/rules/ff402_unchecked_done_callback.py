"""FF402 unchecked-done-callback: the only code that sees a finished task never reads its error."""

from __future__ import annotations

import ast
from typing import List, Optional, Tuple

from ffscan.model import Impact
from ffscan.rules.base import Rule
from ffscan.semantic.background import OBSERVING_METHODS, holder_observed, is_spawn
from ffscan.semantic.names import FunctionNode
from ffscan.semantic.spelling import spelled

Callback = Tuple[ast.arguments, List[ast.AST], int]


class UncheckedDoneCallback(Rule):
    """## What it does
    Finds `future.add_done_callback(callback)` where `callback` (a function of this module, a
    method, a `lambda` or a `functools.partial` of one) never reads the future it is given:
    it does not call `result()` or `exception()` on it and does not hand it on to anything
    else, and the future itself is not awaited, gathered or asked for its result elsewhere.

    Bound methods of other objects, such as the `tasks.discard` of the keep-a-reference idiom,
    are not reported: they hand the future on.

    ## Why is this bad?
    A done-callback is often the only code that runs when background work finishes. One that
    ignores its argument treats a crash like a success: the follow-up work runs as if nothing
    went wrong, a task's exception surfaces only as "Task exception was never retrieved" at
    some later garbage collection, and an executor future's exception is never shown at all.

    ## Example
    ```python
    def on_sent(_future):
        metrics.increment("receipts.sent")

    task = asyncio.create_task(send_receipt(order))
    task.add_done_callback(on_sent)
    ```

    ## Fix
    ```python
    def on_sent(future):
        if not future.cancelled() and future.exception() is not None:
            sentry_sdk.capture_exception(future.exception())
            return
        metrics.increment("receipts.sent")
    ```

    ## Fix safety
    No automatic fix: what a failed job should trigger (a report, a retry, skipping the
    follow-up work) is the author's call.

    ## Known limits
    Only callbacks defined in the same module are checked. A future that is awaited in a
    function other than the one (or, for `self.attr`, the class) that adds the callback is
    not seen, so the callback may be reported although the failure is read there.
    """

    code = "FF402"
    name = "unchecked-done-callback"
    subject = ("done-callback that ignores failure", "done-callbacks that ignore failure")
    loss = "failures pass for success"
    triggers = ("add_done_callback",)
    message = "Done-callback `{callback}` never reads its future's result or exception; the failure passes for success"
    fix_title = "Read `future.exception()` in the callback and report it"
    impacts = (Impact.NO_ALERTING, Impact.NO_TRACKING)
    risk = (
        "A crashed background job is treated like a finished one: follow-up work runs as if it "
        "succeeded and the exception is, at best, printed to the console."
    )
    default_on = False
    off_reason = (
        "0 findings on ten async projects and the standard library: precision unmeasured; "
        "the broader shape (any future) was 0 real of 8 read"
    )

    def __init__(self, semantic, sink) -> None:
        super().__init__(semantic, sink)
        self.calls: List[ast.Call] = []

    def visit_Call(self, node: ast.Call) -> None:
        func = node.func
        if isinstance(func, ast.Attribute) and func.attr == "add_done_callback" and len(node.args) == 1:
            self.calls.append(node)

    def leave_Module(self, node: ast.Module) -> None:
        for call in self.calls:
            callback = self._callback(call.args[0])
            if callback is None:
                continue
            arguments, body, index = callback
            future = _future_param(arguments, index)
            if future is None or _reads(body, future):
                continue
            receiver = call.func.value  # type: ignore[attr-defined]
            if not self._only_handle(receiver, call):
                continue
            self.report(call.args[0], callback=spelled(call.args[0]))

    def _only_handle(self, receiver: ast.expr, call: ast.Call) -> bool:
        """Whether the callback is the only code that can see how the work ended: the future
        comes straight from a spawn here, or from a name or `self` attribute bound only to
        spawns and never awaited, gathered, returned or asked for its result."""
        if isinstance(receiver, ast.Call):
            return is_spawn(self.semantic, receiver)
        values: List[ast.AST] = []
        if isinstance(receiver, ast.Name):
            found = self.names.binding(receiver.id, receiver)
            if found is None or found.kind != "value" or found.node is None:
                return False
            values = [found.node]
        elif isinstance(receiver, ast.Attribute) and isinstance(receiver.value, ast.Name) and receiver.value.id == "self":
            owner = self.names.enclosing_class(receiver)
            if owner is None:
                return False
            values = list(self.names.scopes[owner].self_attrs.get(receiver.attr, []))
        if not values or not all(isinstance(v, ast.Call) and is_spawn(self.semantic, v) for v in values):
            return False
        return not holder_observed(self.semantic, receiver, call)

    def _callback(self, expr: ast.expr) -> Optional[Callback]:
        """The callback's parameters, body and the index of the parameter the future lands in."""
        bound = 0
        if isinstance(expr, ast.Call) and self.names.qualified(expr.func) == "functools.partial" and expr.args:
            if expr.keywords:
                return None  # a keyword may bind the parameter the future would land in
            bound = len(expr.args) - 1
            expr = expr.args[0]
        if isinstance(expr, ast.Lambda):
            return expr.args, [expr.body], bound
        if not isinstance(expr, (ast.Name, ast.Attribute)):
            return None
        function: Optional[FunctionNode] = self.names.function_def(expr)
        if function is None:
            return None
        if isinstance(expr, ast.Attribute) and not _is_static(function):
            bound += 1  # `self.on_done`: the instance fills the first parameter
        return function.args, list(function.body), bound


def _is_static(function: FunctionNode) -> bool:
    return any(isinstance(d, ast.Name) and d.id == "staticmethod" for d in function.decorator_list)


def _future_param(arguments: ast.arguments, index: int) -> Optional[str]:
    if arguments.vararg is not None:
        return None  # `*args`: the future may be read as `args[0]`
    positional = [*arguments.posonlyargs, *arguments.args]
    if index >= len(positional):
        return None
    return positional[index].arg


def _reads(body: List[ast.AST], name: str) -> bool:
    """Whether `name` is used in any way other than asking for status that hides the error
    (`done()`, `cancelled()`, `get_name()`)."""
    parents = {}
    for statement in body:
        for node in ast.walk(statement):
            for child in ast.iter_child_nodes(node):
                parents[child] = node
    for statement in body:
        for node in ast.walk(statement):
            if isinstance(node, ast.Name) and node.id == name and isinstance(node.ctx, ast.Load):
                parent = parents.get(node)
                if isinstance(parent, ast.Attribute) and parent.value is node and parent.attr not in OBSERVING_METHODS:
                    continue
                return True
            if isinstance(node, (ast.Global, ast.Nonlocal)) and name in node.names:
                return True
    return False


