"""Which functions of a module run in the background, where no caller sees what they raise.

Shared by the FF4xx rules. The answer comes from the spawn sites in the same module: the
coroutine function a dropped task runs, a thread's target, a callback handed to the event
loop, a `threading.Thread` subclass's `run`. Work whose handle is awaited, gathered or asked
for its `result()` is not background: its caller sees the exception.

Call `background_functions(semantic)` from a `leave_Module` handler: the pass has then linked every
node to its parent and recorded every call, so names inside functions resolve in their own
scopes.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass
from typing import TYPE_CHECKING, Dict, Iterator, NamedTuple, Optional

from ffscan.semantic.flow import Use, fate
from ffscan.semantic.names import FunctionNode
from ffscan.semantic.stdlib import PROCESS_CLASSES, TASK_SPAWNERS, THREAD_CLASSES, is_loop_expression, task_spawner
from ffscan.semantic.threads import executor_kind
from ffscan.semantic.spelling import last_name

if TYPE_CHECKING:
    from ffscan.semantic.model import SemanticModel

# Calls that wait for a task or future and hand its exception to whoever awaits them.
_WAITERS = frozenset(
    {
        "asyncio.gather",
        "asyncio.wait",
        "asyncio.wait_for",
        "asyncio.shield",
        "asyncio.as_completed",
        "concurrent.futures.wait",
        "concurrent.futures.as_completed",
    }
)
# Methods of a task or future that surface its failure.
OBSERVING_METHODS = frozenset({"result", "exception"})
# Loop methods that run a callable later and only log what it raises: (name, callable index).
_LOOP_CALLBACK_APIS = {"call_soon": 0, "call_soon_threadsafe": 0, "call_later": 1, "call_at": 1}
_CONTAINER_ADDERS = frozenset({"append", "add", "extend", "appendleft", "put_nowait", "update"})


@dataclass(frozen=True)
class Spawn:
    """How a function gets run in the background: the API and the call that does it."""

    api: str
    call: ast.AST


class Start(NamedTuple):
    """A call that starts work in the background: the API, and what it runs.

    `target` is the callable the work runs (a thread's target, a submitted function, a loop
    callback) or, for `coroutine=True`, the function whose coroutine a task runs.
    """

    api: str
    target: ast.expr
    coroutine: bool


def background_functions(semantic: "SemanticModel") -> Dict[FunctionNode, Spawn]:
    """Every local `def` of the module that certainly runs where no caller sees its errors."""
    cache = semantic.cache.setdefault("background", {})
    found = cache.get("functions")
    if found is None:
        found = {}
        names = semantic.names
        # The calls the pass recorded, in source order (the first start of a function names it);
        # cheaper than walking every node of the module again.
        calls = sorted((c for group in semantic.calls_by_function.values() for c in group), key=_position)
        for node in calls:
            for start in background_starts(semantic, node):
                target = names.function_def(start.target)
                if target is not None and names.is_coroutine_function(target) == start.coroutine:
                    found.setdefault(target, Spawn(start.api, node))
        for node in list(names.scopes):
            if isinstance(node, ast.ClassDef) and _is_thread_subclass(semantic, node):
                run = names.method(node, "run")
                if run is not None and names.enclosing_class(run) is node:
                    found.setdefault(run, Spawn("threading.Thread.run", node))
        cache["functions"] = found
    return found


def _position(node: ast.AST) -> tuple:
    return (node.lineno, node.col_offset)  # type: ignore[attr-defined]


def background_starts(semantic: "SemanticModel", call: ast.Call) -> Iterator[Start]:
    """What `call` starts in the background, where no caller will see what it raises."""
    names = semantic.names
    func = call.func
    if isinstance(func, ast.Attribute) and func.attr not in _start_words(semantic):
        return  # `x.attr(...)` qualifies to a name ending in `attr`: no API here ends so
    spawner = task_spawner(semantic, call)
    if spawner is not None:
        if call.args and isinstance(call.args[0], ast.Call) and not is_observed(semantic, call):
            yield Start(spawner, call.args[0].func, True)
        return
    callee = names.qualified(func)
    if callee in THREAD_CLASSES or callee in PROCESS_CLASSES:
        # A thread's exception goes to `threading.excepthook` (stderr), a process's to the
        # child's stderr; `join()` never raises it.
        target = _keyword(call, "target")
        if target is None and callee == "threading.Timer" and len(call.args) >= 2:
            target = call.args[1]
        elif target is None and callee == "threading.Thread" and len(call.args) >= 2:
            target = call.args[1]
        yield from _callable_start(semantic, target, callee)
        return
    if callee in ("_thread.start_new_thread", "_thread.start_new", "thread.start_new_thread"):
        yield from _callable_start(semantic, call.args[0] if call.args else None, callee)
        return
    if callee == "asyncio.run_coroutine_threadsafe":
        if call.args and isinstance(call.args[0], ast.Call) and not is_observed(semantic, call):
            yield Start(callee, call.args[0].func, True)
        return
    if not isinstance(func, ast.Attribute):
        return
    if func.attr in _RUNTIME_STARTERS:
        # Work handed to the tracked runtime still runs in the background: its own errors
        # are the job's, whatever the queue reports.
        api = _runtime_queue(semantic, func.value)
        if api is not None:
            if func.attr == "spawn_coro":
                if call.args and isinstance(call.args[0], ast.Call):
                    yield Start(f"{api}.spawn_coro", call.args[0].func, True)
            elif call.args:
                yield Start(f"{api}.{func.attr}", call.args[0], func.attr == "spawn")
            return
    if func.attr == "add_done_callback" and call.args:
        yield from _callable_start(semantic, call.args[0], "add_done_callback")
    elif func.attr in _LOOP_CALLBACK_APIS and is_loop_expression(semantic, func.value):
        index = _LOOP_CALLBACK_APIS[func.attr]
        if len(call.args) > index:
            yield from _callable_start(semantic, call.args[index], f"loop.{func.attr}")
    elif func.attr == "run_in_executor" and len(call.args) >= 2 and is_loop_expression(semantic, func.value):
        if fate(semantic, call).use is Use.DROPPED:
            yield from _callable_start(semantic, call.args[1], "loop.run_in_executor")
    elif func.attr == "submit" and call.args and executor_kind(semantic, func.value) is not None:
        if not is_observed(semantic, call):
            yield from _callable_start(semantic, call.args[0], "executor.submit")


# `background.spawn(fn, ...)`, `background.submit(fn, ...)`, `queue("x").spawn(...)` of ffscan.runtime.
_RUNTIME_STARTERS = frozenset({"spawn", "submit", "spawn_coro"})

# The last word of every API `background_starts` knows: most calls of a module are none of
# them, and telling so by the attribute alone spares resolving their names.
_START_WORDS = frozenset(
    {api.rpartition(".")[2] for api in (*TASK_SPAWNERS, *THREAD_CLASSES, *PROCESS_CLASSES)}
    | {"create_task", "ensure_future", "start_new_thread", "start_new", "run_coroutine_threadsafe"}
    | {"add_done_callback", "run_in_executor", "submit"}
    | set(_LOOP_CALLBACK_APIS)
    | _RUNTIME_STARTERS
)


def _start_words(semantic: "SemanticModel") -> frozenset:
    cache = semantic.cache.setdefault("background", {})
    words = cache.get("start_words")
    if words is None:
        configured = {api.rpartition(".")[2] for api in semantic.settings.spawn_apis}
        words = cache["start_words"] = _START_WORDS | configured
    return words


def _runtime_queue(semantic: "SemanticModel", expr: ast.expr) -> Optional[str]:
    """"background" or "queue" when `expr` is a queue of the tracked runtime: `background`,
    `queue("emails")`, either with `.options(...)`, or a `TrackedQueue(...)` kept in a name."""
    runtime = semantic.settings.fix.runtime_module
    names = semantic.names
    while isinstance(expr, ast.Call) and isinstance(expr.func, ast.Attribute) and expr.func.attr == "options":
        expr = expr.func.value
    if isinstance(expr, ast.Call):
        return "queue" if names.qualified(expr.func) == f"{runtime}.queue" else None
    if names.qualified(expr) == f"{runtime}.background":
        return "background"
    if isinstance(expr, (ast.Name, ast.Attribute)) and names.instance_type(expr) in (f"{runtime}.TrackedQueue", f"{runtime}.queue"):
        return "queue"
    return None


def _callable_start(semantic: "SemanticModel", expr: Optional[ast.expr], api: str) -> Iterator[Start]:
    """The callable a background API runs: a name, `self.method`, `partial(f, ...)`, or the
    function called in a `lambda`'s body."""
    names = semantic.names
    for _ in range(3):
        if isinstance(expr, ast.Call) and names.qualified(expr.func) == "functools.partial" and expr.args:
            expr = expr.args[0]
        elif isinstance(expr, ast.Lambda) and isinstance(expr.body, ast.Call):
            expr = expr.body.func
        else:
            break
    if isinstance(expr, (ast.Name, ast.Attribute)):
        yield Start(api, expr, False)


def is_spawn(semantic: "SemanticModel", call: ast.Call) -> bool:
    """Whether `call` starts work and returns its only handle: a new task, or the future of
    `executor.submit` / `asyncio.run_coroutine_threadsafe`."""
    if task_spawner(semantic, call) is not None:
        # `ensure_future(task)` hands back a task that already exists elsewhere.
        return bool(call.args) and isinstance(call.args[0], ast.Call)
    callee = semantic.names.qualified(call.func)
    if callee == "asyncio.run_coroutine_threadsafe":
        return True
    if callee in ("asyncio.Task", "asyncio.tasks.Task"):
        # `asyncio.Task(coro, eager_start=True)`: a task made directly
        return bool(call.args) and isinstance(call.args[0], ast.Call)
    func = call.func
    return isinstance(func, ast.Attribute) and func.attr == "submit" and executor_kind(semantic, func.value) is not None


def _keyword(call: ast.Call, name: str) -> Optional[ast.expr]:
    for keyword in call.keywords:
        if keyword.arg == name:
            return keyword.value
    return None


def _is_thread_subclass(semantic: "SemanticModel", cls: ast.ClassDef, _depth: int = 0) -> bool:
    if _depth > 5:
        return False
    for base in cls.bases:
        if semantic.names.qualified(base) == "threading.Thread":
            return True
        local = semantic.names.class_of_receiver(base) if isinstance(base, ast.Name) else None
        if isinstance(local, ast.ClassDef) and local is not cls and _is_thread_subclass(semantic, local, _depth + 1):
            return True
    return False


# ---- is a handle looked at? ---------------------------------------------------------------


def is_observed(semantic: "SemanticModel", handle: ast.expr) -> bool:
    """Whether the task or future `handle` evaluates to may be awaited, gathered, returned or
    asked for its result somewhere: then its failure can reach someone."""
    result = fate(semantic, handle)
    use = result.use
    if use is Use.DROPPED:
        return False
    if use in (Use.AWAITED, Use.RETURNED, Use.TESTED, Use.OTHER):
        return True
    if use is Use.RECEIVER:
        call = result.node
        method = call.func.attr if isinstance(call, ast.Call) and isinstance(call.func, ast.Attribute) else ""
        return method in OBSERVING_METHODS
    if use is Use.PASSED:
        call = result.node
        if not isinstance(call, ast.Call):
            return True
        if semantic.names.qualified(call.func) in _WAITERS:
            return True
        if semantic.names.qualified(call.func) == f"{semantic.settings.fix.runtime_module}.track":
            return is_observed(semantic, call)  # `track` hands back the same task: its own fate decides
        func = call.func
        if isinstance(func, ast.Attribute) and func.attr in _CONTAINER_ADDERS:
            return holder_observed(semantic, func.value, handle)
        return True  # handed to something we do not know: it may look
    if use is Use.BOUND:
        return any(holder_observed(semantic, ast.Name(id=name), handle) for name in result.names)
    if use is Use.STORED:
        statement = result.node
        targets = getattr(statement, "targets", None) or [getattr(statement, "target", None)]
        for target in targets:
            if isinstance(target, ast.Subscript):
                target = target.value
            if target is None or holder_observed(semantic, target, handle):
                return True
        return False
    return True


def _key_of(expr: ast.expr) -> Optional[str]:
    """`name` or `self.attr` spelled as text; None for anything more complex."""
    if isinstance(expr, ast.Name):
        return expr.id
    if isinstance(expr, ast.Attribute) and isinstance(expr.value, ast.Name):
        return f"{expr.value.id}.{expr.attr}"
    return None


def holder_observed(semantic: "SemanticModel", holder: ast.expr, at: ast.AST) -> bool:
    """Whether the name or `self.attr` holding tasks is awaited, gathered, iterated, returned
    or asked for results anywhere it can be seen (its function, or its class for attributes)."""
    key = _key_of(holder)
    if key is None:
        return True
    if "." in key:
        region: Optional[ast.AST] = semantic.names.enclosing_class(at)
        if region is None:
            region = semantic.names.enclosing_function(at)
    else:
        region = semantic.names.enclosing_function(at)
    if region is None:
        region = semantic.tree
    cache = semantic.cache.setdefault("background_observed", {})
    memo_key = (id(region), key)
    if memo_key in cache:
        return cache[memo_key]
    observed = False
    for node in ast.walk(region):
        if isinstance(node, (ast.Name, ast.Attribute)) and isinstance(node.ctx, ast.Load) and _key_of(node) == key:
            if _load_observes(semantic, node):
                observed = True
                break
    cache[memo_key] = observed
    return observed


def _load_observes(semantic: "SemanticModel", load: ast.expr) -> bool:
    parent = semantic.parent(load)
    if isinstance(parent, ast.Starred):
        parent = semantic.parent(parent)
    if isinstance(parent, (ast.Await, ast.Return, ast.Yield, ast.YieldFrom)):
        return True
    if isinstance(parent, ast.Call) and load is not parent.func:
        return semantic.names.qualified(parent.func) in _WAITERS or _is_unknown_consumer(parent)
    if isinstance(parent, ast.Attribute) and parent.value is load:
        return parent.attr in OBSERVING_METHODS
    if isinstance(parent, (ast.For, ast.AsyncFor, ast.comprehension)) and parent.iter is load:
        return True  # each task may be awaited in the loop
    if isinstance(parent, ast.Subscript) and parent.value is load:
        return True  # an element is taken out: it may be awaited
    return False


def _is_unknown_consumer(call: ast.Call) -> bool:
    func = call.func
    name = last_name(func)
    # Handing the collection on (a helper that waits, `list(tasks)`) may observe it; logging
    # it or counting it does not.
    return name not in ("len", "print", "repr", "str", "id", "discard", "remove", "add", "append")
