"""FF404 unobserved-kept-task: a task kept on `self` or in a set whose outcome nothing reads."""

from __future__ import annotations

import ast
from typing import List, Optional, Set, Tuple

from ffscan.model import Impact
from ffscan.rules.base import Rule
from ffscan.semantic.outcomes import follow
from ffscan.semantic.tasks import spawned_task


class UnobservedKeptTask(Rule):
    """## What it does
    Finds a task (`asyncio.create_task`, `ensure_future`, `loop.create_task`,
    `asyncio.Task(...)`) that is kept, on a `self` attribute or in a set or list of running
    tasks, when no code of the module ever reads how it ended: nothing awaits it, gathers it
    (a `gather(..., return_exceptions=True)` whose results are dropped reads nothing), asks for
    `result()` or `exception()`, hands it on, or adds a done-callback to it. Cancelling it,
    asking `done()`, testing it for `None`, resetting the attribute and discarding it from the
    set read nothing. Reported only when the coroutine the task runs can raise, and once for
    the same work restarted into the same holder (at its first start).

    ## Why is this bad?
    Keeping the task saves it from the garbage collector, not its failure. When the work
    fails (a reader loop hits a malformed frame, an initialisation step cannot reach its
    database) nothing notices: the error is never handled, the loop logs "Task exception was
    never retrieved" only once the task is freed, and whatever waits for that work (pending
    requests, commands waiting for "ready") hangs.

    ## Example
    ```python
    class Downloader:
        def start(self):
            self._init_task = asyncio.create_task(self.initialize())

        def unload(self):
            if self._init_task is not None:
                self._init_task.cancel()
    ```

    ## Fix
    ```python
    class Downloader:
        def start(self):
            self._init_task = asyncio.create_task(self.initialize())
            self._init_task.add_done_callback(self._initialized)

        def _initialized(self, task):
            if not task.cancelled() and task.exception() is not None:
                log.error("initialisation failed", exc_info=task.exception())
                self._ready_failed = True
    ```

    ## Fix safety
    No automatic fix: what should follow a failure of the work (a report, a restart,
    failing what waits for it) is the author's call.

    ## Known limits
    Only uses in the same module are followed: an attribute read by another module counts as
    unread here. A coroutine counts as able to raise unless it is a project `async def` (not
    an empty default a subclass may override) whose every statement is guarded: a `try` with
    a broad handler that does not re-raise, a loop or `if` of such statements, a sleep, an
    assignment that calls nothing. Tasks with a done-callback are FF402's: it reports the
    callback when it ignores the failure.
    """

    code = "FF404"
    name = "unobserved-kept-task"
    subject = ("kept task whose failure nobody reads", "kept tasks whose failure nobody reads")
    loss = "task failures are never handled"
    triggers = ("create_task", "ensure_future", "Task(")
    message = (
        "Task from `{callee}` is kept in `{holder}` but nothing reads its outcome; if it fails, its "
        "error is never handled (the loop only logs it when the task is freed)"
    )
    impacts = (Impact.NO_ALERTING, Impact.NO_TRACKING)
    risk = (
        "The background work can die on its first error and nothing notices: what waits for it "
        "hangs, and the only trace is 'Task exception was never retrieved' when the task is freed."
    )
    default_on = False
    off_reason = (
        "12 real of 41 read (29%) on ten async projects and 38 applications: coroutines that guard their "
        "own loop (`async with session:` around a guarded loop) or call a helper that does (a job runner "
        "that counts failures), and work whose failure loses nothing"
    )

    def __init__(self, semantic, sink) -> None:
        super().__init__(semantic, sink)
        self._spawns: List[Tuple[ast.Call, str]] = []

    def visit_Call(self, node: ast.Call) -> None:
        callee = spawned_task(self.semantic, node)
        if callee is None and self.names.qualified(node.func) in ("asyncio.Task", "asyncio.tasks.Task"):
            callee = "asyncio.Task"
        if callee is not None and node.args and isinstance(node.args[0], ast.Call):
            self._spawns.append((node, callee))

    def leave_Module(self, node: ast.Module) -> None:
        # Every use of the task must be linked to its parent: the whole module has been seen.
        reported: Set[tuple] = set()
        for spawn, callee in self._spawns:
            self._check(spawn, callee, reported)

    def _check(self, node: ast.Call, callee: str, reported: Set[tuple]) -> None:
        outcome = follow(self.semantic, node)
        if outcome.read or outcome.callbacks or not outcome.holders or outcome.weak:
            return  # read somewhere, FF402's (a done-callback), not kept (FF201, FF202), held weakly (FF203)
        # The same work restarted into the same holder is one finding, at its first start.
        key = (self.names.enclosing_class(node), outcome.holders[-1], ast.dump(node.args[0].func))
        if key in reported:
            return
        reported.add(key)
        query = self._raise_query(node.args[0])
        fields = {"callee": callee, "holder": outcome.holders[-1]}
        if query is None:
            self.report(node, **fields)
        else:
            self.report_if(node, query, **fields)

    def _raise_query(self, coroutine: ast.Call) -> Optional[tuple]:
        ref = self.semantic.refs.ref_of(coroutine, self.names.scope_of(coroutine))
        return None if ref[0] == "unknown" else ("may-raise", ref)
