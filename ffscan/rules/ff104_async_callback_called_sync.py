"""FF104 async-callback-called-sync: an `async def` handed to an API that calls it plainly."""

from __future__ import annotations

import ast
from typing import List, Optional, Tuple

from ffscan.model import Applicability, Fix, Impact
from ffscan.rules import fixes
from ffscan.rules.base import Rule
from ffscan.semantic.coroutines import (
    coroutine_call,
    coroutine_function,
    coroutine_function_query,
)
from ffscan.semantic.spelling import last_name, spelled
from ffscan.semantic.stdlib import COROUTINE_WORDS, EXECUTOR_CLASSES, is_loop_expression

# Qualified API -> (position of the callback, its keyword name or "").
_FUNCTION_APIS = {
    "threading.Thread": (1, "target"),
    "threading.Timer": (1, "function"),
    "atexit.register": (0, ""),
    "signal.signal": (1, "handler"),
    "weakref.finalize": (1, ""),
}
# Event-loop methods that call a plain callback and ignore what it returns.
_LOOP_METHODS = {
    "call_soon": 0,
    "call_soon_threadsafe": 0,
    "call_later": 1,
    "call_at": 1,
    "add_signal_handler": 1,
    "add_reader": 1,
    "add_writer": 1,
    "run_in_executor": 1,
}
_EXECUTOR_METHODS = {"submit": 0, "map": 0}
# The last names of everything above (a callee's spelling can only be one of these).
_CALLBACK_TAKERS = frozenset(
    {*(name.rsplit(".", 1)[-1] for name in _FUNCTION_APIS), *_LOOP_METHODS, *_EXECUTOR_METHODS, "add_done_callback"}
)
# Loop methods that call the callback inside the running loop with the arguments given here:
# there, `background.spawn` can take the callback's place.
_SPAWNABLE_LOOP_METHODS = {
    name: _LOOP_METHODS[name]
    for name in ("call_soon", "call_soon_threadsafe", "call_later", "call_at", "add_signal_handler")
}


class AsyncCallbackCalledSync(Rule):
    """## What it does
    Finds a coroutine function (an `async def` resolved as in FF101, or a `functools.partial`
    of one) handed as the callback of an API that calls it like a plain function and ignores
    what it returns: `threading.Thread(target=...)`, `threading.Timer`, `atexit.register`,
    `signal.signal`, `weakref.finalize`, `loop.call_soon`, `loop.call_soon_threadsafe`,
    `loop.call_later`, `loop.call_at`, `loop.add_signal_handler`, `loop.add_reader`,
    `loop.add_writer`, `loop.run_in_executor`, `executor.submit`, `executor.map` on a
    `concurrent.futures` executor, and `add_done_callback` on a future or task. A `lambda`
    whose body calls a coroutine function, handed to the same APIs, is reported as well.

    ## Why is this bad?
    These APIs run `callback(*args)` and move on. For an `async def` that call only builds a
    coroutine object, which is then dropped: the thread exits at once, the timer fires and does
    nothing, the cleanup registered with `atexit` never happens, the done-callback never
    reacts. The only trace is a "coroutine ... was never awaited" warning on stderr;
    `run_in_executor` and `submit` even hand the unrun coroutine back as the "result".

    ## Example
    ```python
    async def flush_metrics():
        await client.send(buffer)

    def install():
        atexit.register(flush_metrics)
        threading.Thread(target=flush_metrics, daemon=True).start()
    ```

    ## Fix
    ```python
    def install():
        atexit.register(lambda: asyncio.run(flush_metrics()))
        threading.Thread(target=asyncio.run, args=(flush_metrics(),), daemon=True).start()
    ```
    On the event loop's thread, schedule a task instead of a callback
    (`loop.call_soon(lambda: tasks.add(loop.create_task(handler())))`), or make the callback a
    plain function. For the loop's own callback APIs, `ffscan fix --unsafe-fixes` hands the
    coroutine function to the tracked queue, which the loop then calls with the same arguments:
    ```python
    loop.call_later(5, background.spawn, flush_metrics)  # was loop.call_later(5, flush_metrics)
    ```

    ## Fix safety
    Unsafe, and only for a coroutine function (or a `functools.partial` of one) passed by name
    as the callback of `loop.call_soon`, `call_soon_threadsafe`, `call_later`, `call_at` or
    `add_signal_handler`: these call it inside the running loop, where `background.spawn(fn,
    *args)` starts it as a tracked job. The body, which never ran, now runs as a task, later
    than the callback would have, with the queue's limits and retries, and its failures are
    reported. Only for a short unit of work (as FF201 judges it: a callback that loops, reads a
    stream or waits on what it did not make would hold a slot of the bounded queue). Not
    offered for `add_reader`/`add_writer` (one job per readiness event could
    flood the queue), a `lambda`, or the APIs that call from another thread or at exit
    (threads, timers, `atexit`, signals, finalizers, executors), where there is no running
    loop: whether the coroutine should run on a new loop (`asyncio.run`), be sent to the
    running one, or not at all is a design decision. Not offered where the module already uses
    the name `background` for something else.

    ## Known limits
    Only callbacks whose definition is certain (see FF101) are checked; loop methods only on
    an expression that is certainly an event loop, `submit`/`map` only on a `concurrent.futures`
    executor the module creates.
    """

    code = "FF104"
    name = "async-callback-called-sync"
    subject = ("async callback called as a plain function", "async callbacks called as plain functions")
    loss = "callback work never runs"
    triggers = COROUTINE_WORDS
    message = "Coroutine function `{callee}` is called by `{api}`, which drops the coroutine; its body never runs"
    fix_title = "Run the coroutine on an event loop instead of calling it as a plain callback"
    fix_applicability = Applicability.UNSAFE
    impacts = (Impact.NO_TRACKING, Impact.NO_ALERTING)
    risk = (
        "The callback's work never happens: the thread, timer, signal or cleanup handler runs an "
        "empty coroutine constructor and drops the result."
    )

    def visit_Call(self, node: ast.Call) -> None:
        found = self._callback(node)
        if found is None:
            return
        argument, api = found
        callee = coroutine_function(self.semantic, argument)
        if callee is not None:
            self.report(argument, fixes=self._spawn_fixes(node, argument), callee=callee, api=api)
            return
        query = coroutine_function_query(self.semantic, argument)
        if query is not None:
            self.report_if(argument, query, fixes=self._spawn_fixes(node, argument), callee=spelled(argument), api=api)
            return
        if isinstance(argument, ast.Lambda) and isinstance(argument.body, ast.Call):
            callee = coroutine_call(self.semantic, argument.body)
            if callee is not None:
                self.report(argument.body, callee=callee, api=api)

    def _spawn_fixes(self, api_call: ast.Call, callback: ast.expr) -> List[Fix]:
        """`loop.call_soon(background.spawn, fn, x)`: only for the loop's callback APIs, with the
        callback where the API takes it and no `*args` that could shift it, and only for short
        work (a job that waits on others would hold a slot of the bounded queue)."""
        func = api_call.func
        if not isinstance(func, ast.Attribute) or any(isinstance(a, ast.Starred) for a in api_call.args):
            return []
        position = _SPAWNABLE_LOOP_METHODS.get(func.attr)
        if position is None or len(api_call.args) <= position or api_call.args[position] is not callback:
            return []
        work = fixes.work_of(self.semantic, callback, api_call, coroutine=True)
        title = fixes.queue_title(self.semantic, "Start it")
        return fixes.remedies(work, lambda t: fixes.callback_on_queue(self.semantic, callback, t), title)

    def _callback(self, call: ast.Call) -> Optional[Tuple[ast.expr, str]]:
        """The callback argument of `call` and a name for the API, when `call` is one."""
        func = call.func
        if isinstance(func, ast.Attribute) and func.attr not in _CALLBACK_TAKERS:
            return None  # most calls: no API that takes a callback has this name (an imported name may be an alias)
        qualified = self.names.qualified(func)
        if qualified in _FUNCTION_APIS:
            position, keyword = _FUNCTION_APIS[qualified]
            argument = _argument(call, position, keyword)
            return (argument, qualified) if argument is not None else None
        if not isinstance(func, ast.Attribute):
            return None
        attr = func.attr
        position = None
        if attr == "add_done_callback":
            position = 0
        elif attr in _LOOP_METHODS and self._is_asyncio_loop(func.value):
            position = _LOOP_METHODS[attr]
        elif attr in _EXECUTOR_METHODS and self.names.instance_type(func.value) in EXECUTOR_CLASSES:
            position = _EXECUTOR_METHODS[attr]
        if position is None:
            return None
        argument = _argument(call, position, "")
        return (argument, f"{spelled(func.value, limit=30, too_long='obj', fallback='obj')}.{attr}") if argument is not None else None


    def _is_asyncio_loop(self, expr: ast.expr) -> bool:
        """An event loop that is asyncio's: Tornado's `IOLoop.call_later`/`call_at` run a
        coroutine callback as a task, so a loop known only by its spelling must not be
        Tornado's (`io_loop`, or any loop in a module that imports tornado)."""
        if not is_loop_expression(self.semantic, expr):
            return False
        spelled = last_name(expr)
        if spelled.lstrip("_").lower() in ("io_loop", "ioloop"):
            return False
        return not self._imports_tornado()

    def _imports_tornado(self) -> bool:
        memo = self.semantic.cache.setdefault("ff104", {})
        if "tornado" not in memo:
            memo["tornado"] = any(
                (isinstance(node, ast.Import) and any(a.name.split(".")[0] == "tornado" for a in node.names))
                or (isinstance(node, ast.ImportFrom) and (node.module or "").split(".")[0] == "tornado" and not node.level)
                for node in ast.walk(self.semantic.tree)
                if isinstance(node, (ast.Import, ast.ImportFrom))
            )
        return memo["tornado"]


def _argument(call: ast.Call, position: int, keyword: str) -> Optional[ast.expr]:
    if keyword:
        for item in call.keywords:
            if item.arg == keyword:
                return item.value
    if len(call.args) > position and not any(isinstance(a, ast.Starred) for a in call.args[: position + 1]):
        return call.args[position]
    return None


