"""FF204 dropped-future-combinator: `asyncio.gather`/`asyncio.shield` whose future is dropped."""

from __future__ import annotations

import ast
from typing import List

from ffscan.model import Applicability, Fix, Impact
from ffscan.rules import fixes
from ffscan.rules.base import Rule
from ffscan.semantic.stdlib import FUTURE_COMBINATORS
from ffscan.semantic.tasks import (
    Hold,
    PendingBindings,
    bound_locals,
    hold_of,
    name_holds,
)


class DroppedFutureCombinator(Rule):
    """## What it does
    Finds `asyncio.gather(...)` and `asyncio.shield(...)` calls whose future is thrown away:
    used as a statement, or bound to a local name that is never awaited, returned, stored or
    passed on (a done-callback, printing or logging alone do not count).

    ## Why is this bad?
    `gather` and `shield` return futures, not coroutines: the work they wrap starts anyway,
    but nobody waits for it. The inner tasks are held only by the dropped future and the
    loop's weak references, so they can be garbage-collected mid-flight, and any exception
    they raise is never retrieved. A dropped `shield` protects nothing: the shielded task
    is simply left dangling.

    ## Example
    ```python
    async def close(self):
        asyncio.gather(*(peer.close() for peer in self.peers))
        self.closed = True
    ```

    ## Fix
    ```python
    from ffscan.runtime import track

    async def close(self):
        track(asyncio.gather(*(peer.close() for peer in self.peers)))
        self.closed = True
    ```
    `ffscan fix` keeps the future with `track(...)` and reports its failure. When the caller
    should wait for the work, `await` it instead.

    ## Fix safety
    Safe: `track` returns the same future and changes nothing about when the work runs or when
    the caller continues. Awaiting instead would change both, so it is left to a person.
    Not offered where the module already uses the name `track` for something else (a
    function of its own, a loop variable): the import would change what that name means.
    """

    code = "FF204"
    name = "dropped-future-combinator"
    subject = ("dropped gather or shield future", "dropped gather or shield futures")
    loss = "failures of the combined tasks are never handled"
    triggers = ("gather", "shield")
    message = (
        "Future from `{callee}` is dropped; its inner tasks can be garbage-collected, and their errors are "
        "never handled (the loop only logs them when the future is freed)"
    )
    fix_title = "Keep the future and report its failure with `track(...)`"
    fix_applicability = Applicability.SAFE
    impacts = (Impact.NO_TRACKING, Impact.NO_ALERTING)
    risk = (
        "The combined work runs unobserved: if any part fails the error is lost, and the caller "
        "goes on as if it had finished."
    )
    honours_detached = True

    def __init__(self, semantic, sink) -> None:
        super().__init__(semantic, sink)
        self.pending = PendingBindings()

    def _track(self, call: ast.Call) -> List[Fix]:
        return fixes.first(fixes.track(self.semantic, call, "Wrap the future in `track(...)`"))

    def visit_Call(self, node: ast.Call) -> None:
        callee = self.names.qualified(node.func)
        if callee not in FUTURE_COMBINATORS:
            return
        bound = bound_locals(self.semantic, node)
        if bound is not None:
            self.pending.add(bound[0], node, callee, bound[1])
            return
        if hold_of(self.semantic, node)[0] is Hold.NONE:
            self.report(node, fixes=self._track(node), callee=callee)

    def leave_FunctionDef(self, node: ast.FunctionDef) -> None:
        self._check(node)

    def leave_AsyncFunctionDef(self, node: ast.AsyncFunctionDef) -> None:
        self._check(node)

    def _check(self, scope: ast.AST) -> None:
        for call, callee, bound in self.pending.pop(scope):
            if all(name_holds(self.semantic, scope, name)[0] is Hold.NONE for name in bound):
                self.report(call, fixes=self._track(call), callee=callee)
