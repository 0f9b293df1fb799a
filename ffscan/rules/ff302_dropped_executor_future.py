"""FF302 dropped-executor-future: a future from an executor that nobody reads."""

from __future__ import annotations

import ast
from typing import Optional, Tuple

from ffscan.model import Applicability, Impact
from ffscan.rules import fixes
from ffscan.rules.base import Rule
from ffscan.semantic.flow import Use, defining_scope, fate, name_loads
from ffscan.semantic.spelling import spelled
from ffscan.semantic.stdlib import is_loop_expression
from ffscan.semantic.threads import executor_kind, handles_own_errors


class DroppedExecutorFuture(Rule):
    """## What it does
    Finds `executor.submit(fn, ...)` on a `concurrent.futures` executor and
    `loop.run_in_executor(executor, fn, ...)` outside `await` whose future is thrown away: an
    expression statement, a comprehension used as a statement, or a local that is never read.
    The receiver is an executor when the resolver knows it was built from
    `ThreadPoolExecutor`/`ProcessPoolExecutor` (a local, a `with ... as ex` binding, a
    `self._executor` attribute), or, when its type is unknown, when it is spelled like one
    (`executor`, `pool`, `self._executor`, `io_executor`).

    ## Why is this bad?
    A future holds the callable's exception until someone calls `.result()` or `.exception()`.
    Unlike a thread, whose exception `threading.excepthook` prints, a dropped future's exception
    is never printed, logged or raised: the job fails and nothing anywhere says so.

    ## Example
    ```python
    def on_upload(upload):
        executor.submit(make_thumbnail, upload.path)
    ```

    ## Fix
    ```python
    from ffscan.runtime import track

    def on_upload(upload):
        track(executor.submit(make_thumbnail, upload.path))
    ```
    `ffscan fix` keeps the future with `track(...)`, which reports the exception once. By hand:
    keep it and read `future.exception()` in a done-callback. With `durable-target` set in
    `[tool.ffscan.fix]` and a callable that is a task registered with that queue,
    `ffscan fix --unsafe-fixes` enqueues it on that queue instead (`enqueue(fn, *args)`, off the
    event loop, for `run_in_executor` and in `async def` code):
    ```python
    @app.task
    def make_thumbnail(path): ...

    def on_upload(upload):
        make_thumbnail.delay(upload.path)  # was executor.submit(make_thumbnail, upload.path)
    ```

    ## Fix safety
    Safe: `track` returns the same future (from `submit` or `run_in_executor`) and never
    blocks; the work runs exactly when it did and only a failure is now reported.
    Not offered where the module already uses the name `track` for something else (a
    function of its own, a loop variable): the import would change what that name means.
    Moving the call onto the durable queue (`fn.delay(*args, **kwargs)` for Celery,
    `fn.send(...)` for Dramatiq, or `enqueue(fn, *args, **kwargs)` on an event loop, which
    makes the broker call on a worker thread) is unsafe: the job runs later, in a worker
    process, with its arguments serialised (JSON by default), and may be retried. It is offered
    only for a dropped `executor.submit(fn, ...)` or `loop.run_in_executor(ex, fn, ...)`
    statement where `fn` is a name bound only by a module-level sync `def` whose outermost
    decorator registers it (`@<app>.task` of a Celery app this module or another module of the
    project makes, `@shared_task`, `@dramatiq.actor`, `@actor`, with or without arguments), and
    only when every argument is known to serialise (literals, `int`/`str`/`float`/`bool`
    parameters); the import of the queue is the project's own.

    ## Known limits
    A callable that is a local function catching every exception in its body is not reported.
    Futures kept in a list that is never read are not reported.
    """

    code = "FF302"
    name = "dropped-executor-future"
    subject = ("dropped executor future", "dropped executor futures")
    loss = "executor job failures are never seen"
    triggers = ("submit", "run_in_executor")
    message = "Future of `{callee}` from `{api}` is dropped; an exception raised by `{callee}` is never seen"
    fix_title = "Keep the future and report its failure with `track(...)`"
    fix_applicability = Applicability.SAFE
    impacts = (Impact.NO_TRACKING, Impact.NO_ALERTING)
    default_on = False
    off_reason = (
        "1 finding on ten real projects before narrowing, false (a custom class named `_cleanup_executor`), none after; peers read 1 real and 4 unclear of 20 dropped submits"
    )
    risk = (
        "When the submitted job fails, its exception stays inside a future nobody reads: the work "
        "silently does not happen and no log, alert or retry follows."
    )
    honours_detached = True

    def visit_Call(self, node: ast.Call) -> None:
        found = self._submitted(node)
        if found is None:
            return
        api, callable_expr = found
        if handles_own_errors(self.semantic, callable_expr):
            return
        if self._is_dropped(node):
            durable = fixes.submitted_on_durable(self.semantic, node, "Enqueue the registered task on the durable queue")
            tracked = fixes.track(self.semantic, node, "Wrap the future in `track(...)`")
            self.report(node, fixes=fixes.first(durable, tracked), callee=spelled(callable_expr), api=api)

    def _submitted(self, call: ast.Call) -> Optional[Tuple[str, ast.expr]]:
        func = call.func
        if not isinstance(func, ast.Attribute):
            return None
        if func.attr == "submit" and call.args and executor_kind(self.semantic, func.value) is not None:
            return f"{spelled(func.value)}.submit", call.args[0]
        if func.attr == "run_in_executor" and len(call.args) >= 2 and is_loop_expression(self.semantic, func.value):
            return f"{spelled(func.value)}.run_in_executor", call.args[1]
        return None

    def _is_dropped(self, call: ast.Call) -> bool:
        where = fate(self.semantic, call)
        if where.use is Use.DROPPED:
            return True
        if where.use is Use.BOUND and len(where.names) == 1 and where.names[0] != "_":
            scope = defining_scope(self.semantic, where.node)  # type: ignore[arg-type]
            if isinstance(scope, (ast.FunctionDef, ast.AsyncFunctionDef)):
                return not name_loads(self.semantic, scope).get(where.names[0])
        return False
