"""FF303 unconsumed-executor-map: `executor.map(...)` whose results nobody iterates."""

from __future__ import annotations

import ast

from ffscan.model import Applicability, Fix, Impact
from ffscan.rules import fixes
from ffscan.rules.base import Rule
from ffscan.semantic.flow import Use, defining_scope, fate, name_loads
from ffscan.semantic.spelling import spelled
from ffscan.semantic.threads import executor_kind


class UnconsumedExecutorMap(Rule):
    """## What it does
    Finds `executor.map(fn, items)` on a `concurrent.futures` executor whose result iterator is
    thrown away: an expression statement or a local that is never read. The receiver is an
    executor when the resolver knows it was built from `ThreadPoolExecutor`/`ProcessPoolExecutor`
    or, when its type is unknown, when it is spelled `executor`/`*_executor`/`thread_pool`
    (not `pool`: `multiprocessing.Pool.map` is eager and raises).

    ## Why is this bad?
    `Executor.map` submits every call at once and returns a lazy iterator; each call's exception
    is raised only when the iterator reaches that result. Nobody iterates a dropped iterator, so
    every failure of `fn` is silently lost, even though all the work was started.

    ## Example
    ```python
    with ThreadPoolExecutor(max_workers=8) as pool:
        pool.map(send_invoice, invoices)
    ```

    ## Fix
    ```python
    with ThreadPoolExecutor(max_workers=8) as pool:
        list(pool.map(send_invoice, invoices))  # re-raises the first failure
    ```
    `ffscan fix --unsafe-fixes` writes `list(...)` around the call. Or submit each call and
    check each future.

    ## Fix safety
    Unsafe: consuming the iterator blocks until every call has finished and raises the first
    failure here, which changes when the caller continues and what it sees raised.

    """

    code = "FF303"
    name = "unconsumed-executor-map"
    subject = ("executor map never consumed", "executor maps never consumed")
    loss = "failures of the mapped function are never seen"
    triggers = ("map",)
    message = "Results of `{receiver}.map` are never iterated; exceptions raised by `{callee}` are never seen"
    fix_title = "Iterate the results of `map` so failures are raised"
    fix_applicability = Applicability.UNSAFE
    impacts = (Impact.NO_TRACKING, Impact.NO_ALERTING)
    default_on = True
    risk = (
        "Every failure of the mapped function is lost: items silently go unprocessed and no log, "
        "alert or retry follows."
    )
    honours_detached = True

    def visit_Call(self, node: ast.Call) -> None:
        func = node.func
        if not (isinstance(func, ast.Attribute) and func.attr == "map" and node.args):
            return
        if executor_kind(self.semantic, func.value, strict=True) is None:
            return
        if self._is_dropped(node):
            consume = Fix.unsafe("Consume the results with `list(...)`", *fixes.wrap(self.semantic, node, "list"))
            self.report(node, fixes=[consume], receiver=spelled(func.value), callee=spelled(node.args[0]))

    def _is_dropped(self, call: ast.Call) -> bool:
        where = fate(self.semantic, call)
        if where.use is Use.DROPPED:
            return True
        if where.use is Use.BOUND and len(where.names) == 1 and where.names[0] != "_":
            scope = defining_scope(self.semantic, where.node)  # type: ignore[arg-type]
            if isinstance(scope, (ast.FunctionDef, ast.AsyncFunctionDef)):
                return not name_loads(self.semantic, scope).get(where.names[0])
        return False
