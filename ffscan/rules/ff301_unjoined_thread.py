"""FF301 unjoined-thread: a daemon thread that writes, started and then forgotten."""

from __future__ import annotations

import ast
from typing import Optional

from ffscan.model import Applicability, Fix, Impact
from ffscan.rules import fixes
from ffscan.rules.base import Rule
from ffscan.semantic.spelling import spelled
from ffscan.semantic.stdlib import THREAD_CLASSES
from ffscan.semantic.threads import (
    constructed_class,
    drained_queue,
    handle_fate,
    is_daemon,
    thread_target,
    writes,
)


class UnjoinedThread(Rule):
    """## What it does
    Finds daemon threads (`threading.Thread(..., daemon=True)`, `t.daemon = True`,
    `t.setDaemon(True)`, or a daemon `threading.Timer`) that are started and never joined nor
    kept (the handle is dropped, or a local read only to configure and start it), whose target
    is a function of this module that writes: a file, a socket or a database.

    ## Why is this bad?
    The interpreter does not wait for daemon threads: at exit they are stopped wherever they
    are, without `finally` blocks or `with` exits running. A daemon thread in the middle of
    writing a file, a batch of rows or a message leaves it half-written, and nothing anywhere
    says so. With no handle, nothing can wait for the work before shutting down.

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
    non-daemon threads at exit. By hand, keep the thread and join it on shutdown:
    ```python
    _writers: list[threading.Thread] = []

    def save_later(report):
        writer = threading.Thread(target=write_report, args=(report,))
        writer.start()
        _writers.append(writer)  # joined on shutdown
    ```

    ## Fix safety
    Unsafe: exit now waits for the thread, which hangs the process if the thread never ends.
    `daemon=False` is written rather than the keyword removed, because a thread started from
    a daemon thread would otherwise inherit daemon mode. Offered only for the `daemon=True`
    keyword; `t.daemon = True` and `setDaemon(True)` are left to a person. `track(thread)`
    is not offered: it reports failures but does not keep exit from killing the write.

    ## Known limits
    Non-daemon threads are not reported: Python joins them at exit and prints their exceptions
    through `threading.excepthook` (peers' "unjoined thread" findings on ten real projects were
    0 real of 14). Targets defined in another module, and daemon threads that only read or wait,
    are not reported either, nor a worker draining a queue that the code joins
    (`queue.join()`) before exit; nor writes to `sys.stdout`/`sys.stderr`.
    """

    code = "FF301"
    name = "unjoined-thread"
    subject = ("daemon thread never joined", "daemon threads never joined")
    triggers = ("Thread", "Timer")
    message = "Daemon thread running `{target}` is never joined; exit kills it mid-write"
    fix_title = "Make it a non-daemon thread, which the interpreter joins at exit"
    fix_applicability = Applicability.UNSAFE
    impacts = (Impact.NO_TRACKING, Impact.NO_ALERTING)
    default_on = False
    off_reason = (
        "No finding on ten real projects after narrowing to daemon threads that write (the 2 before, a terminal prompt and a queue-drained writer, were false); the broad shape, any started thread never joined, was 0 real of 8 there and 0 of 14 for peers"
    )
    risk = (
        "At interpreter exit the thread is stopped wherever it is: a file, message or batch of rows "
        "it was writing is left half-done, with no error anywhere."
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
        handle = handle_fate(self.semantic, node)
        if not handle.started or handle.kept or not is_daemon(self.semantic, node, handle):
            return
        target = thread_target(node, cls)
        if target is None:
            return
        if isinstance(target, ast.Lambda):
            body = target.body
            function = self.names.function_def(body.func) if isinstance(body, ast.Call) else None
        else:
            function = self.names.function_def(target)
        if function is None or writes(self.semantic, function) is None:
            return
        region = self.names.enclosing_class(function) or self.semantic.tree
        if drained_queue(self.semantic, function, region):
            return  # its writes come from a queue that shutdown joins
        self.report(node, fixes=fixes.first(self._non_daemon(node)), target=spelled(target))

    def _non_daemon(self, node: ast.Call) -> Optional[Fix]:
        daemon = fixes.keyword(node, "daemon")
        if daemon is None or not (isinstance(daemon.value, ast.Constant) and daemon.value.value is True):
            return None
        return Fix.unsafe("Make it a non-daemon thread: `daemon=False`", fixes.replace(self.semantic, daemon.value, "False"))
