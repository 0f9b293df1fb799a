"""FF202 unused-task-binding: a task bound to a local name that dies unused."""

from __future__ import annotations

import ast
from typing import List

from ffscan.model import Applicability, Fix, Impact
from ffscan.rules import fixes
from ffscan.rules.base import Rule
from ffscan.semantic.tasks import (
    Hold,
    PendingBindings,
    bound_locals,
    name_holds,
    spawned_task,
    suspend_query,
)


class UnusedTaskBinding(Rule):
    """## What it does
    Finds tasks made by `asyncio.create_task`, `asyncio.ensure_future` or `loop.create_task`
    that are bound to a local name of a function and never awaited, returned, stored, passed
    on or gathered there. Reading the task only to add a done-callback, name it, print it,
    log it or test it does not count as keeping it. `_ = asyncio.create_task(...)` inside a
    function is reported too.

    ## Why is this bad?
    A local name keeps the task alive only until the function returns; after that the event
    loop's weak reference is all that is left, so the task can be garbage-collected half-way.
    Nobody awaits it, so its exception is never handled: the loop logs "Task exception was
    never retrieved" when the task is freed, much later, and nobody can cancel it on shutdown. A done-callback does not
    help: the task holds its callbacks, not the other way round.

    ## Example
    ```python
    async def on_connect(self, peer):
        heartbeat = asyncio.create_task(self.ping_forever(peer))
        heartbeat.add_done_callback(lambda t: log.info("heartbeat stopped"))
        await self.handshake(peer)
    ```

    ## Fix
    ```python
    from ffscan.runtime import track

    async def on_connect(self, peer):
        heartbeat = track(asyncio.create_task(self.ping_forever(peer)))
        heartbeat.add_done_callback(lambda t: log.info("heartbeat stopped"))
        await self.handshake(peer)
    ```
    `ffscan fix` wraps the task in `track(...)`, which holds it until it ends and reports its
    failure. Where a person decides, keep the task where it outlives the function (an
    attribute, a set of background tasks whose done-callback discards it and reads its
    exception), or await it before returning.

    ## Fix safety
    Safe: `track` returns the same task, so the name is bound to the same object and the task
    runs exactly when it did; only a failure is now reported (through the `ffscan.runtime`
    logger, or the hook given to `set_error_hook`).
    Not offered where the module already uses the name `track` for something else (a
    function of its own, a loop variable): the import would change what that name means.

    ## Known limits
    A name bound twice keeps both tasks as soon as one read keeps it; a task bound in a loop
    whose last value alone is awaited is not reported. Bindings at module level, in a class
    body, or declared `global`/`nonlocal` are taken as kept. A task whose coroutine is an
    `async def` that never suspends (no `await`, `async for` or `async with` of its own) is not
    reported: it finishes in its first step.
    """

    code = "FF202"
    name = "unused-task-binding"
    subject = ("task bound and forgotten", "tasks bound and forgotten")
    loss = "task failures are never handled"
    triggers = ("create_task", "ensure_future")
    message = (
        "Task from `{callee}` is bound to `{name}` and never kept; it can be garbage-collected mid-flight, "
        "and its error is never handled (the loop only logs it when the task is freed)"
    )
    fix_title = "Keep the task alive and its failure reported with `track(...)`"
    fix_applicability = Applicability.SAFE
    impacts = (Impact.NO_TRACKING, Impact.NO_ALERTING)
    risk = (
        "The background work can stop half-way once the function returns; its failure is never "
        "awaited, so it is never handled and only surfaces as 'Task exception was never retrieved' in the logs."
    )
    honours_detached = True

    def __init__(self, semantic, sink) -> None:
        super().__init__(semantic, sink)
        self.pending = PendingBindings()

    def _track(self, call: ast.Call) -> List[Fix]:
        return fixes.first(fixes.track(self.semantic, call, "Wrap the task in `track(...)`"))

    def visit_Call(self, node: ast.Call) -> None:
        callee = spawned_task(self.semantic, node)
        if callee is None:
            return
        bound = bound_locals(self.semantic, node)
        if bound is not None:
            self.pending.add(bound[0], node, callee, bound[1])

    def leave_FunctionDef(self, node: ast.FunctionDef) -> None:
        self._check(node)

    def leave_AsyncFunctionDef(self, node: ast.AsyncFunctionDef) -> None:
        self._check(node)

    def _check(self, scope: ast.AST) -> None:
        for call, callee, bound in self.pending.pop(scope):
            if all(name_holds(self.semantic, scope, name)[0] is Hold.NONE for name in bound):
                query = suspend_query(self.semantic, call)  # a task that never suspends is never lost
                if query is None:
                    self.report(call, fixes=self._track(call), callee=callee, name=bound[0])
                else:
                    self.report_if(call, query, fixes=self._track(call), callee=callee, name=bound[0])
