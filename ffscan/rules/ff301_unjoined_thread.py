"""FF301 unjoined-thread: a thread nobody waits for, where that loses work or its failure."""

from __future__ import annotations

import ast
from typing import Optional

from ffscan.model import Applicability, Fix, Impact
from ffscan.rules import fixes
from ffscan.rules.base import Rule
from ffscan.semantic.names import FUNCTION_TYPES
from ffscan.semantic.spelling import spelled
from ffscan.semantic.stdlib import THREAD_CLASSES
from ffscan.semantic.threads import (
    constructed_class,
    drained_queue,
    feeds_its_starter,
    handle_fate,
    is_daemon,
    liveness_joins,
    may_join_on_liveness,
    owner_stop,
    thread_target,
)


class UnjoinedThread(Rule):
    """## What it does
    Finds threads (`threading.Thread`, `threading.Timer`) that nobody waits for, where that
    loses work. Three cases, each named in the message:

    - a daemon thread (`daemon=True`, `t.daemon = True`, `t.setDaemon(True)`), started and
      never joined nor kept, whose work writes a file or a database (a `write`, `commit`,
      `executemany`, ... on a file or database object, as the semantic model and the
      catalogue of libraries know it, two calls deep, across modules), unless it drains a
      queue the code joins before exit, or feeds a queue that the function starting it reads
      (a producer streaming a response: its reader waits for it and ends with the process);
    - a worker thread of an object (started in a method to run `self.<worker>`, a loop
      reading a `self.` queue) whose class has a method that puts a sentinel into that queue
      to stop it, while no method of the class ever joins a thread;
    - a thread of a `threading.Thread` subclass whose `join` re-raises the exception the
      thread stored, joined only under `while t.is_alive():` or `if t.is_alive():`.

    ## Why is this bad?
    The interpreter does not wait for daemon threads: at exit they are stopped wherever they
    are, without `finally` blocks or `with` exits running. A daemon thread in the middle of
    writing a file or a batch of rows leaves it half-written, and nothing says so. A `stop()`
    that only asks its workers to end returns while they still run: whatever it releases
    next (the connection, the session) goes from under them. And a thread that finished
    before its liveness check is never joined, so the exception its `join` would raise is
    lost.

    ## Example
    ```python
    def save_later(report):
        threading.Thread(target=write_report, args=(report,), daemon=True).start()

    def write_report(report):
        with open(report.path, "w") as out:
            out.write(report.render())
    ```

    ## Fix
    ```python
    def save_later(report):
        threading.Thread(target=write_report, args=(report,), daemon=False).start()
    ```
    `ffscan fix --unsafe-fixes` turns `daemon=True` into `daemon=False`: the interpreter joins
    non-daemon threads at exit. By hand, keep the threads and join them on shutdown, after
    telling them to stop and before releasing what they use:
    ```python
    def stop(self):
        for _ in self.workers:
            self.updates.put(None)
        for worker in self.workers:
            worker.join()
        self.session.close()
    ```

    ## Fix safety
    Unsafe: exit now waits for the thread, which hangs the process if the thread never ends.
    `daemon=False` is written rather than the keyword removed, because a thread started from
    a daemon thread would otherwise inherit daemon mode. Offered only for the `daemon=True`
    keyword of a daemon thread that writes; `t.daemon = True` and `setDaemon(True)` are left
    to a person, as are the worker and liveness cases. `track(thread)` is not offered: it
    reports failures but does not keep exit from killing the write.

    ## Known limits
    Non-daemon threads started once and dropped are not reported: Python joins them at exit
    and prints their exceptions through `threading.excepthook` (peers' "unjoined thread"
    findings on ten real projects were 0 real of 14). Threads started per request or per item
    whose exception reaches only stderr are FF306's. A daemon thread that only sends on a
    socket is not reported (cut at exit, it loses nothing the exit does not), nor one whose
    writes go through a receiver of unknown type (an unannotated parameter). A worker stopped
    by a flag its loop tests is not reported: on real code such threads finish their own
    clean-up by design.
    """

    code = "FF301"
    name = "unjoined-thread"
    subject = ("thread never joined", "threads never joined")
    triggers = ("Thread", "Timer")
    follows_background = True  # a thread's target is often defined in another module
    message = "{subject}{when} is never joined: {consequence} ({effect})"
    fix_title = "Make it a non-daemon thread, which the interpreter joins at exit"
    fix_applicability = Applicability.UNSAFE
    impacts = (Impact.NO_TRACKING, Impact.NO_ALERTING)
    risk = (
        "The work is cut off where nobody looks: a daemon thread is stopped mid-write at exit, a "
        "worker outlives the object that stopped it, and a finished thread's exception is never raised."
    )
    honours_detached = True

    def __init__(self, semantic, sink) -> None:
        super().__init__(semantic, sink)
        self._made: list = []
        self._functions: list = []

    def visit_Call(self, node: ast.Call) -> None:
        cls = constructed_class(self.semantic, node)
        if cls in THREAD_CLASSES:
            self._made.append((node, cls))

    def visit_FunctionDef(self, node) -> None:
        self._functions.append(node)

    visit_AsyncFunctionDef = visit_FunctionDef

    def leave_Module(self, module: ast.Module) -> None:
        # Reads of a handle may come after its construction: judge once the pass saw them all.
        for node, cls in self._made:
            self._check(node, cls)
        if not may_join_on_liveness(self.semantic.text):
            return
        for function in self._functions:
            for found in liveness_joins(self.semantic, function):
                self.report(
                    found.test,
                    subject=f"Thread `{found.name}`",
                    when=", once finished,",
                    consequence=f"its only `join` runs while `{spelled(found.test)}` is true",
                    effect=f"`{found.cls}.join` raises the exception the thread stored",
                )

    def _check(self, node: ast.Call, cls: str) -> None:
        semantic = self.semantic
        target = thread_target(node, cls)
        if target is None:
            return
        handle = handle_fate(semantic, node)
        stop = owner_stop(semantic, node, target) if handle.started or handle.kept else None
        if stop is not None:
            self.report(
                node, subject=f"Thread running `{spelled(target)}`", when="",
                consequence=f"`{stop.method}` tells it to end, then returns while it still runs", effect=stop.how,
            )
            return
        if handle.started and not handle.kept and is_daemon(semantic, node, handle):
            self._daemon(node, target, _local_function(self, target))

    def _daemon(self, node: ast.Call, target: ast.expr, function) -> None:
        if function is not None:
            region = self.names.enclosing_class(function) or self.semantic.tree
            if drained_queue(self.semantic, function, region):
                return  # its writes come from a queue that shutdown joins
            starter = self.names.enclosing_function(node)
            if starter is not None and feeds_its_starter(function, starter):
                return  # it writes for a reader that waits on it and ends with the process
        ref = self.semantic.refs.ref_of(_run_of(target), self.names.scope_of(node))
        if ref[0] != "unknown":
            self.report_if(
                node, ("writes", ref), fixes=fixes.first(self._non_daemon(node)),
                subject=f"Daemon thread running `{spelled(target)}`", when="", consequence="exit kills it mid-write",
            )

    def _non_daemon(self, node: ast.Call) -> Optional[Fix]:
        daemon = fixes.keyword(node, "daemon")
        if daemon is None or not (isinstance(daemon.value, ast.Constant) and daemon.value.value is True):
            return None
        return Fix.unsafe("Make it a non-daemon thread: `daemon=False`", fixes.replace(self.semantic, daemon.value, "False"))


def _run_of(target: ast.expr) -> ast.expr:
    """What a thread's target runs: `lambda: f(x)` runs `f`."""
    if isinstance(target, ast.Lambda) and isinstance(target.body, ast.Call):
        return target.body.func
    return target


def _local_function(rule: Rule, target: ast.expr):
    """The def of this module the target runs, if any."""
    run = _run_of(target)
    function = rule.names.function_def(run)
    return function if isinstance(function, FUNCTION_TYPES) else None
