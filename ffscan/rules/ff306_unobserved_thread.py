"""FF306 unobserved-thread: a thread started per request or per item, never joined, whose failure
reaches only stderr."""

from __future__ import annotations

import ast

from ffscan.model import Impact
from ffscan.rules.base import Rule
from ffscan.semantic.names import FUNCTION_TYPES
from ffscan.semantic.spelling import spelled
from ffscan.semantic.stdlib import THREAD_CLASSES
from ffscan.semantic.threads import constructed_class, handle_fate, runs_forever, start_context, thread_target


class UnobservedThread(Rule):
    """## What it does
    Finds a thread (`threading.Thread`, `threading.Timer`) started and never joined nor kept,
    where the start runs per item or per event: inside a loop body, or in a function that is a
    decorated handler or a callback the module hands to another call; and whose target can
    raise what it does not handle: a `raise`, or a call into another service (network,
    database, files, a subprocess, as the semantic model and the catalogue of libraries know
    it), outside every `try` of its own, a few calls deep and across modules. A target that is
    a service loop (a `while` at its top level, `serve_forever`) is a service thread and is
    not reported; nor is code in `__init__` or `main`.

    ## Why is this bad?
    Work started per request and never observed has no tracking and no alerting: when it
    fails, `threading.excepthook` prints the traceback to stderr, and that is all. Nobody
    retries the upload, no error tracker hears of it, and the request that started it has long
    returned success.

    ## Example
    ```python
    @app.post("/upload")
    def upload(request):
        threading.Thread(target=make_thumbnail, args=(request.path,)).start()
    ```

    ## Fix
    ```python
    @app.post("/upload")
    def upload(request):
        background.submit(make_thumbnail, request.path)  # tracked: failures reported, drained
    ```
    Or keep the thread and join it where the outcome matters, or catch and report the error
    inside the target.

    ## Fix safety
    No automatic fix: whether the work should move onto a queue, be joined, or report its own
    failure depends on what the caller promised.

    ## Known limits
    Off by default: 1 real of 3 read on 34 real projects. A thread started in a package one of
    whose modules installs `threading.excepthook` (a crash reporter) is not reported: its
    failure reaches the hook (this removed two findings in electrum's QML app, whose Qt app,
    another package, installs none). A function is taken as a handler from its decorators or
    from being passed to a call, which also matches code that runs once (a startup callback, a
    CLI command).
    """

    code = "FF306"
    name = "unobserved-thread"
    subject = ("unobserved thread", "unobserved threads")
    triggers = ("Thread", "Timer")
    follows_background = True  # the target is often defined in another module
    message = "Thread running `{target}`, started {context}, is never joined: when it fails, the exception reaches only stderr ({effect})"
    impacts = (Impact.NO_TRACKING, Impact.NO_ALERTING)
    default_on = False
    off_reason = (
        "1 real of 3 read on 34 projects: a function passed as a callback or decorated is often "
        "run once (a bot's restart or stop command), not per request"
    )
    risk = (
        "Errors go to the console only: the per-request work fails with nobody paged and nothing "
        "retried, while the request that started it reported success."
    )
    honours_detached = True

    def __init__(self, semantic, sink) -> None:
        super().__init__(semantic, sink)
        self._made: list = []

    def visit_Call(self, node: ast.Call) -> None:
        cls = constructed_class(self.semantic, node)
        if cls in THREAD_CLASSES:
            self._made.append((node, cls))

    def leave_Module(self, module: ast.Module) -> None:
        # Reads of a handle may come after its construction: judge once the pass saw them all.
        for node, cls in self._made:
            self._check(node, cls)

    def _check(self, node: ast.Call, cls: str) -> None:
        semantic = self.semantic
        target = thread_target(node, cls)
        if target is None:
            return
        handle = handle_fate(semantic, node)
        if not handle.started or handle.kept:
            return
        run = target.body.func if isinstance(target, ast.Lambda) and isinstance(target.body, ast.Call) else target
        function = self.names.function_def(run)
        if isinstance(function, FUNCTION_TYPES) and runs_forever(function):
            return  # a service thread, started once: the interpreter joins it at exit
        context = start_context(semantic, node)
        ref = semantic.refs.ref_of(run, self.names.scope_of(node))
        if context is not None and ref[0] != "unknown":
            # A package that installs `threading.excepthook` sees its threads' failures.
            query = ("all", ("may-fail", ref), ("no-thread-hook", semantic.module_name))
            self.report_if(node, query, target=spelled(target), context=context)
