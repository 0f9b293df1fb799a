"""FF401 swallowed-background-error: a background function catches everything and only logs."""

from __future__ import annotations

import ast
from typing import List, Optional, Set

from ffscan.model import Impact
from ffscan.rules.base import Rule
from ffscan.semantic.background import background_functions
from ffscan.semantic.names import FunctionNode, iter_own_nodes
from ffscan.semantic.spelling import spelled
from ffscan.semantic.stdlib import LOG_METHODS, is_logger

_BROAD = frozenset({"builtins.Exception", "builtins.BaseException"})
_SUPPRESS = frozenset({"contextlib.suppress"})
# Calls that only write to a console or a log file.
_CONSOLE_CALLS = frozenset(
    {
        "builtins.print",
        "traceback.print_exc",
        "traceback.print_exception",
        "traceback.print_stack",
        "traceback.format_exc",
        "warnings.warn",
        "sys.stderr.write",
        "sys.stdout.write",
        "sys.stderr.flush",
    }
)


class SwallowedBackgroundError(Rule):
    """## What it does
    Finds a broad `except` (bare, `Exception`, `BaseException`, or a tuple naming one of them)
    or a `with contextlib.suppress(Exception)` inside a function that runs in the background,
    when the handler only logs, prints, passes, continues, breaks or returns a constant: it
    neither re-raises, nor reports to an error tracker, nor records the failure anywhere a
    program can read it (an attribute, a queue, a future, a metric).

    A function runs in the background when this module hands it to `asyncio.create_task`,
    `asyncio.ensure_future`, `loop.create_task` or `asyncio.run_coroutine_threadsafe` and drops
    or never awaits the task, to `threading.Thread(target=...)`, `threading.Timer`,
    `_thread.start_new_thread`, `executor.submit` or `loop.run_in_executor` and never asks the
    future for its result, to `add_done_callback`, or to `loop.call_soon` / `call_later` /
    `call_at` / `call_soon_threadsafe`; and the `run` method of a `threading.Thread` subclass.
    Work run by an `asyncio.TaskGroup`, `asyncio.to_thread` or an awaited task is not: its
    caller sees the exception.

    ## Why is this bad?
    Nobody waits for background work, so a handler is the only place its failure can go. One
    that only logs sends it to the console: nobody is paged, nothing retries the job, and the
    failure rate is invisible. Unlike Ruff's BLE001, logging with the traceback
    (`logger.exception`, `exc_info=True`) still counts as swallowed here: a traceback in a log
    file is still not an alert.

    ## Example
    ```python
    async def send_receipt(order):
        try:
            await mailer.send(order.email, render(order))
        except Exception:
            logger.exception("receipt failed")

    async def create_order(request):
        order = await save(request)
        asyncio.create_task(send_receipt(order))
    ```

    ## Fix
    ```python
    async def send_receipt(order):
        try:
            await mailer.send(order.email, render(order))
        except Exception:
            sentry_sdk.capture_exception()  # or re-raise and let a tracked queue retry it
            raise
    ```

    ## Fix safety
    No automatic fix: whether the failure should be re-raised, reported, or recorded for a
    retry depends on the job, and re-raising changes what the caller of a thread or task sees.

    ## Known limits
    Only spawn sites in the same module are seen, and only functions defined in it. Functions
    a background function calls are not followed. A handler that assigns a local name that is
    read after the `try` counts as handled. Left out on purpose, as deliberate: a `try` that
    only calls `future.result()` / `exception()` (silencing a done task), one that only closes,
    cancels or releases something, a handler inside a `finally`, a function whose name says it
    tears something down (`close`, `stop`, `shutdown`, `cleanup`), and a handler in a `while`
    loop that sleeps between rounds and does not leave the loop (the next round retries).
    A log-and-continue handler in a loop over work items is reported: each failed item is lost.

    ## Options
    `error-reporters`: qualified names of calls that report an error (e.g.
    `sentry_sdk.capture_exception`); any other call that is not logging also counts as
    handling the failure.
    """

    code = "FF401"
    name = "swallowed-background-error"
    subject = ("swallowed background error", "swallowed background errors")
    loss = "background failures are swallowed"
    # A handler in any module may run in the background: a thread two modules away may call it.
    triggers = ("except", "suppress")
    follows_background = True
    message = (
        "Broad `{construct}` in background function `{function}` only {action}; "
        "the failure never reaches a caller, a retry or an alert ({how})"
    )
    fix_title = "Report the exception to the error tracker or re-raise it"
    impacts = (Impact.NO_ALERTING, Impact.NO_RETRY, Impact.NO_TRACKING)
    risk = (
        "Errors go to the console only: nobody is paged, the job is never retried, "
        "and the failure rate is invisible."
    )
    default_on = False
    off_reason = (
        "7 real of 18 read (39%) on ten async projects: most broad handlers in background code "
        "are a framework's deliberate last-resort log, best-effort telemetry or a redelivered message"
    )

    def __init__(self, semantic, sink) -> None:
        super().__init__(semantic, sink)
        self.handlers: List[ast.ExceptHandler] = []
        self.suppressors: List[ast.Call] = []

    def visit_ExceptHandler(self, node: ast.ExceptHandler) -> None:
        if self._is_broad(node.type):
            self.handlers.append(node)

    def visit_withitem(self, node: ast.withitem) -> None:
        call = node.context_expr
        if isinstance(call, ast.Call) and self.names.qualified(call.func) in _SUPPRESS:
            with_node = self.semantic.parent(node)
            body = getattr(with_node, "body", [])
            deliberate = body and (all(_is_result_retrieval(s) for s in body) or all(_is_cleanup(s) for s in body))
            if any(self._is_broad(arg) for arg in call.args) and not deliberate:
                self.suppressors.append(call)

    def leave_Module(self, node: ast.Module) -> None:
        if not self.handlers and not self.suppressors:
            return
        background = background_functions(self.semantic)
        for handler in self.handlers:
            function = self.names.enclosing_function(handler)
            if function is None or _is_teardown(function) or self._is_deliberate(handler, function):
                continue
            action = self._console_only(handler.body, function, handler)
            if action is not None:
                construct = "except" if handler.type is None else f"except {spelled(handler.type)}"
                self._report_in_background(handler, handler.type or handler, function, background,
                                           construct=construct, action=action)
        for call in self.suppressors:
            function = self.names.enclosing_function(call)
            if function is not None and not _is_teardown(function):
                self._report_in_background(call, call, function, background, construct=spelled(call), action="discards it")

    def _report_in_background(self, node, end_node, function: FunctionNode, background, **fields) -> None:
        """Report where `function` runs in the background: started in this module, or, as the
        whole program shows, started elsewhere or called by such a function (with the path)."""
        spawn = background.get(function)
        if spawn is not None:
            start = " ".join(self.semantic.segment(spawn.call).split())
            start = start if len(start) <= 60 else start[:57] + "..."
            how = f"runs in the background via `{start}` at line {spawn.call.lineno}"
            self.report(node, end_node=end_node, function=function.name, how=how, **fields)
        else:
            query = ("background", self.names.qualified_def(function))
            self.report_if(node, query, end_node=end_node, function=function.name, **fields)

    # ---- shapes where dropping the error is the point ---------------------------------------

    def _is_deliberate(self, handler: ast.ExceptHandler, function: FunctionNode) -> bool:
        try_node = self.semantic.parent(handler)
        body = getattr(try_node, "body", [])
        if body and all(_is_result_retrieval(s) for s in body):
            return True  # `fut.result()` in a done-callback: retrieved so the loop stays quiet
        if body and all(_is_cleanup(s) for s in body):
            return True  # closing or cancelling something that may already be gone
        if self._in_finally(try_node, function):
            return True
        return self._in_periodic_loop(handler, try_node, function)

    def _in_finally(self, node: ast.AST, function: FunctionNode) -> bool:
        child = node
        for ancestor in self.semantic.ancestors(node):
            if ancestor is function:
                return False
            if isinstance(ancestor, ast.Try) and child in ancestor.finalbody:
                return True
            child = ancestor
        return False

    def _in_periodic_loop(self, handler: ast.ExceptHandler, try_node: ast.AST, function: FunctionNode) -> bool:
        """A `while` loop that sleeps between rounds runs the failed work again next round:
        the failure is retried, unless the handler leaves the loop."""
        for statement in ast.walk(ast.Module(body=handler.body, type_ignores=[])):
            if isinstance(statement, (ast.Return, ast.Break)):
                return False
        for ancestor in self.semantic.ancestors(try_node):
            if ancestor is function or isinstance(ancestor, (ast.For, ast.AsyncFor)):
                return False
            if isinstance(ancestor, ast.While):
                return _sleeps(ancestor)
        return False

    # ---- what counts as broad ---------------------------------------------------------------

    def _is_broad(self, expr: Optional[ast.expr]) -> bool:
        if expr is None:
            return True
        if isinstance(expr, ast.Tuple):
            return any(self._is_broad(e) for e in expr.elts)
        return self.names.qualified(expr) in _BROAD

    # ---- what counts as handling ------------------------------------------------------------

    def _console_only(self, body: List[ast.stmt], function: FunctionNode, handler: ast.ExceptHandler) -> Optional[str]:
        """How the handler disposes of the error ("logs", "passes", ...) when it only writes to
        the console or drops it; None when it does anything a program could notice."""
        actions: Set[str] = set()
        if not self._statements_console_only(body, function, handler, actions):
            return None
        if "logs" in actions:
            return "logs"
        if "returns" in actions:
            return "returns a constant"
        if "continues" in actions:
            return "continues"
        if "breaks" in actions:
            return "breaks out"
        return "passes"

    def _statements_console_only(self, body, function, handler, actions: Set[str]) -> bool:
        for statement in body:
            if isinstance(statement, ast.Pass):
                actions.add("passes")
            elif isinstance(statement, ast.Continue):
                actions.add("continues")
            elif isinstance(statement, ast.Break):
                actions.add("breaks")
            elif isinstance(statement, ast.Return):
                if statement.value is not None and not isinstance(statement.value, ast.Constant):
                    return False  # hands something back: a caller of the task may read it
                actions.add("returns")
            elif isinstance(statement, ast.Expr):
                value = statement.value
                if isinstance(value, ast.Constant):
                    continue
                if isinstance(value, ast.Await):
                    value = value.value
                if not (isinstance(value, ast.Call) and self._is_console_call(value)):
                    return False
                actions.add("logs")
            elif isinstance(statement, ast.If):
                if not self._statements_console_only(statement.body, function, handler, actions):
                    return False
                if not self._statements_console_only(statement.orelse, function, handler, actions):
                    return False
            elif isinstance(statement, (ast.Assign, ast.AnnAssign)):
                if not self._is_dead_local_assignment(statement, function, handler):
                    return False
            else:
                return False  # raise, await, with, try, loops: may report, retry or record
        return True

    def _is_console_call(self, call: ast.Call) -> bool:
        callee = self.names.qualified(call.func)
        if callee is not None:
            if callee in self.settings.error_reporters:
                return False
            if callee in _CONSOLE_CALLS or callee.startswith("logging."):
                return True
        func = call.func
        if isinstance(func, ast.Name):
            return func.id in ("print", "log")
        if isinstance(func, ast.Attribute):
            if func.attr in LOG_METHODS and is_logger(self.semantic, func.value):
                return True
            if func.attr == "write" and spelled(func.value) in ("sys.stderr", "sys.stdout"):
                return True
        return False

    def _is_dead_local_assignment(self, statement, function: FunctionNode, handler: ast.ExceptHandler) -> bool:
        """`msg = ...` used only by the handler's own log calls; any other target or a name
        read elsewhere in the function records the failure."""
        targets = statement.targets if isinstance(statement, ast.Assign) else [statement.target]
        if not all(isinstance(t, ast.Name) for t in targets):
            return False
        if statement.value is not None and _has_call(statement.value, self):
            return False
        inside = {id(n) for n in ast.walk(handler)}
        wanted = {t.id for t in targets}  # type: ignore[attr-defined]
        for node in iter_own_nodes(function):
            if isinstance(node, ast.Name) and node.id in wanted and isinstance(node.ctx, ast.Load):
                if id(node) not in inside:
                    return False
            if isinstance(node, (ast.Global, ast.Nonlocal)) and wanted & set(node.names):
                return False
        return True


# Words in the name of a method that closes or releases something: a failure there usually
# means it was already gone.
_CLEANUP_WORDS = (
    "close", "cancel", "stop", "shutdown", "terminate", "kill", "release", "unlink", "remove",
    "disconnect", "cleanup", "abort", "unregister", "rmtree", "reset", "discard", "unsubscribe",
)


_TEARDOWN_WORDS = ("close", "shutdown", "stop", "cleanup", "teardown", "dispose")


def _is_teardown(function: FunctionNode) -> bool:
    """Background work that closes things down: what fails there is usually already gone."""
    name = function.name.lower()
    return any(word in name for word in _TEARDOWN_WORDS)


def _called_method(statement: ast.stmt) -> str:
    value = statement.value if isinstance(statement, ast.Expr) else None
    if isinstance(value, ast.Await):
        value = value.value
    if isinstance(value, ast.Call):
        func = value.func
        return func.attr if isinstance(func, ast.Attribute) else func.id if isinstance(func, ast.Name) else ""
    return ""


def _is_result_retrieval(statement: ast.stmt) -> bool:
    return _called_method(statement) in ("result", "exception")


def _is_cleanup(statement: ast.stmt) -> bool:
    method = _called_method(statement).lower()
    return any(word in method for word in _CLEANUP_WORDS)


def _sleeps(loop: ast.While) -> bool:
    """Whether the loop waits between rounds: a `sleep` call, or `while not stop.wait(t)`."""
    test = loop.test.operand if isinstance(loop.test, ast.UnaryOp) else loop.test
    if isinstance(test, ast.Call) and isinstance(test.func, ast.Attribute) and test.func.attr == "wait" and test.args:
        return True
    for node in iter_own_nodes(loop):
        if isinstance(node, ast.Call):
            func = node.func
            name = func.attr if isinstance(func, ast.Attribute) else func.id if isinstance(func, ast.Name) else ""
            if name == "sleep":
                return True
    return False


def _has_call(expr: ast.expr, rule: SwallowedBackgroundError) -> bool:
    for node in ast.walk(expr):
        if isinstance(node, ast.Call):
            callee = rule.names.qualified(node.func)
            if callee in ("builtins.str", "builtins.repr", "builtins.type", "builtins.format", "traceback.format_exc"):
                continue
            if isinstance(node.func, ast.Attribute) and node.func.attr in ("format", "join"):
                continue
            return True
    return False


