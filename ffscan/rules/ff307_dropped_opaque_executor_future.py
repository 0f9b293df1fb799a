"""FF307 dropped-opaque-executor-future: a dropped executor future of work whose failures
cannot be seen from here."""

from __future__ import annotations

import ast

from ffscan.model import Applicability, Impact
from ffscan.rules import fixes
from ffscan.rules.base import Rule
from ffscan.semantic.spelling import spelled
from ffscan.semantic.threads import dropped_submission, submitted


class DroppedOpaqueExecutorFuture(Rule):
    """## What it does
    Finds the dropped futures FF302 looks at (`executor.submit(fn, ...)`,
    `loop.run_in_executor(executor, fn, ...)` outside `await`, thrown away or bound to a local
    never read) where nothing says how `fn` fails: a parameter or a value of unknown type, a
    callable object, or a project function with no `raise` and no call into another service
    outside its `try` blocks, which still runs other code (`asyncio.run(coroutine)`, a plugin's
    hook). Where FF302 knows the failure, FF302 reports it instead.

    ## Why is this bad?
    Whatever the callable raises stays inside the future, and nobody asks the future: the
    exception is never printed, logged or raised.

    ## Example
    ```python
    def dispatch(self, handler):
        self._executor.submit(handler)
    ```

    ## Fix
    ```python
    from ffscan.runtime import track

    def dispatch(self, handler):
        track(self._executor.submit(handler))
    ```

    ## Fix safety
    Safe: `track` returns the same future and never blocks; only a failure is now reported.
    Not offered where the module already uses the name `track` for something else.

    ## Known limits
    Off by default: measured on 34 real projects as 2 real of 3 (a coroutine run with
    `asyncio.run` on a pool, whose failure only a `finally` sees; a helper that runs callables
    in the background and drops every future; not real: work that puts its own errors on the
    queue its caller reads), too few to earn a default. A callable that is itself a future-like
    object whose `result()` the code reads (rclpy's `Task`) is not reported.
    """

    code = "FF307"
    name = "dropped-opaque-executor-future"
    subject = ("dropped executor future", "dropped executor futures")
    triggers = ("submit", "run_in_executor")
    follows_background = True  # whether FF302 knows the callable's failure can take other modules
    message = "Future of `{callee}` from `{api}` is dropped: if it raises, the exception is never seen, not even logged"
    fix_title = "Keep the future and report its failure with `track(...)`"
    fix_applicability = Applicability.SAFE
    impacts = (Impact.NO_TRACKING, Impact.NO_ALERTING)
    default_on = False
    off_reason = (
        "3 real of 5 read on 48 projects: too few, for work whose failure nothing shows, to earn a default"
    )
    risk = (
        "When the submitted job fails, its exception stays inside a future nobody reads: the work "
        "silently does not happen and no log, alert or retry follows."
    )
    honours_detached = True

    def __init__(self, semantic, sink) -> None:
        super().__init__(semantic, sink)
        self._submits: list = []

    def visit_Call(self, node: ast.Call) -> None:
        found = submitted(self.semantic, node)
        if found is not None:
            self._submits.append((node, found))

    def leave_Module(self, module: ast.Module) -> None:
        # Whether the callable's own outcome is read can depend on later lines.
        for node, found in self._submits:
            self._check(node, found)

    def _check(self, node: ast.Call, found: tuple) -> None:
        dropped = dropped_submission(self.semantic, node, found)
        if dropped is None:
            return  # read, or handled by the callable itself
        fix = fixes.keep_future(self.semantic, node)
        fields = dict(callee=spelled(dropped.callable_expr), api=dropped.api)
        if dropped.work[0] == "unknown":
            self.report(node, fixes=fix, **fields)
        else:
            self.report_if(node, ("not", ("may-fail", dropped.work)), fixes=fix, **fields)
