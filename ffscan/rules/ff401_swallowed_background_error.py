"""FF401 swallowed-background-error: a background function catches everything and only logs."""

from __future__ import annotations

import ast
from typing import List, Optional, Set, Tuple

from ffscan.model import Impact
from ffscan.rules.base import Rule
from ffscan.semantic.background import background_functions
from ffscan.semantic.names import Binding, FunctionNode, iter_own_nodes
from ffscan.semantic.bodies import is_broad_catch
from ffscan.semantic.reporting import logged_messages, sibling_reporter
from ffscan.semantic.spelling import last_name, spelled
from ffscan.semantic.stdlib import LOG_METHODS, is_logger

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
    or a `with contextlib.suppress(Exception)` inside work that runs in the background, when
    the failure it catches reaches no caller, no retry, no configured reporter and no durable
    status: the handler only logs, prints, passes, continues, breaks, returns a constant from
    the function a background start runs, or sets a private flag that no code of the module
    reads.

    Background work is what the whole-program index finds started where no caller sees its
    errors, in any module, and what that work calls (a few calls deep): the coroutine of a
    task that is dropped or never awaited (`asyncio.create_task`, `ensure_future`,
    `loop.create_task`, `run_coroutine_threadsafe`), the target of a `threading.Thread`,
    `threading.Timer`, `multiprocessing.Process` or `_thread.start_new_thread`, a callable
    handed to `executor.submit` or `loop.run_in_executor` whose future is never read, a
    done-callback, a callback of `loop.call_soon` / `call_later` / `call_at` /
    `call_soon_threadsafe`, the `run` method of a `threading.Thread` subclass, and work handed
    to the tracked runtime. Work run by an `asyncio.TaskGroup`, `asyncio.to_thread` or an
    awaited task is not background: its caller sees the exception. The message gives the
    path from the start to the handler.

    The failure counts as handled when the handler re-raises, calls a configured reporter or
    any other function that is not logging (a retry, a status write, `future.set_exception`),
    returns a status from a function that background work calls (its caller reads it),
    records the failure where code reads it (an attribute the module reads, a local read
    after the `try`, a count `+= 1` of failures), or sits in a loop that sleeps between
    rounds (the next round retries).

    Where the project shows how that failure is reported (another broad handler logs the same
    message and hands the exception to a reporter, or another handler of the same `try` hands
    what it catches to one), the handler is FF405's (unreported-background-error, on by
    default), and this rule leaves it to that one.

    ## Why is this bad?
    Nobody waits for background work, so a handler is the only place its failure can go. One
    that only logs sends it to the console: nobody is paged, nothing retries the job, and the
    failure rate is invisible. Unlike Ruff's BLE001, logging with the traceback
    (`logger.exception`, `exc_info=True`) still counts as swallowed here: a traceback in a log
    file is still not an alert. A done-callback that silences its future
    (`with suppress(Exception): future.result()`) is the same: the work's error goes nowhere.

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
    Not reported, as what the handler guards is not a unit of work whose failure is lost: a
    `try` whose first call (after logging) runs a callable handed in from outside (a callback
    parameter, an element of a list of callbacks, `getattr(obj, name)()`, `self.x()` where
    the class only sets `x` from a parameter): the framework's last resort around code it does
    not own; a `try` that only closes, cancels or releases something that may already be gone;
    a `try` that only builds a log line; a handler that logs nothing and that the author
    documents (a comment in its body or right above the `try`, other than a pragma or a
    `TODO`/`FIXME`): dropped on purpose, and said so; a handler whose every
    log line is at debug level (the failure is expected); a handler inside a `finally`; a
    function whose name says it tears something down (`close`, `stop`, `shutdown`, `cleanup`,
    `disconnect`); a handler in a `while` loop that sleeps between rounds (`time.sleep`,
    `asyncio.sleep`, an event's `wait` with a timeout such as `stop.wait(30)` or `await
    asyncio.wait_for(stop.wait(), 30)`) and does not leave the loop, also in a `for` inside it
    over a list bound before the `while` (the same items come round again), and in a private
    function of the module (`_name`) that the module only calls from such rounds; a `try`
    that only decodes or converts data in memory (no
    `await`, every call a converter such as `int` or `json.loads`, a decoder module such as
    `base64`, or a string, bytes or mapping method): bad input skipped, no work lost; a `try`
    that sets a name which had a value before it and is read after it (`ret = -1`,
    `ret = run()`, then `if ret:`): the failure shows in the sentinel; a `try` around
    `loop.run_forever()` alone, which passes its tasks' errors to the loop's handler instead.
    A logging call counts as logging only when it is not a method the project defines
    itself: a logger class of the project's own may publish the error or call a registered
    error callback. A log-and-continue
    handler in a loop over work items is reported unless it counts the failures: each failed
    item is lost. Awaiting a coroutine handed in as a parameter (`async def logged(coro): try:
    await coro ...`) is the unit of work and is reported.

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
    checks_suppressors = True  # `with suppress(Exception)` too (FF405 judges logged failures only)
    default_on = False
    off_reason = (
        "24 real of 103 read (23%) on ten async projects and 38 applications, the handlers the project "
        "reports elsewhere left to unreported-background-error: framework last-resort "
        "handlers the structure does not separate, optional probes, best-effort cache writes, work a "
        "periodic caller retries, guards around calls that catch everything themselves, and a "
        "project's own logger that publishes errors"
    )

    def __init__(self, semantic, sink) -> None:
        super().__init__(semantic, sink)
        self.handlers: List[ast.ExceptHandler] = []
        self.suppressors: List[ast.Call] = []
        self._log_calls: List[ast.Call] = []  # the logging calls of the handler being judged

    def visit_ExceptHandler(self, node: ast.ExceptHandler) -> None:
        if self._is_broad(node.type):
            self.handlers.append(node)

    def visit_withitem(self, node: ast.withitem) -> None:
        call = node.context_expr
        if isinstance(call, ast.Call) and self.names.qualified(call.func) in _SUPPRESS:
            if any(self._is_broad(arg) for arg in call.args):
                self.suppressors.append(call)

    def leave_Module(self, node: ast.Module) -> None:
        if not self.handlers and not self.suppressors:
            return
        background: Optional[dict] = None  # what runs in the background: found once a handler qualifies
        for handler in self.handlers:
            if not self._may_report(handler):
                continue
            function = self.names.enclosing_function(handler)
            if function is None or _is_teardown(function):
                continue
            self._log_calls = []
            verdict = self._console_only(handler.body, function, handler)  # cheap: asked before the shapes
            if verdict is None or self._is_deliberate(handler, function):
                continue
            if background is None:
                background = background_functions(self.semantic)
            action, status = verdict
            construct = "except" if handler.type is None else f"except {spelled(handler.type)}"
            self._report_handler(handler, function, background, entry_only=status, construct=construct, action=action)
        if not self.checks_suppressors or not self.suppressors:
            return
        background = background_functions(self.semantic)
        for call in self.suppressors:
            function = self.names.enclosing_function(call)
            with_node = self.semantic.parent(self.semantic.parent(call))
            guarded = getattr(with_node, "body", [])
            if function is None or _is_teardown(function) or self._guards_deliberately(guarded, function):
                continue
            if self._documented(with_node, with_node.lineno + 1, with_node.end_lineno or with_node.lineno):
                continue
            self._report_in_background(call, call, function, background, construct=spelled(call), action="discards it")

    def _may_report(self, handler: ast.ExceptHandler) -> bool:
        """Whether the handler is one this rule judges at all (FF405 asks for less)."""
        return True

    def _report_handler(self, handler: ast.ExceptHandler, function: FunctionNode, background, entry_only: bool, **fields) -> None:
        """Report a handler that only logs, unless the project reports the same failure
        elsewhere: FF405, on by default, reports those."""
        if sibling_reporter(self.semantic.parent(handler), handler) is not None:
            return
        messages = logged_messages(handler)
        asked = (("not", ("reported-elsewhere", messages)),) if messages else ()
        self._report_in_background(handler, handler.type or handler, function, background, entry_only=entry_only,
                                   asked=asked, own_loggers=self._own_logger_queries(), **fields)

    def _report_in_background(
        self, node, end_node, function: FunctionNode, background, entry_only: bool = False,
        asked: Tuple[tuple, ...] = (), own_loggers: Tuple[tuple, ...] = (), **fields
    ) -> None:
        """Report where `function` runs in the background: started in this module, or, as the
        whole program shows, started elsewhere or called by such a function (with the path).
        With `entry_only` (the handler returns a status), only where the function is itself
        what a background start runs: a function it calls would hand the status to its caller.
        `asked`: questions the whole program must also answer with yes, asked first."""
        parts: List[tuple] = list(asked)
        spawn = background.get(function)
        if spawn is not None:
            start = " ".join(self.semantic.segment(spawn.call).split())
            start = start if len(start) <= 60 else start[:57] + "..."
            fields["how"] = f"runs in the background via `{start}` at line {spawn.call.lineno}"
        else:
            qualified = self.names.qualified_def(function)
            parts.append(("background", qualified))
            if entry_only:
                parts.append(("background-entry", qualified))
        parts.extend(own_loggers)
        if not parts:
            self.report(node, end_node=end_node, function=function.name, **fields)
            return
        query: tuple = parts[0] if len(parts) == 1 else ("all", *parts)
        self.report_if(node, query, end_node=end_node, function=function.name, **fields)

    def _own_logger_queries(self) -> Tuple[tuple, ...]:
        """For each logging call through a receiver spelled like a logger, the question whose
        yes says it is not a method the program defines (a logger class of the project's own,
        which may publish the error or call a registered error callback)."""
        queries = []
        for call in self._log_calls:
            func = call.func
            if not isinstance(func, ast.Attribute) or self.names.qualified(func) is not None:
                continue  # `logging.error(...)`, a name the module imports: the standard library's
            ref = self.semantic.refs.ref_of(func, self.names.scope_of(func))
            if ref[0] != "unknown":
                queries.append(("not-project-function", ref))
        return tuple(dict.fromkeys(queries))

    # ---- shapes where dropping the error is the point ---------------------------------------

    def _is_deliberate(self, handler: ast.ExceptHandler, function: FunctionNode) -> bool:
        try_node = self.semantic.parent(handler)
        if self._guards_deliberately(getattr(try_node, "body", []), function):
            return True
        if not _logs(handler.body) and self._documented(try_node, handler.lineno + 1, handler.end_lineno or handler.lineno):
            return True  # dropped on purpose, and said so: nothing is logged, a comment says why
        if _logs_as_expected(handler.body):
            return True  # every log line is at debug level: the author expects this failure
        if self._in_finally(try_node, function):
            return True
        if self._only_decodes(getattr(try_node, "body", [])):
            return True  # bad data in memory, skipped: no work was lost
        if _keeps_a_sentinel(try_node, function):
            return True  # what the `try` was to set keeps its earlier value, and is read after
        return self._in_periodic_loop(handler, try_node, function) or self._retried_by_its_callers(function)

    def _only_decodes(self, body: List[ast.stmt]) -> bool:
        """Whether the guarded code only parses or converts data in memory: no `await`, and
        every call a converter, a decoder or a method of a string, bytes or mapping."""
        calls = 0
        nodes = list(iter_own_nodes(ast.Module(body=body, type_ignores=[])))
        # `raise ValueError(...)` validates the data: the `except` below is where it lands.
        validations = {id(n) for r in nodes if isinstance(r, ast.Raise) and _raises_plain_error(r) for n in ast.walk(r)}
        for node in nodes:
            if id(node) in validations:
                continue
            if isinstance(node, (ast.Await, ast.AsyncWith, ast.AsyncFor, ast.Raise, ast.Yield, ast.YieldFrom)):
                return False
            if isinstance(node, ast.Call):
                calls += 1
                callee = self.names.qualified(node.func)
                if callee is not None:
                    if callee not in _PURE_FUNCTIONS and callee.rpartition(".")[0] not in _PURE_MODULES:
                        return False
                elif not _is_pure_method(node.func):
                    return False
        return calls > 0

    def _guards_deliberately(self, body: List[ast.stmt], function: FunctionNode) -> bool:
        """Whether what the handler guards is not a unit of work whose failure matters: it
        closes or cancels something that may already be gone, it only formats or logs (the
        diagnostics failed, not the work), or it runs a callable handed in from outside (a
        callback, an element of a list of callbacks, `getattr(...)`): the framework's last
        resort around code it does not own."""
        if not body:
            return False
        if all(_is_cleanup(s) for s in body):
            return True
        if len(body) == 1 and _called_method(body[0]) == "run_forever":
            return True  # the loop hands its tasks' errors to its exception handler, not to here
        every = _own_calls(body)
        console = [c for c in every if self._is_console_call(c)]
        inside_console = {id(n) for c in console for n in ast.walk(c)}
        # `getattr(obj, name)()`: the inner call only finds the callable the outer one runs
        callee_parts = {id(n) for c in every for n in ast.walk(c.func) if n is not c.func or isinstance(n, ast.Call)}
        calls = [c for c in every if id(c) not in inside_console and id(c) not in callee_parts]
        if not calls:
            return bool(every)  # only logging, and what the log line is made of, was guarded
        return self._is_outside_callable(calls[0].func, function)

    def _is_outside_callable(self, func: ast.expr, function: FunctionNode) -> bool:
        """A callable that came in as data, not a function or method the program defines:
        a parameter (called, not awaited), a loop variable over a container, an element of a
        container, the result of `getattr`, or `self.x` that the class only sets from a
        parameter (a registered callback)."""
        if isinstance(func, ast.Subscript):
            return True
        if isinstance(func, ast.Call):
            return self.names.qualified(func.func) == "builtins.getattr"
        if isinstance(func, ast.Name):
            scope = self.names.scopes.get(function)
            bindings = scope.bindings.get(func.id, []) if scope is not None else []
            if not bindings:
                found = self.names.binding(func.id, func)
                bindings = [found] if found is not None else []
            if not bindings:
                return False
            for binding in bindings:
                if binding.kind == Binding.PARAM:
                    if scope is not None and scope.receiver == func.id:
                        return False
                elif binding.kind == Binding.OTHER:
                    pass  # a loop variable, unpacked from what is iterated
                elif binding.kind == Binding.VALUE and _takes_element(binding.node):
                    pass
                else:
                    return False
            return True
        if isinstance(func, ast.Attribute) and isinstance(func.value, ast.Name):
            owner = self.names.enclosing_class(func)
            scope = self.names.scopes.get(function)
            if owner is None or scope is None or scope.receiver != func.value.id:
                return False
            values = self.names.scopes[owner].self_attrs.get(func.attr, [])
            return bool(values) and all(self._is_parameter(v) for v in values)
        return False

    def _is_parameter(self, value: ast.expr) -> bool:
        if not isinstance(value, ast.Name):
            return False
        found = self.names.binding(value.id, value)
        return found is not None and found.kind == Binding.PARAM

    def _documented(self, guard: ast.AST, first: int, last: int) -> bool:
        """Whether the author explains the swallowing: a comment in the body of the handler
        (or of the `with suppress(...)` block), or right above the `try`. Pragmas (`noqa`,
        `pylint:`, `type:`) and notes of a known problem (`TODO`, `FIXME`, `XXX`) do not count,
        nor does a comment on the `except` line itself (where pragmas usually go)."""
        lines = list(range(first, last + 1))
        line = getattr(guard, "lineno", 0) - 1
        while line > 0 and self.semantic.line_text(line).strip().startswith("#"):
            lines.append(line)
            line -= 1
        if not any("#" in self.semantic.line_text(n) for n in lines):
            return False  # no comment can be there: the module is not tokenized for nothing
        comments = self.semantic.comments()
        return any(_explains(comments[n]) for n in lines if n in comments)

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
        return self._in_rounds(try_node, function)

    def _retried_by_its_callers(self, function: FunctionNode) -> bool:
        """A private function of the module (`_name`, defined at its top level) that the
        module only calls, each time from inside rounds that retry (see `_in_rounds`): the
        failed work runs again when the caller's next round calls it."""
        if not function.name.startswith("_") or self.names.scope_of(function) is not self.names.module_scope:
            return False
        calls = 0
        for loads in self.semantic.loads_by_function.values():
            for load in loads:
                if load.id != function.name:
                    continue
                call = self.semantic.parent(load)
                if not isinstance(call, ast.Call) or call.func is not load or self.names.function_def(load) is not function:
                    return False  # handed on as a callable, or another binding of the name
                caller = self.names.enclosing_function(call)
                if caller is None or caller is function or not self._in_rounds(call, caller):
                    return False
                calls += 1
        return calls > 0

    def _in_rounds(self, node: ast.AST, function: FunctionNode) -> bool:
        """Whether `node` runs in every round of a `while` loop of `function` that sleeps
        between rounds, directly or in a `for` over the same items each round."""
        items: List[ast.For] = []  # loops over items between `node` and the `while`
        for ancestor in self.semantic.ancestors(node):
            if ancestor is function or isinstance(ancestor, ast.AsyncFor):
                return False
            if isinstance(ancestor, ast.For):
                items.append(ancestor)
            elif isinstance(ancestor, ast.While):
                return _sleeps(ancestor) and all(self._same_each_round(loop, ancestor, function) for loop in items)
        return False

    def _same_each_round(self, loop: ast.For, rounds: ast.While, function: FunctionNode) -> bool:
        """Whether `loop` goes over the same items in every round of `rounds`: a local bound
        only before the `while` (`for task in periodic_tasks:`), so a failed item comes round
        again; items fetched in the round (`for job in queue.take():`) are lost instead."""
        if not isinstance(loop.iter, ast.Name):
            return False
        scope = self.names.scopes.get(function)
        bindings = scope.bindings.get(loop.iter.id) if scope is not None else None
        if not bindings:
            return False
        start, end = (rounds.lineno, rounds.col_offset), (rounds.end_lineno or rounds.lineno, rounds.end_col_offset or 0)
        for binding in bindings:
            node = binding.node
            if binding.kind not in (Binding.VALUE, Binding.PARAM) or node is None:
                return False
            if start <= (node.lineno, node.col_offset) <= end:
                return False  # bound again inside the rounds: new items each time
        return True

    # ---- what counts as broad ---------------------------------------------------------------

    def _is_broad(self, expr: Optional[ast.expr]) -> bool:
        return is_broad_catch(expr, self.names.qualified)

    # ---- what counts as handling ------------------------------------------------------------

    def _console_only(
        self, body: List[ast.stmt], function: FunctionNode, handler: ast.ExceptHandler
    ) -> Optional[Tuple[str, bool]]:
        """How the handler disposes of the error ("logs", "passes", ...) when it only writes to
        the console or drops it, and whether it returns a status that a caller of the function
        would read; None when it does anything a program could notice."""
        actions: Set[str] = set()
        if not self._statements_console_only(body, function, handler, actions):
            return None
        status = "returns" in actions and (
            "returns a value" in actions or _returns_values_elsewhere(function, handler)
        )
        if "logs" in actions:
            return "logs", status
        if "flags" in actions:
            return "sets a flag nobody reads", status
        if "returns" in actions:
            return "returns a constant", status
        if "continues" in actions:
            return "continues", status
        if "breaks" in actions:
            return "breaks out", status
        return "passes", status

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
                if statement.value is not None and statement.value.value is not None:  # type: ignore[union-attr]
                    actions.add("returns a value")
            elif isinstance(statement, ast.Expr):
                value = statement.value
                if isinstance(value, ast.Constant):
                    continue
                if isinstance(value, ast.Await):
                    value = value.value
                if not (isinstance(value, ast.Call) and self._is_console_call(value)):
                    return False
                actions.add("logs")
                self._log_calls.append(value)
            elif isinstance(statement, ast.If):
                if not self._statements_console_only(statement.body, function, handler, actions):
                    return False
                if not self._statements_console_only(statement.orelse, function, handler, actions):
                    return False
            elif isinstance(statement, (ast.Assign, ast.AnnAssign, ast.AugAssign)):
                if self._sets_unread_flag(statement):
                    actions.add("flags")  # `self._failed = True` that nothing reads
                elif not self._is_dead_local_assignment(statement, function, handler):
                    return False  # a status, a count or a record read elsewhere
            else:
                return False  # raise, await, with, try, loops: may report, retry or record
        return True

    def _is_console_call(self, call: ast.Call) -> bool:
        callee = self.names.qualified(call.func)
        if callee is not None:
            if callee in self.settings.error_reporters:
                return False
            if callee in _CONSOLE_CALLS:
                return True
            if callee.startswith("logging."):
                return callee.rsplit(".", 1)[-1] in LOG_METHODS  # not `logging.config.fileConfig`
        func = call.func
        if isinstance(func, ast.Name):
            return func.id in ("print", "log")
        if isinstance(func, ast.Attribute):
            if func.attr in LOG_METHODS and is_logger(self.semantic, func.value):
                return True
            if func.attr == "write" and spelled(func.value) in ("sys.stderr", "sys.stdout"):
                return True
        return False

    def _sets_unread_flag(self, statement) -> bool:
        """`self._failed = True` (or `+= 1`) on a private attribute that no code of the module
        ever reads: an in-memory flag nobody looks at."""
        targets = statement.targets if isinstance(statement, ast.Assign) else [statement.target]
        if not all(isinstance(t, ast.Attribute) and t.attr.startswith("_") for t in targets):
            return False
        if statement.value is not None and _has_call(statement.value, self):
            return False
        read = _attributes_read(self.semantic)
        return not any(t.attr in read for t in targets)  # type: ignore[union-attr]

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
    "join", "delete",
)


_TEARDOWN_WORDS = ("close", "shutdown", "stop", "cleanup", "teardown", "dispose", "disconnect")

# What converts or decodes data in memory: a failure there is bad input, not lost work.
_PURE_FUNCTIONS = frozenset({
    *(f"builtins.{n}" for n in (
        "int", "float", "str", "bytes", "bytearray", "bool", "complex", "dict", "list", "tuple", "set",
        "frozenset", "len", "isinstance", "ord", "chr", "hex", "abs", "round", "min", "max", "sorted",
        "repr", "getattr", "hasattr", "iter", "next", "zip", "enumerate", "range", "divmod", "format",
    )),
    "json.loads", "json.dumps", "decimal.Decimal", "fractions.Fraction", "uuid.UUID",
    "datetime.datetime.fromisoformat", "datetime.datetime.strptime", "datetime.date.fromisoformat",
    "datetime.datetime.fromtimestamp", "ast.literal_eval", "struct.unpack", "struct.pack",
    "bytes.fromhex", "zlib.decompress", "pickle.loads",
})
_PURE_MODULES = frozenset({"base64", "binascii", "ipaddress", "urllib.parse", "codecs", "unicodedata", "string"})
_PURE_METHODS = frozenset({
    "split", "rsplit", "splitlines", "strip", "lstrip", "rstrip", "partition", "rpartition", "lower", "upper",
    "casefold", "startswith", "endswith", "replace", "decode", "encode", "fromhex", "hex", "format",
    "get", "items", "keys", "values", "index", "count", "find", "rfind", "isdigit", "isnumeric", "zfill",
    "to_bytes", "from_bytes", "group", "groups", "match", "fullmatch", "search", "findall", "verify",
    "append", "add", "extend", "copy", "setdefault",
})
_DECODER_PREFIXES = ("decode", "parse", "loads", "from_", "unpack", "deserial")


def _is_pure_method(func: ast.expr) -> bool:
    """A method of a string, bytes, mapping or match object, or one named for decoding."""
    name = last_name(func)
    if not isinstance(func, ast.Attribute) or not name:
        return False
    return name in _PURE_METHODS or name.lower().startswith(_DECODER_PREFIXES)


def _raises_plain_error(node: ast.Raise) -> bool:
    """`raise ValueError(...)` inside the guarded code: a validation of the data, caught below."""
    exc = node.exc.func if isinstance(node.exc, ast.Call) else node.exc
    return isinstance(exc, ast.Name) and exc.id in ("Exception", "ValueError", "TypeError", "KeyError")


def _keeps_a_sentinel(try_node: ast.AST, function: FunctionNode) -> bool:
    """`ret = -1` / `wallet = None` before the `try`, `ret = run()` in it, `if ret:` after it: a
    failure leaves the name at its earlier value, and the code after the `try` reads it."""
    if not isinstance(try_node, ast.Try):
        return False
    assigned = {
        t.id for s in try_node.body for n in ast.walk(s)
        if isinstance(n, (ast.Assign, ast.AnnAssign)) for t in (n.targets if isinstance(n, ast.Assign) else [n.target])
        if isinstance(t, ast.Name)
    }
    if not assigned:
        return False
    start, end = try_node.lineno, try_node.end_lineno or try_node.lineno
    params = {a.arg for a in (*function.args.posonlyargs, *function.args.args, *function.args.kwonlyargs)}
    before: Set[str] = assigned & params
    after: Set[str] = set()
    for node in iter_own_nodes(function):
        if isinstance(node, ast.Name) and node.id in assigned:
            if node.lineno < start:
                before.add(node.id)
            elif node.lineno > end and isinstance(node.ctx, ast.Load):
                after.add(node.id)
    return bool(before & after)


def _is_teardown(function: FunctionNode) -> bool:
    """Background work that closes things down: what fails there is usually already gone."""
    name = function.name.lower()
    return any(word in name for word in _TEARDOWN_WORDS)


def _called_method(statement: ast.stmt) -> str:
    value = statement.value if isinstance(statement, ast.Expr) else None
    if isinstance(value, ast.Await):
        value = value.value
    if isinstance(value, ast.Call):
        return last_name(value.func)
    return ""


def _is_cleanup(statement: ast.stmt) -> bool:
    method = _called_method(statement).lower()
    return any(word in method for word in _CLEANUP_WORDS)


def _sleeps(loop: ast.While) -> bool:
    """Whether the loop waits between rounds: a `sleep` call, a wait with a timeout on an
    event (`stop.wait(30)`, `while not stop.wait(t)`), or its async form
    (`await asyncio.wait_for(stop.wait(), 30)`)."""
    test = loop.test.operand if isinstance(loop.test, ast.UnaryOp) else loop.test
    if isinstance(test, ast.Call) and isinstance(test.func, ast.Attribute) and test.func.attr == "wait" and test.args:
        return True
    for node in iter_own_nodes(loop):
        if isinstance(node, ast.Call):
            name = last_name(node.func)
            if name == "sleep" or (name == "wait" and _times_out(node)) or (name == "wait_for" and _waits_on_event(node)):
                return True
    return False


# Receivers whose `wait(...)` waits for work handed in, not for a pause to end.
_WAIT_MODULES = frozenset({"asyncio", "futures", "concurrent.futures"})


def _times_out(call: ast.Call) -> bool:
    """`stop.wait(30)`, `stop.wait(timeout=30)`: an event's wait that ends by itself."""
    func = call.func
    if not isinstance(func, ast.Attribute) or spelled(func.value) in _WAIT_MODULES:
        return False
    return bool(call.args) or any(keyword.arg == "timeout" for keyword in call.keywords)


def _waits_on_event(call: ast.Call) -> bool:
    """`asyncio.wait_for(stop.wait(), 30)`: an event's wait bounded by a timeout."""
    awaited = call.args[0] if call.args else None
    timed = len(call.args) > 1 or any(keyword.arg == "timeout" for keyword in call.keywords)
    return timed and isinstance(awaited, ast.Call) and last_name(awaited.func) == "wait" and not awaited.args


_PRAGMAS = ("noqa", "pylint:", "type:", "pragma", "ffscan:", "nosec", "fmt:", "isort:", "mypy:", "pyright:")
_KNOWN_PROBLEMS = ("todo", "fixme", "xxx", "hack", "bug")


def _explains(comment: str) -> bool:
    text = comment.lstrip("#").strip().lower()
    if not text or text.startswith(_PRAGMAS):
        return False
    return not any(word in text for word in _KNOWN_PROBLEMS)


def _logs(body: List[ast.stmt]) -> bool:
    """Whether the handler writes a log line (then what it does is judged, not its comments)."""
    return any(
        isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr in LOG_METHODS
        for node in iter_own_nodes(ast.Module(body=body, type_ignores=[]))
    )


def _logs_as_expected(body: List[ast.stmt]) -> bool:
    """Whether the handler logs, and only at debug level (`log.debug(...)`)."""
    levels = []
    for node in iter_own_nodes(ast.Module(body=body, type_ignores=[])):
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr in LOG_METHODS:
            levels.append(node.func.attr)
    return bool(levels) and all(level == "debug" for level in levels)


def _own_calls(body: List[ast.stmt]) -> List[ast.Call]:
    """The calls in `body` in the order they run (an argument's call before the call it is
    passed to: by where each ends), not descending into nested defs or lambdas."""
    found = [n for n in iter_own_nodes(ast.Module(body=body, type_ignores=[])) if isinstance(n, ast.Call)]
    return sorted(found, key=lambda c: (c.end_lineno, c.end_col_offset))


def _takes_element(value: Optional[ast.AST]) -> bool:
    """`callbacks[key]`, `handlers.get(name)`, `pending.pop()`: an element taken out of a container."""
    if isinstance(value, ast.Subscript):
        return True
    return isinstance(value, ast.Call) and isinstance(value.func, ast.Attribute) and value.func.attr in (
        "get", "pop", "popleft", "get_nowait",
    )


def _returns_values_elsewhere(function: FunctionNode, handler: ast.ExceptHandler) -> bool:
    """Whether the function returns a value outside this handler: then what the handler
    returns is a status its caller reads."""
    inside = {id(n) for n in ast.walk(handler)}
    for node in iter_own_nodes(function):
        if isinstance(node, ast.Return) and id(node) not in inside and node.value is not None:
            if not (isinstance(node.value, ast.Constant) and node.value.value is None):
                return True
    return False


def _attributes_read(semantic) -> Set[str]:
    """Every attribute name the module reads (`x.name` loaded, `getattr(x, "name")`)."""
    cache = semantic.cache.setdefault("ff401_attributes_read", {})
    found = cache.get("names")
    if found is None:
        found = set()
        for node in ast.walk(semantic.tree):
            if isinstance(node, ast.Attribute) and isinstance(node.ctx, ast.Load):
                found.add(node.attr)
            elif isinstance(node, ast.AugAssign) and isinstance(node.target, ast.Attribute):
                pass  # `self._n += 1` writes what it reads: not a read by anyone else
            elif isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id in ("getattr", "hasattr"):
                if len(node.args) >= 2 and isinstance(node.args[1], ast.Constant) and isinstance(node.args[1].value, str):
                    found.add(node.args[1].value)
        cache["names"] = found
    return found


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


