"""FF207 abandoned-pending-tasks: `asyncio.wait` that may return early, its pending set dropped."""

from __future__ import annotations

import ast
from typing import Optional

from ffscan.model import Impact
from ffscan.rules.base import Rule
from ffscan.semantic.coroutines import coroutine_call
from ffscan.semantic.flow import name_loads
from ffscan.semantic.tasks import spawned_task

_WAIT = frozenset({"asyncio.wait", "asyncio.tasks.wait"})
_EARLY = frozenset(
    {"asyncio.FIRST_COMPLETED", "asyncio.FIRST_EXCEPTION", "asyncio.tasks.FIRST_COMPLETED", "asyncio.tasks.FIRST_EXCEPTION",
     "concurrent.futures.FIRST_COMPLETED", "concurrent.futures.FIRST_EXCEPTION"}
)
_DISPLAYS = (ast.List, ast.Set, ast.Tuple, ast.ListComp, ast.SetComp)


class AbandonedPendingTasks(Rule):
    """## What it does
    Finds `await asyncio.wait(aws, ...)` that can return before every task is done (with
    `return_when=FIRST_COMPLETED` or `FIRST_EXCEPTION`, or a `timeout`) when the tasks are
    made right there (`create_task`, `ensure_future` or coroutines in a list, set or
    comprehension written in the call, or in a local that nothing else reads) and the
    pending set it returns is dropped: the call is a statement, the set is unpacked into a
    name that is never read (`done, _ = ...`), or only `[0]` of the result is taken.

    ## Why is this bad?
    `asyncio.wait` never cancels what is still running when it returns. Tasks nobody else
    holds keep running unowned: a losing "race" keeps its connection open, a timed-out
    request keeps writing, nothing can cancel them on shutdown, and when one fails its error
    is never handled (the loop only logs it when the task is freed).

    ## Example
    ```python
    async def first_answer(query):
        done, _ = await asyncio.wait(
            [asyncio.create_task(ask(server, query)) for server in SERVERS],
            return_when=asyncio.FIRST_COMPLETED,
        )
        return done.pop().result()
    ```

    ## Fix
    ```python
    async def first_answer(query):
        done, pending = await asyncio.wait(
            [asyncio.create_task(ask(server, query)) for server in SERVERS],
            return_when=asyncio.FIRST_COMPLETED,
        )
        for task in pending:
            task.cancel()
        return done.pop().result()
    ```

    ## Fix safety
    No automatic fix: whether the pending tasks should be cancelled, awaited later or kept
    running under an owner is the author's decision.

    ## Known limits
    Only tasks made in the call, or in a local list read by nothing but the `wait`, are
    followed; a pending set that is read in any way counts as handled.
    """

    code = "FF207"
    name = "abandoned-pending-tasks"
    subject = ("pending set dropped after `asyncio.wait`", "pending sets dropped after `asyncio.wait`")
    loss = "tasks still running after `asyncio.wait` are never owned"
    triggers = ("wait",)
    message = (
        "`asyncio.wait` can return with tasks still pending ({why}), and its pending set is dropped; "
        "they keep running unowned and their errors are never handled"
    )
    impacts = (Impact.NO_TRACKING, Impact.NO_ALERTING)
    risk = (
        "Work that lost the race or timed out keeps running with nobody to cancel it on shutdown, "
        "and a failure of it is only logged by the loop when the task is freed."
    )
    default_on = False
    off_reason = (
        "1 finding on ten async projects and 24 applications, real; of 4 read with public hits of the shape, "
        "3 real (75%): too few to earn a default, and one only leaves a task waiting on an event"
    )

    def visit_Call(self, node: ast.Call) -> None:
        if self.names.qualified(node.func) not in _WAIT or not node.args:
            return
        why = self._may_return_early(node)
        if why is None or not self._unowned(node.args[0], node):
            return
        if why.startswith("`return_when") and self._count(node.args[0]) == 1:
            return  # one task and no timeout: it returns when that task is done, nothing pending
        if self._pending_dropped(node):
            self.report(node, why=why)

    def _may_return_early(self, call: ast.Call) -> Optional[str]:
        for keyword in call.keywords:
            if keyword.arg == "return_when":
                qualified = self.names.qualified(keyword.value)
                if qualified in _EARLY:
                    return f"`return_when={qualified.rsplit('.', 1)[-1]}`"
            if keyword.arg == "timeout" and not (isinstance(keyword.value, ast.Constant) and keyword.value.value is None):
                return "a `timeout`"
        if len(call.args) >= 2 and not (isinstance(call.args[1], ast.Constant) and call.args[1].value is None):
            return "a `timeout`"  # the older positional form: wait(aws, timeout)
        return None

    def _unowned(self, aws: ast.expr, call: ast.Call) -> bool:
        """Whether the awaitables are made right there, so that nothing else holds them."""
        if isinstance(aws, _DISPLAYS):
            return self._made_here(aws)
        if not isinstance(aws, ast.Name):
            return False
        function = self.names.enclosing_function(call)
        if function is None:
            return False
        binding = self.names.binding(aws.id, aws)
        scope = self.names.scopes.get(function)
        if binding is None or binding.kind != "value" or scope is None or len(scope.bindings.get(aws.id, ())) != 1:
            return False
        if not isinstance(binding.node, _DISPLAYS) or not self._made_here(binding.node):
            return False
        loads = name_loads(self.semantic, function).get(aws.id, ())
        return all(load is aws for load in loads)  # the list is read by the `wait` alone

    def _count(self, aws: ast.expr) -> int:
        """How many awaitables a display holds (0 for a comprehension or a name: any number)."""
        if isinstance(aws, ast.Name):
            binding = self.names.binding(aws.id, aws)
            aws = binding.node if binding is not None and binding.node is not None else aws
        if isinstance(aws, (ast.List, ast.Set, ast.Tuple)):
            return len(aws.elts)
        return 0

    def _made_here(self, display: ast.expr) -> bool:
        elements = [display.elt] if isinstance(display, (ast.ListComp, ast.SetComp)) else list(display.elts)  # type: ignore[attr-defined]
        return bool(elements) and all(
            isinstance(e, ast.Call) and (spawned_task(self.semantic, e) is not None or coroutine_call(self.semantic, e) is not None)
            for e in elements
        )

    def _pending_dropped(self, call: ast.Call) -> bool:
        semantic = self.semantic
        awaited = semantic.parent(call)
        if not isinstance(awaited, ast.Await):
            return False
        parent = semantic.parent(awaited)
        if isinstance(parent, ast.Expr):
            return True
        if isinstance(parent, ast.Subscript) and parent.value is awaited:
            index = parent.slice
            return isinstance(index, ast.Constant) and index.value == 0
        if isinstance(parent, ast.Assign) and parent.value is awaited and len(parent.targets) == 1:
            target = parent.targets[0]
            if isinstance(target, (ast.Tuple, ast.List)) and len(target.elts) == 2 and isinstance(target.elts[1], ast.Name):
                pending = target.elts[1].id
                if pending == "_":
                    return True
                function = self.names.enclosing_function(call)
                return function is not None and not name_loads(semantic, function).get(pending)
        return False
