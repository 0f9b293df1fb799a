"""FF201 dangling-task: a task whose only reference is dropped at once."""

from __future__ import annotations

import ast
from typing import List, Optional

from ffscan.model import Applicability, Fix, Impact
from ffscan.rules import fixes
from ffscan.rules.base import Rule
from ffscan.semantic import flow
from ffscan.semantic.spelling import spelled
from ffscan.semantic.tasks import is_looking_call, spawned_task, suspend_query, task_query

# What becomes of a dropped task's error, unless its coroutine catches everything (the index's
# answer to "error-fate" says which).
_UNHANDLED = "its error is never handled (the loop only logs it when the task is freed)"
# APIs that call a callback and throw its return value away.
_CALLBACK_DROPPERS = frozenset(
    {"call_soon", "call_soon_threadsafe", "call_later", "call_at", "add_done_callback", "add_signal_handler"}
)


class DanglingTask(Rule):
    """## What it does
    Finds tasks made by `asyncio.create_task`, `asyncio.ensure_future` or `loop.create_task`
    (under any alias, on any expression that is an event loop) whose result is thrown away:
    an expression statement, a method called on the new task and dropped
    (`create_task(c).add_done_callback(cb)`), a list or set comprehension used as a statement,
    a `lambda` handed to a loop callback API that ignores what it returns, or an argument of
    a call that only looks at it (`print(...)`, `repr(...)`, `logger.debug(...)`).
    `ensure_future(x)` counts only when `x` is a call made right there or a name bound to a
    coroutine: given a task or future, it returns that same object, which may be kept elsewhere.

    A project helper that returns the task it starts (`def safe_ensure_future(c): return
    ensure_future(safe_wrapper(c))`) counts as a spawner, in any module. When the task's
    coroutine is a project `async def` whose own broad handler keeps it from ending with an
    exception (`safe_wrapper`), the message says the error reaches only that handler: the loop
    never hears of it.

    ## Why is this bad?
    The event loop keeps only a weak reference to a task. A task nobody references can be
    garbage-collected before it finishes, so the work silently stops half-way; and when it
    fails, nothing handles its exception: the loop logs "Task exception was never retrieved"
    when the task is freed, far from its cause, and no retry or alert follows. Nobody can
    cancel it on shutdown either.

    ## Example
    ```python
    async def create_order(request):
        order = await save(request)
        asyncio.create_task(send_receipt(order))
        return order
    ```

    ## Fix
    ```python
    from ffscan.runtime import background

    async def create_order(request):
        order = await save(request)
        background.spawn(send_receipt, order)  # tracked: retried, failures reported, drained
        return order
    ```
    That is for a short unit of work (an e-mail, a cache refresh, a webhook). Work that waits on
    others keeps its own task, since it would hold one of the queue's slots for as long as it
    waits:
    ```python
    async def on_connect(ws):
        track(asyncio.create_task(read_messages(ws)))  # `async for message in ws`: long-lived
    ```
    Or keep the task yourself: add it to a set and discard it in a done-callback that also
    reads its exception, or use `asyncio.TaskGroup` when the caller should wait for it.
    With `durable-target` set in `[tool.ffscan.fix]`, a dropped
    `create_task(asyncio.to_thread(fn, *args))` whose `fn` is a task registered with that queue
    becomes `enqueue(fn, *args)`, which sends it from a worker thread.

    ## Fix safety
    Wrapping the task in `track(...)` is safe: it keeps a reference and reports the failure
    without changing when the work runs. Moving it to `background.spawn(fn, *args)` (or
    `queue("<name>").spawn(...)` with `[tool.ffscan.fix] queue`) is unsafe: the queue may start
    it later, and a retry runs it again, which is only right when the work is idempotent. It is
    offered only where ffscan has read `fn` (in this module, or in another module of the
    project) and found a short unit of work: no `while` loop that awaits, no `async for`, no
    await of a future, queue, event or lock it did not make, no sleep of a second or more, and
    not started from an `asyncio.Protocol` callback; otherwise the unsafe fix is `track(...)`
    too, and its title says why. Neither is offered where the module already uses the name
    (`track`, `background`, `queue`) for something else, a function of its own or a loop
    variable: the import would change what that name means. Enqueueing on the durable queue is
    unsafe too (the job runs later in a worker process, with serialised arguments, and may be
    retried), and only for `to_thread` of a sync `def` registered with it whose arguments are
    known to serialise: Celery and Dramatiq tasks are plain functions, so a coroutine function
    is never moved there.

    ## Known limits
    A task whose coroutine is a call of an `async def` with no `await`, `async for` or
    `async with` of its own is not reported: it runs to its end in its first step, so it
    cannot be collected half-way (a failure of it still only reaches the loop's log).
    """

    code = "FF201"
    name = "dangling-task"
    subject = ("dropped task", "dropped tasks")
    loss = "task failures are never handled"
    message = "Task from `{callee}` is dropped; it can be garbage-collected mid-flight, and {fate}"
    fix_title = "Keep a reference to the task and report its failure"
    fix_applicability = Applicability.SAFE
    impacts = (Impact.NO_TRACKING, Impact.NO_ALERTING, Impact.NO_RETRY)
    risk = (
        "The background work can stop half-way without a trace; failures are never handled and only "
        "surface as 'Task exception was never retrieved' in the logs, long after the request that caused them."
    )
    honours_detached = True
    peer_codes = ("RUF006", "ASYNCIO-DANGLING-TASK", "UNUSED-AWAITABLE")  # ruff; mypy
    triggers = ("create_task", "ensure_future")

    def visit_Expr(self, node: ast.Expr) -> None:
        value = node.value
        if isinstance(value, (ast.ListComp, ast.SetComp)):
            value = value.elt
        if isinstance(value, ast.Call):
            self._check_dropped(value)

    def visit_Call(self, node: ast.Call) -> None:
        # `log.debug("started %s", create_task(c))`: the logger keeps no reference.
        fate = flow.fate(self.semantic, node)
        if fate.use is flow.Use.PASSED and isinstance(fate.node, ast.Call) and is_looking_call(self.semantic, fate.node):
            callee = spawned_task(self.semantic, node)
            if callee is not None:
                self._report_spawn(node, callee)

    def visit_Lambda(self, node: ast.Lambda) -> None:
        call = self.semantic.parent(node)
        if not (isinstance(call, ast.Call) and node in call.args):
            return
        if isinstance(call.func, ast.Attribute) and call.func.attr in _CALLBACK_DROPPERS and isinstance(node.body, ast.Call):
            self._check_dropped(node.body)

    def _check_dropped(self, call: ast.Call) -> None:
        spawned = self._spawned_task(call)
        if spawned is not None:
            self._report_spawn(*spawned)
            return
        query = task_query(self.semantic, call)
        if query is not None:
            callee = spelled(call.func)
            fate = ("error-fate", query[1], True, _UNHANDLED)  # its answer gives `fate`
            self.report_if(call, ("all", query, fate), fixes=self._fixes(call, callee), callee=callee)

    def _report_spawn(self, call: ast.Call, callee: str) -> None:
        """Report the dropped task unless its coroutine certainly never suspends: such a task
        runs to its end in its first step and cannot be collected half-way. Where the
        coroutine is a project `async def` that catches everything, say that its handler is
        where the error goes."""
        suspends = suspend_query(self.semantic, call)
        if suspends is None:
            self.report(call, fixes=self._fixes(call, callee), callee=callee, fate=_UNHANDLED)
            return
        fate = ("error-fate", suspends[1], False, _UNHANDLED)  # its answer gives `fate`
        self.report_if(call, ("all", suspends, fate), fixes=self._fixes(call, callee), callee=callee)

    def _fixes(self, call: ast.Call, callee: str) -> List[Fix]:
        """Best first: the durable queue (when configured), then the tracked queue for a short
        unit of work or `track(...)` for work that waits on others (or cannot be read)."""
        semantic = self.semantic
        durable = fixes.to_thread_on_durable(semantic, call, "Enqueue the registered task on the durable queue")
        tracked = fixes.track(semantic, call, fixes.KEEP_TITLE)
        # The queue returns a job, not a task: only a task dropped as a statement can move,
        # and only from asyncio's own spawners (a loop's `create_task` may be another loop's).
        work = fixes.queued_work(semantic, call)
        if work is None or not fixes.is_dropped(semantic, call) or callee not in ("asyncio.create_task", "asyncio.ensure_future"):
            return fixes.first(durable, tracked)
        remedies = fixes.remedies(
            work,
            lambda title: fixes.spawn_on_queue(semantic, call, title),
            fixes.queue_title(semantic),
            lambda title: fixes.track(semantic, call, title),
        )
        return fixes.first(durable, *remedies)

    def _spawned_task(self, call: ast.Call) -> Optional[tuple]:
        callee = spawned_task(self.semantic, call)
        if callee is not None:
            return call, callee
        # `create_task(c).add_done_callback(cb)`: the callback does not keep the task alive.
        func = call.func
        if isinstance(func, ast.Attribute) and isinstance(func.value, ast.Call):
            inner = spawned_task(self.semantic, func.value)
            if inner is not None:
                return func.value, inner
        return None
