"""FF203 weakly-held-task: a task kept only by a weak reference or weak container."""

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
    hold_of,
    name_holds,
    spawned_task,
    suspend_query,
    weak_holder_text,
)


class WeaklyHeldTask(Rule):
    """## What it does
    Finds tasks made by `asyncio.create_task`, `asyncio.ensure_future` or `loop.create_task`
    whose only lasting reference is weak: added to a `weakref.WeakSet`, stored as a value of a
    `weakref.WeakValueDictionary` or as a key of a `weakref.WeakKeyDictionary`, or wrapped in
    `weakref.ref(...)`/`weakref.proxy(...)`, directly or through a local name that is not
    kept otherwise.

    ## Why is this bad?
    The event loop itself holds tasks only weakly; a weak container adds nothing. The task can
    be garbage-collected mid-flight and silently disappear from the container, so the code
    that meant to cancel or await "all running tasks" never sees it, and its failure is lost.

    ## Example
    ```python
    class Worker:
        def __init__(self):
            self._running = weakref.WeakSet()

        def submit(self, job):
            self._running.add(asyncio.create_task(job.run()))
    ```

    ## Fix
    ```python
    from ffscan.runtime import track

    class Worker:
        def submit(self, job):
            self._running.add(track(asyncio.create_task(job.run())))
    ```
    `ffscan fix` wraps the task in `track(...)`: a strong reference until it ends, and its
    failure reported. By hand: keep it in a strong set and discard it in a done-callback.

    ## Fix safety
    Safe: `track` returns the same task, so the weak container still gets it; the task runs
    exactly when it did and is now held until it ends, its failure reported.
    Not offered where the module already uses the name `track` for something else (a
    function of its own, a loop variable): the import would change what that name means.

    ## Known limits
    The weak container is recognised only when it is a local, module or `self` attribute built
    by `weakref.WeakSet()` (or the dictionaries) in this module. A task whose coroutine is an
    `async def` that never suspends is not reported: it finishes in its first step.
    """

    code = "FF203"
    name = "weakly-held-task"
    subject = ("weakly held task", "weakly held tasks")
    loss = "task failures are never handled"
    triggers = ("weakref", "WeakSet", "WeakValueDictionary", "WeakKeyDictionary")
    message = (
        "Task from `{callee}` is held only by `{holder}`; it can be garbage-collected mid-flight, "
        "and its error is never handled (the loop only logs it when the task is freed)"
    )
    fix_title = "Hold the task strongly with `track(...)`"
    fix_applicability = Applicability.SAFE
    impacts = (Impact.NO_TRACKING, Impact.NO_ALERTING)
    risk = (
        "The task can vanish from the weak container mid-flight: the work stops half-way, shutdown "
        "code that cancels or awaits the container's tasks never sees it, and its error is lost."
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
            return
        hold, holder = hold_of(self.semantic, node)
        if hold is Hold.WEAK:
            self._report(node, callee, weak_holder_text(holder))

    def leave_FunctionDef(self, node: ast.FunctionDef) -> None:
        self._check(node)

    def leave_AsyncFunctionDef(self, node: ast.AsyncFunctionDef) -> None:
        self._check(node)

    def _check(self, scope: ast.AST) -> None:
        for call, callee, bound in self.pending.pop(scope):
            holds = [name_holds(self.semantic, scope, name) for name in bound]
            if any(hold is Hold.KEEPS for hold, _ in holds):
                continue
            weak = [holder for hold, holder in holds if hold is Hold.WEAK]
            if weak:
                self._report(call, callee, weak_holder_text(weak[0]))

    def _report(self, call: ast.Call, callee: str, holder: str) -> None:
        query = suspend_query(self.semantic, call)  # a task that never suspends is never lost
        if query is None:
            self.report(call, fixes=self._track(call), callee=callee, holder=holder)
        else:
            self.report_if(call, query, fixes=self._track(call), callee=callee, holder=holder)
