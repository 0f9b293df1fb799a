"""FF305 untracked-process: a process or raw thread started with no handle kept."""

from __future__ import annotations

import ast

from ffscan.model import Impact
from ffscan.rules.base import Rule
from ffscan.semantic.spelling import spelled
from ffscan.semantic.stdlib import PROCESS_CLASSES
from ffscan.semantic.threads import (
    constructed_class,
    handle_fate,
    thread_target,
)

_RAW_THREAD_STARTERS = frozenset({"_thread.start_new_thread", "_thread.start_new", "thread.start_new_thread"})


class UntrackedProcess(Rule):
    """## What it does
    Finds `multiprocessing.Process(...)` (also `get_context(...).Process`) started and never
    joined nor kept: `.start()` called on the constructor call directly, or on a local read only
    to configure and start it. Also finds every `_thread.start_new_thread(...)`, which returns
    no handle at all.

    ## Why is this bad?
    Nobody learns how the child ended: its exit code is never read, so a crash is a line on the
    child's stderr at best, and nothing can wait for it or stop it on shutdown. A raw
    `_thread` thread cannot even be joined, and the interpreter does not wait for it at exit.

    ## Example
    ```python
    def rebuild_index(paths):
        multiprocessing.Process(target=build_index, args=(paths,)).start()
    ```

    ## Fix
    ```python
    def rebuild_index(paths):
        worker = multiprocessing.Process(target=build_index, args=(paths,))
        worker.start()
        return worker  # the caller joins it and checks worker.exitcode
    ```
    For `_thread.start_new_thread`, use `threading.Thread` and keep it.

    ## Fix safety
    No automatic fix: who should wait for the child is a decision for a person, and
    `track(...)` takes threads, tasks and futures, not processes.

    """

    code = "FF305"
    name = "untracked-process"
    subject = ("process started without a handle", "processes started without a handle")
    loss = "process failures are never seen"
    triggers = ("Process", "start_new")
    message = "{kind} running `{target}` is started with no handle kept; how it ends is never known"
    fix_title = "Keep the process handle, join it and check its exit code"
    impacts = (Impact.NO_TRACKING, Impact.NO_ALERTING)
    default_on = False
    off_reason = (
        "3 real of 5 read on 48 projects (2 unclear), the three one idiom copied in one project (a raw "
        "`_thread` feeding a speech service's websocket): too few to earn a default"
    )
    risk = (
        "If the background process or thread crashes, nothing notices: its work silently does not "
        "happen and nothing can wait for it or stop it on shutdown."
    )
    honours_detached = True

    def __init__(self, semantic, sink) -> None:
        super().__init__(semantic, sink)
        self._made: list = []

    def visit_Call(self, node: ast.Call) -> None:
        if self.names.qualified(node.func) in _RAW_THREAD_STARTERS:
            target = spelled(node.args[0]) if node.args else "function"
            self.report(node, kind="Raw `_thread` thread", target=target)
            return
        cls = constructed_class(self.semantic, node)
        if cls in PROCESS_CLASSES:
            self._made.append((node, cls))

    def leave_Module(self, module: ast.Module) -> None:
        # Reads of a handle may come after its construction: judge once the pass saw them all.
        for node, cls in self._made:
            handle = handle_fate(self.semantic, node)
            if handle.started and not handle.kept:
                target = thread_target(node, cls)
                self.report(node, kind="Process", target=spelled(target) if target is not None else "run")
