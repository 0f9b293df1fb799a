"""What the FF3 rules share: executors, thread and process handles, and where a handle goes."""

from __future__ import annotations

import ast
from typing import TYPE_CHECKING, List, Optional

from ffscan.semantic.flow import (
    Use,
    defining_scope,
    fate,
    is_declared_global,
    name_loads,
)
from ffscan.semantic.names import FUNCTION_TYPES, Binding, FunctionNode, iter_own_nodes
from ffscan.semantic.stdlib import EXECUTOR_CLASSES, PROCESS_CLASSES, THREAD_CLASSES

if TYPE_CHECKING:
    from ffscan.semantic.model import SemanticModel

# Spellings that are concurrent.futures executors in practice when the type is unknown.
_EXECUTOR_SPELLINGS = frozenset({"executor", "pool", "thread_pool", "threadpool", "process_pool", "worker_pool"})
# `pool.map` on a multiprocessing.Pool is eager and re-raises: only executor spellings for map.
_STRICT_EXECUTOR_SPELLINGS = frozenset({"executor", "thread_pool", "threadpool", "process_pool"})

PROCESS_FACTORIES = frozenset({"multiprocessing.get_context", "multiprocessing.context.get_context"})

# Methods on a handle that neither wait for it nor keep it.
_HANDLE_SETUP_METHODS = frozenset({"start", "setDaemon", "setName"})
_HANDLE_SETUP_ATTRS = frozenset({"daemon", "name"})


def executor_kind(semantic: "SemanticModel", expr: ast.expr, strict: bool = False) -> Optional[str]:
    """`ThreadPoolExecutor`-like name when `expr` is a concurrent.futures executor, else None.

    Known through the resolver (`pool = ThreadPoolExecutor()`, `with ... as ex`,
    `self._pool = ...`), or spelled like one when its type is unknown. A receiver whose type is
    known to be something else is never an executor.
    """
    kind = None
    if isinstance(expr, (ast.Name, ast.Attribute, ast.Call)):
        kind = semantic.names.instance_type(expr)
    if kind is not None:
        return kind.rsplit(".", 1)[-1] if kind in EXECUTOR_CLASSES else None
    if _bound_to_non_call(semantic, expr):
        return None
    identifier = expr.id if isinstance(expr, ast.Name) else expr.attr if isinstance(expr, ast.Attribute) else ""
    bare = identifier.lstrip("_").lower()
    spellings = _STRICT_EXECUTOR_SPELLINGS if strict else _EXECUTOR_SPELLINGS
    if (bare in spellings or bare.endswith("_executor")) and not _uses_foreign_methods(semantic, expr):
        return "executor"
    return None


# What code does with a concurrent.futures executor; anything else means it is another class.
_EXECUTOR_API = frozenset(
    {"submit", "map", "shutdown", "__enter__", "__exit__", "_max_workers", "_shutdown", "_threads", "_processes", "_work_queue", "_broken"}
)


def _uses_foreign_methods(semantic: "SemanticModel", expr: ast.expr) -> bool:
    """Whether code near `expr` uses it as something else than an executor
    (`self._cleanup_executor.handle_operation_result(...)`)."""
    key = _dotted(expr)
    if key is None:
        return False
    if isinstance(expr, ast.Attribute):
        region: Optional[ast.AST] = semantic.names.enclosing_class(expr)
    else:
        region = semantic.names.enclosing_function(expr)
    if region is None:
        return False
    for node in ast.walk(region):
        if isinstance(node, ast.Attribute) and node.attr not in _EXECUTOR_API and _dotted(node.value) == key:
            return True
    return False


def _bound_to_non_call(semantic: "SemanticModel", expr: ast.expr) -> bool:
    """A local bound to a call we cannot name (`pool = make_pool()`): its spelling proves nothing
    either way, but a parameter or a plain name is still judged by its spelling."""
    if not isinstance(expr, ast.Name):
        return False
    found = semantic.names.binding(expr.id, expr)
    return found is not None and found.kind == Binding.VALUE and isinstance(found.node, ast.Call)


def constructed_class(semantic: "SemanticModel", call: ast.Call) -> Optional[str]:
    """`threading.Thread`, `threading.Timer` or `multiprocessing.Process` for a constructor call."""
    callee = semantic.names.qualified(call.func)
    if callee in THREAD_CLASSES or callee in PROCESS_CLASSES:
        return callee
    func = call.func
    # `semantic = multiprocessing.get_context("spawn"); semantic.Process(...)`
    if isinstance(func, ast.Attribute) and func.attr == "Process":
        base = func.value
        if isinstance(base, ast.Call) and semantic.names.qualified(base.func) in PROCESS_FACTORIES:
            return "multiprocessing.Process"
        if isinstance(base, ast.Name):
            found = semantic.names.binding(base.id, base)
            value = found.node if found is not None else None
            if isinstance(value, ast.Call) and semantic.names.qualified(value.func) in PROCESS_FACTORIES:
                return "multiprocessing.Process"
    return None


class Handle:
    """What became of a thread or process object made by `call`."""

    def __init__(self, started: bool, kept: bool, name: Optional[str] = None, loads: Optional[List[ast.Name]] = None):
        self.started = started
        self.kept = kept
        self.name = name
        self.loads = loads or []


def handle_fate(semantic: "SemanticModel", call: ast.Call) -> Handle:
    """Whether the object made by `call` is started here and then never joined nor kept.

    Kept means anything but configuring and starting it: joined, stored, returned, passed,
    tested, or bound to a name that is read any other way (closures included).
    """
    where = fate(semantic, call)
    if where.use is Use.RECEIVER:
        method = where.node.func.attr  # type: ignore[union-attr]
        if method == "start":
            outer = fate(semantic, where.node)  # type: ignore[arg-type]
            return Handle(started=True, kept=outer.use is not Use.DROPPED)
        return Handle(started=False, kept=True)
    if where.use is not Use.BOUND or len(where.names) != 1:
        return Handle(started=False, kept=True)
    name = where.names[0]
    scope = defining_scope(semantic, where.node)  # type: ignore[arg-type]
    if not isinstance(scope, FUNCTION_TYPES) or is_declared_global(scope, name):
        return Handle(started=False, kept=True)  # module or class level: importable, kept
    loads = name_loads(semantic, scope).get(name, [])
    started = False
    for load in loads:
        parent = semantic.parent(load)
        if isinstance(parent, ast.Attribute) and isinstance(parent.ctx, ast.Store) and parent.attr in _HANDLE_SETUP_ATTRS:
            continue
        use = fate(semantic, load)
        if use.use is Use.RECEIVER and use.node.func.attr in _HANDLE_SETUP_METHODS:  # type: ignore[union-attr]
            started = started or use.node.func.attr == "start"  # type: ignore[union-attr]
            continue
        return Handle(started=started, kept=True, name=name, loads=loads)
    return Handle(started=started, kept=False, name=name, loads=loads)


def is_daemon(semantic: "SemanticModel", call: ast.Call, handle: Handle) -> bool:
    """`daemon=True` in the constructor, or `t.daemon = True` / `t.setDaemon(True)` on its name."""
    for keyword in call.keywords:
        if keyword.arg == "daemon":
            return _is_true(keyword.value)
    for load in handle.loads:
        parent = semantic.parent(load)
        if isinstance(parent, ast.Attribute) and parent.attr == "daemon" and isinstance(parent.ctx, ast.Store):
            assign = semantic.parent(parent)
            if isinstance(assign, ast.Assign) and _is_true(assign.value):
                return True
        if isinstance(parent, ast.Attribute) and parent.attr == "setDaemon":
            setter = semantic.parent(parent)
            if isinstance(setter, ast.Call) and setter.args and _is_true(setter.args[0]):
                return True
    return False


def _is_true(expr: ast.expr) -> bool:
    return isinstance(expr, ast.Constant) and expr.value is True


def thread_target(call: ast.Call, cls: str) -> Optional[ast.expr]:
    """The callable a Thread, Timer or Process runs."""
    for keyword in call.keywords:
        if keyword.arg in ("target", "function"):
            return keyword.value
    position = 1  # Thread(group, target, ...), Timer(interval, function, ...), Process(group, target, ...)
    return call.args[position] if len(call.args) > position else None


# Calls that change state outside the process: cut off half-way, they leave it half-done.
_WRITE_METHODS = frozenset(
    {
        "write", "writelines", "write_text", "write_bytes", "flush", "commit", "save", "dump",
        "execute", "executemany", "sendall", "send", "sendto", "put_object", "upload_file",
        "rename", "unlink", "rmtree", "copyfile", "move", "truncate",
    }
)
_WRITE_MODES = ("w", "a", "x", "+")
# A prompt or a log line cut short at exit loses nothing.
_CONSOLE_STREAMS = frozenset({"sys.stdout", "sys.stderr", "sys.__stdout__", "sys.__stderr__"})


def drained_queue(semantic: "SemanticModel", function: FunctionNode, region: ast.AST) -> bool:
    """Whether `function` consumes a queue (`self.queue.get()`) that code in `region` (its
    class or module) waits on with `.join()`: then the queued writes finish before shutdown."""
    consumed = set()
    for node in iter_own_nodes(function):
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr == "get":
            consumed.add(_dotted(node.func.value))
    consumed.discard(None)
    if not consumed:
        return False
    for node in ast.walk(region):
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr == "join":
            if _dotted(node.func.value) in consumed:
                return True
    return False


def _dotted(expr: ast.expr) -> Optional[str]:
    if isinstance(expr, ast.Name):
        return expr.id
    if isinstance(expr, ast.Attribute):
        base = _dotted(expr.value)
        return f"{base}.{expr.attr}" if base else None
    return None


def writes(semantic: "SemanticModel", function: FunctionNode, depth: int = 0) -> Optional[ast.Call]:
    """The first call in `function` (or in a local def it calls, two levels deep) that writes
    a file, a socket or a database, or None."""
    for node in iter_own_nodes(function):
        if not isinstance(node, ast.Call):
            continue
        func = node.func
        if isinstance(func, ast.Attribute) and func.attr in _WRITE_METHODS:
            if semantic.names.qualified(func.value) not in _CONSOLE_STREAMS:
                return node
        callee = semantic.names.qualified(func)
        if callee in ("os.replace", "os.remove"):
            return node
        if callee in ("builtins.open", "io.open") and _write_mode(node):
            return node
        if depth < 2:
            inner = semantic.names.function_def(func)
            if inner is not None and inner is not function:
                found = writes(semantic, inner, depth + 1)
                if found is not None:
                    return found
    return None


def _write_mode(call: ast.Call) -> bool:
    mode = call.args[1] if len(call.args) > 1 else next((k.value for k in call.keywords if k.arg == "mode"), None)
    return isinstance(mode, ast.Constant) and isinstance(mode.value, str) and any(m in mode.value for m in _WRITE_MODES)


_CATCH_ALL = frozenset({"Exception", "BaseException"})


def handles_own_errors(semantic: "SemanticModel", callable_expr: ast.expr) -> bool:
    """Whether the local function `callable_expr` runs wraps its whole body in a `try` that
    catches every exception: then nothing is left for the future to carry."""
    target = callable_expr
    if isinstance(target, ast.Lambda) and isinstance(target.body, ast.Call):
        target = target.body.func
    function = semantic.names.function_def(target)
    if function is None:
        return False
    body = list(function.body)
    if body and isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant):
        body = body[1:]  # the docstring
    if not body:
        return True
    tries = [s for s in body if isinstance(s, ast.Try)]
    if len(body) - len(tries) > 1 or not tries:
        return False
    return all(any(_catches_all(h) for h in t.handlers) for t in tries)


def _catches_all(handler: ast.ExceptHandler) -> bool:
    kind = handler.type
    if kind is None:
        return True
    names = kind.elts if isinstance(kind, ast.Tuple) else [kind]
    return any(
        (isinstance(n, ast.Name) and n.id in _CATCH_ALL) or (isinstance(n, ast.Attribute) and n.attr in _CATCH_ALL)
        for n in names
    )
