"""What the FF3 rules share: executors, thread and process handles, and where a handle goes."""

from __future__ import annotations

import ast
from typing import TYPE_CHECKING, FrozenSet, Iterable, List, NamedTuple, Optional, Set

from ffscan.semantic.flow import (
    Use,
    defining_scope,
    fate,
    is_declared_global,
    name_loads,
)
from ffscan.semantic.names import FUNCTION_TYPES, Binding, FunctionNode, iter_own_nodes
from ffscan.semantic.spelling import last_name, spelled
from ffscan.semantic.stdlib import EXECUTOR_CLASSES, PROCESS_CLASSES, THREAD_CLASSES, is_loop_expression

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
    identifier = last_name(expr)
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


def drained_queue(semantic: "SemanticModel", function: FunctionNode, region: ast.AST) -> bool:
    """Whether `function` consumes a queue (`self.queue.get()`) that code in `region` (its
    class or module) waits on with `.join()`: then the queued writes finish before shutdown."""
    consumed = _receivers(iter_own_nodes(function), _GET)
    return bool(consumed) and not consumed.isdisjoint(_receivers(ast.walk(region), _JOINS))


def feeds_its_starter(function: FunctionNode, starter: FunctionNode) -> bool:
    """Whether `function` puts into a queue (`out.put(...)`) that `starter`, the function that
    starts it, or a function nested there reads with `.get()`: a producer for its own caller,
    whose reader waits for each item and stops when the process does."""
    fed = _receivers(iter_own_nodes(function), _PUTS)
    return bool(fed) and not fed.isdisjoint(_receivers(ast.walk(starter), _GETS))


def _receivers(nodes: Iterable[ast.AST], methods: FrozenSet[str]) -> Set[str]:
    """The dotted receivers (`out`, `self.queue`) of the calls among `nodes` to `methods`."""
    found = set()
    for node in nodes:
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr in methods:
            name = _dotted(node.func.value)
            if name is not None:
                found.add(name)
    return found


_PUTS = frozenset({"put", "put_nowait"})
_GETS = frozenset({"get", "get_nowait"})
_GET = frozenset({"get"})
_JOINS = frozenset({"join"})


def _dotted(expr: ast.expr) -> Optional[str]:
    if isinstance(expr, ast.Name):
        return expr.id
    if isinstance(expr, ast.Attribute):
        base = _dotted(expr.value)
        return f"{base}.{expr.attr}" if base else None
    return None


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


# ---- why a thread nobody joins matters ---------------------------------------------------------

# Decorators that wrap or describe a def without registering it anywhere.
_PLAIN_DECORATORS = frozenset(
    {
        "builtins.staticmethod", "builtins.classmethod", "builtins.property", "functools.wraps",
        "functools.lru_cache", "functools.cache", "functools.cached_property", "abc.abstractmethod",
        "contextlib.contextmanager", "contextlib.asynccontextmanager", "typing.override",
        "typing_extensions.override", "typing.overload",
    }
)


def start_context(semantic: "SemanticModel", call: ast.AST) -> Optional[str]:
    """How often the code at `call` runs, when it runs per item, per event or per request:
    "once per item of `urls`", "once per round of `while True`", "on every call of `upload`,
    a decorated handler", "on every call of `on_click`, a callback". None when it looks like
    code run once (startup, `__init__`) or cannot be told."""
    child: ast.AST = call
    for ancestor in semantic.ancestors(call):
        if isinstance(ancestor, FUNCTION_TYPES + (ast.Lambda, ast.ClassDef)):
            break
        if isinstance(ancestor, (ast.For, ast.AsyncFor)) and child is not ancestor.iter and child not in ancestor.orelse:
            return f"once per item of `{_spelled(ancestor.iter)}`"
        if isinstance(ancestor, ast.While) and child is not ancestor.test and child not in ancestor.orelse:
            return f"once per round of `while {_spelled(ancestor.test)}`"
        if isinstance(ancestor, (ast.ListComp, ast.SetComp, ast.GeneratorExp, ast.DictComp)):
            return f"once per item of `{_spelled(ancestor.generators[0].iter)}`"
        child = ancestor
    function = semantic.names.enclosing_function(call)
    if function is None or function.name in ("__init__", "__new__", "__post_init__", "main"):
        return None
    names = semantic.names
    for decorator in function.decorator_list:
        target = decorator.func if isinstance(decorator, ast.Call) else decorator
        if names.qualified(target) not in _PLAIN_DECORATORS and not _is_property_setter(target):
            return f"on every call of `{function.name}`, a decorated handler"
    if _passed_as_callback(semantic, function):
        return f"on every call of `{function.name}`, a callback"
    return None


def _is_property_setter(expr: ast.expr) -> bool:
    return isinstance(expr, ast.Attribute) and expr.attr in ("setter", "getter", "deleter")


def _passed_as_callback(semantic: "SemanticModel", function: FunctionNode) -> bool:
    """Whether the module hands `function` to a call as a value (`button.on_click(save)`,
    `signal.signal(SIGHUP, self.reload)`, `app.add_handler(handle)`): something else calls it,
    once per event. Being a thread's own target does not count."""
    cache = semantic.cache.setdefault("callbacks", {})
    found = cache.get("passed")
    if found is None:
        found = cache["passed"] = set()
        for node in ast.walk(semantic.tree):
            if not isinstance(node, ast.Call) or constructed_class(semantic, node) is not None:
                continue
            for argument in (*node.args, *(k.value for k in node.keywords)):
                if isinstance(argument, ast.Name):
                    found.add(argument.id)
                elif isinstance(argument, ast.Attribute) and isinstance(argument.value, ast.Name) and argument.value.id in ("self", "cls"):
                    found.add(argument.attr)
    return function.name in found


def _spelled(expr: ast.AST) -> str:
    return spelled(expr, fallback="input")


def runs_forever(function: FunctionNode) -> bool:
    """Whether the function's body is a service loop: a top-level `while` that only a flag,
    an event or an exception ends (a worker, a poller, a server)."""
    for statement in function.body:
        inner = statement.body if isinstance(statement, (ast.Try, ast.With)) else [statement]
        for node in inner:
            if isinstance(node, ast.While):
                return True
            if isinstance(node, ast.Expr) and isinstance(node.value, ast.Call):
                func = node.value.func
                if isinstance(func, ast.Attribute) and func.attr in ("serve_forever", "run_forever", "mainloop"):
                    return True
    return False


# ---- worker threads of an object that stops them without waiting -------------------------------


class OwnerStop(NamedTuple):
    """A method of the thread's owner that tells it to end (`stop`) and how (the evidence)."""

    method: str
    how: str


def owner_stop(semantic: "SemanticModel", start: ast.AST, target: Optional[ast.expr]) -> Optional[OwnerStop]:
    """For a thread started in a method of class C to run `self.<worker>`, a loop reading a
    queue: a method of C that tells the worker to end by putting a sentinel (`None`, a
    constant, an `object()`) into that queue, while no method of C ever joins a thread. That
    method returns, and whatever its caller releases next (a connection, a file) goes while
    the worker still runs. (A flag the worker's loop tests is not taken as a stop request: on
    real code such threads finish their own clean-up by design.)"""
    if not (isinstance(target, ast.Attribute) and isinstance(target.value, ast.Name) and target.value.id == "self"):
        return None
    names = semantic.names
    cls = names.enclosing_class(start)
    starter = names.enclosing_function(start)
    if cls is None or starter is None:
        return None
    worker = names.method(cls, target.attr)
    if worker is None or not runs_forever(worker):
        return None
    methods = [n for n in cls.body if isinstance(n, FUNCTION_TYPES)]
    if any(_joins_a_thread(m) for m in methods):
        return None
    read_queues = _read_queues(worker)
    for method in methods:
        if method is worker or method is starter or method.name in ("__init__", "__new__"):
            continue
        for node in iter_own_nodes(method):
            if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr in ("put", "put_nowait"):
                receiver = _dotted(node.func.value)
                if receiver in read_queues and node.args and _is_sentinel(semantic, node.args[0]):
                    return OwnerStop(method.name, f"`{method.name}` puts a sentinel into `{receiver}`, which `{worker.name}` reads")
    return None


def _is_sentinel(semantic: "SemanticModel", expr: ast.expr) -> bool:
    """`None`, a constant, or an `object()` made to mean "stop"."""
    if isinstance(expr, ast.Constant):
        return True
    if isinstance(expr, (ast.Name, ast.Attribute)):
        return semantic.names.instance_type(expr) == "builtins.object"
    return False


def _read_queues(worker: FunctionNode) -> set:
    """The `self.` queues a worker reads."""
    return {name for name in _receivers(iter_own_nodes(worker), _GETS) if name.startswith("self.")}


def _joins_a_thread(function: FunctionNode) -> bool:
    """A `.join()` or `.join(timeout)` call: not `", ".join(parts)`."""
    for node in iter_own_nodes(function):
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr == "join":
            if isinstance(node.func.value, ast.Constant):
                continue
            if not node.args or (len(node.args) == 1 and isinstance(node.args[0], ast.Constant) and isinstance(node.args[0].value, (int, float))):
                return True
            if any(k.arg == "timeout" for k in node.keywords):
                return True
    return False


# ---- joins that skip finished threads ------------------------------------------------------------

_ALIVE = frozenset({"is_alive", "isAlive"})


class LivenessJoin(NamedTuple):
    test: ast.Call  # `thread.is_alive()` guarding the only join
    name: str  # the thread's name
    cls: str  # the Thread subclass whose `join` raises


def may_join_on_liveness(text: str) -> bool:
    """Whether a module's text can hold a liveness-guarded join at all (most that start
    threads never ask `is_alive()`): spares walking every function of the others."""
    return any(name in text for name in _ALIVE)


def liveness_joins(semantic: "SemanticModel", function: FunctionNode) -> List[LivenessJoin]:
    """Threads of a subclass whose `join` re-raises (it propagates the exception `run` stored)
    that `function` joins only inside `while t.is_alive():` or `if t.is_alive():`: a thread that
    finished before the check is never joined, and its exception is never raised."""
    joins: dict = {}
    for node in iter_own_nodes(function):
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr == "join":
            if isinstance(node.func.value, ast.Name):
                joins.setdefault(node.func.value.id, []).append(node)
    found: List[LivenessJoin] = []
    for name, calls in joins.items():
        cls = _raising_join_class(semantic, function, name)
        if cls is None:
            continue
        guards = [_alive_guard(semantic, call, name, function) for call in calls]
        if guards and all(g is not None for g in guards):
            found.append(LivenessJoin(guards[0], name, cls))  # type: ignore[arg-type]
    return found


def _alive_guard(semantic: "SemanticModel", call: ast.Call, name: str, function: FunctionNode) -> Optional[ast.Call]:
    for ancestor in semantic.ancestors(call):
        if ancestor is function:
            return None
        if isinstance(ancestor, (ast.While, ast.If)):
            for node in ast.walk(ancestor.test):
                if (
                    isinstance(node, ast.Call)
                    and isinstance(node.func, ast.Attribute)
                    and node.func.attr in _ALIVE
                    and isinstance(node.func.value, ast.Name)
                    and node.func.value.id == name
                ):
                    return node
    return None


def _raising_join_class(semantic: "SemanticModel", function: FunctionNode, name: str) -> Optional[str]:
    """The local Thread subclass (overriding `join` with a `raise`) some binding of `name` in
    `function` constructs."""
    names = semantic.names
    bindings = names.lookup(name, names.scopes[function]) or []
    for binding in bindings:
        value = binding.node
        if binding.kind != Binding.VALUE or not isinstance(value, ast.Call):
            continue
        cls = _local_class(semantic, value.func)
        if cls is None or not is_thread_subclass(semantic, cls):
            continue
        join = names.method(cls, "join")
        if join is not None and any(isinstance(n, ast.Raise) for n in iter_own_nodes(join)):
            return cls.name
    return None


def _local_class(semantic: "SemanticModel", expr: ast.expr) -> Optional[ast.ClassDef]:
    if isinstance(expr, ast.Name):
        found = semantic.names.binding(expr.id, expr)
        if found is not None and found.kind == Binding.CLASS:
            return found.node  # type: ignore[return-value]
    return None


def is_thread_subclass(semantic: "SemanticModel", cls: ast.ClassDef, depth: int = 0) -> bool:
    """Whether the local class derives from `threading.Thread` (directly or through local classes)."""
    if depth > 8:
        return False
    names = semantic.names
    for base in cls.bases:
        if names.qualified(base) == "threading.Thread":
            return True
        local = _local_class(semantic, base)
        if local is not None and local is not cls and is_thread_subclass(semantic, local, depth + 1):
            return True
    return False


# ---- a callable whose own outcome is read ---------------------------------------------------------

_OUTCOME_METHODS = frozenset({"result", "exception"})


def outcome_read_elsewhere(semantic: "SemanticModel", callable_expr: ast.expr, call: ast.Call) -> bool:
    """Whether the submitted callable is itself a future-like object whose outcome the code
    reads (`futures.append(handler)` and later `future.result()`): its failure is seen there,
    whatever becomes of the executor's future."""
    if not isinstance(callable_expr, ast.Name):
        return False
    function = semantic.names.enclosing_function(call)
    if function is None:
        return False
    region: ast.AST = semantic.names.enclosing_class(function) or function
    for node in iter_own_nodes(function):
        if not (isinstance(node, ast.Name) and node.id == callable_expr.id and node is not callable_expr):
            continue
        parent = semantic.parent(node)
        if isinstance(parent, ast.Attribute) and parent.attr in _OUTCOME_METHODS:
            return True
        if isinstance(parent, ast.Call) and isinstance(parent.func, ast.Attribute) and parent.func.attr in ("append", "add"):
            holder = _dotted(parent.func.value)
            if holder is not None and _outcomes_read(region, holder):
                return True
    return False


def _outcomes_read(region: ast.AST, holder: str) -> bool:
    """Whether code in `region` iterates `holder` and reads each item's `result()` or `exception()`."""
    for node in ast.walk(region):
        if isinstance(node, (ast.For, ast.comprehension)) and _dotted(node.iter) == holder:
            items = {n.id for n in ast.walk(node.target) if isinstance(n, ast.Name)}
            scope = node if isinstance(node, ast.For) else region
            for inner in ast.walk(scope):
                if (
                    isinstance(inner, ast.Attribute)
                    and inner.attr in _OUTCOME_METHODS
                    and isinstance(inner.value, ast.Name)
                    and inner.value.id in items
                ):
                    return True
    return False


# ---- executor futures nobody reads -----------------------------------------------------------------


def submitted(semantic: "SemanticModel", call: ast.Call) -> Optional[tuple]:
    """(the API as messages show it, the callable) for `executor.submit(fn, ...)` on an
    executor, or `loop.run_in_executor(executor, fn, ...)`; else None."""
    func = call.func
    if not isinstance(func, ast.Attribute):
        return None
    if func.attr == "submit" and call.args and executor_kind(semantic, func.value) is not None:
        return f"{spelled(func.value)}.submit", call.args[0]
    if func.attr == "run_in_executor" and len(call.args) >= 2 and is_loop_expression(semantic, func.value):
        return f"{spelled(func.value)}.run_in_executor", call.args[1]
    return None


def is_dropped_future(semantic: "SemanticModel", call: ast.Call) -> bool:
    """Whether the future `call` returns is thrown away: an expression statement (or a
    comprehension used as one), or a local that is never read."""
    where = fate(semantic, call)
    if where.use is Use.DROPPED:
        return True
    if where.use is Use.BOUND and len(where.names) == 1 and where.names[0] != "_":
        scope = defining_scope(semantic, where.node)  # type: ignore[arg-type]
        if isinstance(scope, (ast.FunctionDef, ast.AsyncFunctionDef)):
            return not name_loads(semantic, scope).get(where.names[0])
    return False


class DroppedSubmission(NamedTuple):
    api: str  # as messages show it: `pool.submit`
    callable_expr: ast.expr  # what was submitted
    work: tuple  # the reference of what it runs (`f` of `lambda: f(x)`); unknown when nothing says


def dropped_submission(semantic: "SemanticModel", call: ast.Call, found: tuple) -> Optional[DroppedSubmission]:
    """The submission `call` (as `submitted` found it) when its future is thrown away and
    nothing else reads the outcome: the callable neither handles its own errors nor is a
    future-like object whose result the code reads."""
    api, callable_expr = found
    if handles_own_errors(semantic, callable_expr) or not is_dropped_future(semantic, call):
        return None
    if outcome_read_elsewhere(semantic, callable_expr, call):
        return None
    work = semantic.refs.ref_of(submitted_run(callable_expr), semantic.names.scope_of(call))
    return DroppedSubmission(api, callable_expr, work)


def submitted_run(callable_expr: ast.expr) -> ast.expr:
    """What a submitted callable runs: `lambda: f(x)` runs `f`."""
    if isinstance(callable_expr, ast.Lambda) and isinstance(callable_expr.body, ast.Call):
        return callable_expr.body.func
    return callable_expr
