"""FF304 executor-shutdown-without-wait: `shutdown(wait=False)` abandons submitted work."""

from __future__ import annotations

import ast
from typing import Iterator, Optional

from ffscan.model import Applicability, Fix, Impact
from ffscan.rules import fixes
from ffscan.rules.base import Rule
from ffscan.semantic.spelling import spelled
from ffscan.semantic.threads import executor_kind

_SUBMITTING = frozenset({"submit", "map"})


class ExecutorShutdownWithoutWait(Rule):
    """## What it does
    Finds `executor.shutdown(wait=False)` without `cancel_futures=True` on a
    `concurrent.futures` executor that has work submitted to it (`submit`, `map`, or
    `run_in_executor(executor, ...)`) in the same function, or, for `self._executor`, in any
    method of the same class.

    ## Why is this bad?
    `shutdown(wait=False)` returns at once: jobs still queued or running carry on with nobody
    waiting for them. When the program exits right after, a `ThreadPoolExecutor`'s queued jobs
    still run but any failure lands in futures nobody reads; a `ProcessPoolExecutor`'s work can
    be cut off. Either way the shutdown reports success while work is lost.

    ## Example
    ```python
    class Exporter:
        def export(self, rows):
            self._pool.submit(write_rows, rows)

        def close(self):
            self._pool.shutdown(wait=False)
    ```

    ## Fix
    ```python
        def close(self):
            self._pool.shutdown(wait=True)  # or cancel_futures=True to drop queued work on purpose
    ```
    `ffscan fix --unsafe-fixes` turns `wait=False` (or a positional `False`) into `True`,
    outside `async def` only.

    ## Fix safety
    Unsafe: shutdown now blocks until the submitted work has finished, which can make it slow.
    Not offered inside `async def`, where the wait would block the event loop; cancelling
    queued work instead is a decision for a person.

    """

    code = "FF304"
    name = "executor-shutdown-without-wait"
    subject = ("executor shut down without waiting", "executors shut down without waiting")
    triggers = ("shutdown",)
    message = "`{receiver}.shutdown(wait=False)` abandons the work submitted to it; its failures are never seen"
    fix_title = "Shut the executor down with `wait=True`, or cancel queued work explicitly"
    fix_applicability = Applicability.UNSAFE
    impacts = (Impact.NO_TRACKING, Impact.NO_ALERTING)
    default_on = False
    off_reason = (
        "No finding on ten real projects: precision not measured yet"
    )
    risk = (
        "Work still queued or running at shutdown continues unobserved or is cut off at exit; "
        "its failures are never reported."
    )

    def visit_Call(self, node: ast.Call) -> None:
        func = node.func
        if not (isinstance(func, ast.Attribute) and func.attr == "shutdown"):
            return
        wait = _argument(node, "wait", 0)
        if not (isinstance(wait, ast.Constant) and wait.value is False):
            return
        cancel = _argument(node, "cancel_futures", 99)  # keyword-only
        if cancel is not None and not (isinstance(cancel, ast.Constant) and cancel.value is False):
            return
        receiver = func.value
        if executor_kind(self.semantic, receiver) is None:
            return
        if self._has_work(node, receiver):
            self.report(node, fixes=fixes.first(self._wait_fix(node, wait)), receiver=spelled(receiver))

    def _wait_fix(self, node: ast.Call, wait: ast.expr) -> Optional[Fix]:
        # Waiting inside `async def` would block the event loop: no fix there.
        if fixes.in_async_function(self.semantic, node):
            return None
        return Fix.unsafe("Wait for the submitted work: `wait=True`", fixes.replace(self.semantic, wait, "True"))

    def _has_work(self, node: ast.Call, receiver: ast.expr) -> bool:
        key = _receiver_key(receiver)
        if key is None:
            return False
        if isinstance(receiver, ast.Attribute):
            owner = self.names.enclosing_class(node)
            regions: Iterator[ast.AST] = iter(owner.body) if owner is not None else iter(())
        else:
            function = self.names.enclosing_function(node)
            regions = iter([function]) if function is not None else iter(())
        for region in regions:
            for inner in ast.walk(region):
                if isinstance(inner, ast.Call) and _submits_to(inner, key):
                    return True
        return False


def _argument(call: ast.Call, name: str, position: int) -> Optional[ast.expr]:
    for keyword in call.keywords:
        if keyword.arg == name:
            return keyword.value
    return call.args[position] if len(call.args) > position else None


def _receiver_key(expr: ast.expr) -> Optional[str]:
    if isinstance(expr, ast.Name):
        return expr.id
    if isinstance(expr, ast.Attribute) and isinstance(expr.value, ast.Name):
        return f"{expr.value.id}.{expr.attr}"
    return None


def _submits_to(call: ast.Call, key: str) -> bool:
    func = call.func
    if not isinstance(func, ast.Attribute):
        return False
    if func.attr in _SUBMITTING and _receiver_key(func.value) == key:
        return True
    return func.attr == "run_in_executor" and bool(call.args) and _receiver_key(call.args[0]) == key
