"""FF205 dropped-threadsafe-future: `asyncio.run_coroutine_threadsafe` whose future is dropped."""

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
)

_THREADSAFE_SUBMITTERS = frozenset({"asyncio.run_coroutine_threadsafe", "asyncio.tasks.run_coroutine_threadsafe"})


class DroppedThreadsafeFuture(Rule):
    """## What it does
    Finds `asyncio.run_coroutine_threadsafe(coro, loop)` calls whose
    `concurrent.futures.Future` is thrown away: used as a statement, or bound to a local name
    that is never used (a method call on it, such as `add_done_callback`, counts as a use).

    ## Why is this bad?
    The coroutine runs on the other thread's loop and its outcome is delivered only to the
    returned future. A `concurrent.futures.Future` never logs an exception nobody retrieved,
    so when the coroutine fails the error vanishes without a trace, and the calling thread
    cannot tell whether the work ever happened.

    ## Example
    ```python
    def on_serial_data(self, data):  # runs in a reader thread
        asyncio.run_coroutine_threadsafe(self.publish(data), self.loop)
    ```

    ## Fix
    ```python
    from ffscan.runtime import track

    def on_serial_data(self, data):
        track(asyncio.run_coroutine_threadsafe(self.publish(data), self.loop))
    ```
    `ffscan fix` keeps the `concurrent.futures.Future` with `track(...)`, which reports the
    coroutine's failure. Or wait for it with `future.result(timeout)` when the thread may
    block, or add a done-callback that reads `future.exception()`.

    ## Fix safety
    Safe: `track` accepts a `concurrent.futures.Future`, returns it unchanged and never blocks
    the calling thread; the coroutine runs exactly when it did.
    Not offered where the module already uses the name `track` for something else (a
    function of its own, a loop variable): the import would change what that name means.

    ## Known limits
    Off by default: in real code most dropped threadsafe futures post work that cannot fail,
    or whose outcome is delivered another way (a result object of its own), so the finding is
    a question to ask, not a certain bug. Select `FF205` to see them.
    """

    code = "FF205"
    name = "dropped-threadsafe-future"
    subject = ("dropped threadsafe future", "dropped threadsafe futures")
    loss = "failures of the coroutine sent to the loop are never seen"
    triggers = ("run_coroutine_threadsafe",)
    message = "Future from `{callee}` is dropped; the coroutine's exception is lost without a trace"
    fix_title = "Keep the future and report its failure with `track(...)`"
    fix_applicability = Applicability.SAFE
    impacts = (Impact.NO_ALERTING,)
    risk = (
        "When the coroutine fails on the loop thread, nobody is told: concurrent futures never log "
        "unretrieved exceptions."
    )
    honours_detached = True
    default_on = False
    off_reason = (
        "3 real of 12 read on ten async projects: most are deliberate fire-and-forget posts of a "
        "message that cannot fail (Textual's drivers) or calls whose outcome travels another way"
    )

    def __init__(self, semantic, sink) -> None:
        super().__init__(semantic, sink)
        self.pending = PendingBindings()

    def _track(self, call: ast.Call) -> List[Fix]:
        return fixes.first(fixes.track(self.semantic, call, "Wrap the future in `track(...)`"))

    def visit_Call(self, node: ast.Call) -> None:
        callee = self.names.qualified(node.func)
        if callee not in _THREADSAFE_SUBMITTERS:
            return
        bound = bound_locals(self.semantic, node)
        if bound is not None:
            self.pending.add(bound[0], node, callee, bound[1])
            return
        if hold_of(self.semantic, node, callbacks_keep=True)[0] is Hold.NONE:
            self.report(node, fixes=self._track(node), callee=callee)

    def leave_FunctionDef(self, node: ast.FunctionDef) -> None:
        self._check(node)

    def leave_AsyncFunctionDef(self, node: ast.AsyncFunctionDef) -> None:
        self._check(node)

    def _check(self, scope: ast.AST) -> None:
        for call, callee, bound in self.pending.pop(scope):
            if all(name_holds(self.semantic, scope, name, callbacks_keep=True)[0] is Hold.NONE for name in bound):
                self.report(call, fixes=self._track(call), callee=callee)
