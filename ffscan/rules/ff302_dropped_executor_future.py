"""FF302 dropped-executor-future: a future from an executor that nobody reads."""

from __future__ import annotations

import ast

from ffscan.model import Applicability, Impact
from ffscan.rules import fixes
from ffscan.rules.base import Rule
from ffscan.semantic.spelling import spelled
from ffscan.semantic.threads import dropped_submission, submitted


class DroppedExecutorFuture(Rule):
    """## What it does
    Finds `executor.submit(fn, ...)` on a `concurrent.futures` executor and
    `loop.run_in_executor(executor, fn, ...)` outside `await` whose future is thrown away (an
    expression statement, a comprehension used as a statement, or a local that is never read),
    where `fn` can fail with an exception it does not handle: it is itself a call into another
    service (`cursor.execute`, `requests.get`), or a project function that raises, or calls
    one, outside every `try` of its own, a few calls deep and across modules (known through the
    semantic model and the catalogue of libraries). The message names the failure found.

    The receiver is an executor when the resolver knows it was built from
    `ThreadPoolExecutor`/`ProcessPoolExecutor` (a local, a `with ... as ex` binding, a
    `self._executor` attribute), or, when its type is unknown, when it is spelled like one
    (`executor`, `pool`, `self._executor`, `io_executor`) and used like one.

    ## Why is this bad?
    A future holds the callable's exception until someone calls `.result()` or `.exception()`.
    Unlike a thread, whose exception `threading.excepthook` prints, a dropped future's exception
    is never printed, logged or raised: the job fails and nothing anywhere says so. A
    `try`/`except` around the `submit` never sees it either.

    ## Example
    ```python
    def on_upload(upload):
        executor.submit(make_thumbnail, upload.path)

    def make_thumbnail(path):
        with open(path, "rb") as image:
            ...
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
    A callable whose failures cannot be seen (a parameter, a callable object of unknown
    class, work of unknown origin such as `asyncio.run(coroutine)`) is FF307's. A callable
    that is a local function catching every exception in its body is not reported, nor one
    that is itself a future-like object whose `result()` the code reads. Futures kept in a
    list that is never read are not reported.
    """

    code = "FF302"
    name = "dropped-executor-future"
    subject = ("dropped executor future", "dropped executor futures")
    loss = "executor job failures are never seen"
    triggers = ("submit", "run_in_executor")
    message = "Future of `{callee}` from `{api}` is dropped: when it fails ({effect}), the exception is never seen, not even logged"
    fix_title = "Keep the future and report its failure with `track(...)`"
    fix_applicability = Applicability.SAFE
    impacts = (Impact.NO_TRACKING, Impact.NO_ALERTING)
    default_on = True
    risk = (
        "When the submitted job fails, its exception stays inside a future nobody reads: the work "
        "silently does not happen and no log, alert or retry follows."
    )
    honours_detached = True
    follows_background = True  # the submitted callable is often defined in another module

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
        if dropped is None or dropped.work[0] == "unknown":
            return  # read or handled; or FF307's: nothing says how it fails
        self.report_if(
            node, ("may-fail", dropped.work), fixes=fixes.keep_future(self.semantic, node),
            callee=spelled(dropped.callable_expr), api=dropped.api,
        )
