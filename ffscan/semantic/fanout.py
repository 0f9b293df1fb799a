"""What the FF5 rules share: loops over input of unknown size, per-item work, limiters in sight."""

from __future__ import annotations

import ast
import re
from typing import TYPE_CHECKING, Iterator, List, Optional, Set, Union

from ffscan.semantic.names import FUNCTION_TYPES, Binding, FunctionNode, iter_own_nodes
from ffscan.semantic.stdlib import TASK_GROUP_CLASSES, task_spawner
from ffscan.semantic.threads import constructed_class, handle_fate

if TYPE_CHECKING:
    from ffscan.semantic.model import SemanticModel

GATHERERS = frozenset({"asyncio.gather", "asyncio.tasks.gather"})
_RAW_THREAD_STARTERS = frozenset({"_thread.start_new_thread", "_thread.start_new"})
# Names that mean a bound is in sight: semaphores, limiters, job schedulers, bounded pools.
_LIMITER = re.compile(r"sem(aphore)?s?$|^_?sem_|limit(er)?s?$|capacity|throttl|aiojobs|scheduler|bounded|max_concurren", re.I)
_LIMITER_CLASSES = ("Semaphore", "BoundedSemaphore", "CapacityLimiter", "Limiter", "AsyncLimiter")

Loop = Union[ast.For, ast.AsyncFor, ast.While, ast.comprehension]


def spawned(semantic: "SemanticModel", call: ast.Call) -> Optional[str]:
    """What `call` starts running concurrently (a task, a thread), or None.

    Executor submits are not spawns here: the pool's `max_workers` bounds them.
    """
    spawner = task_spawner(semantic, call)
    if spawner is not None:
        return spawner
    func = call.func
    if isinstance(func, ast.Attribute) and func.attr == "create_task":
        if semantic.names.instance_type(func.value) in TASK_GROUP_CLASSES:
            return "TaskGroup.create_task"
    if semantic.names.qualified(func) in _RAW_THREAD_STARTERS:
        return "_thread.start_new_thread"
    cls = constructed_class(semantic, call)
    if cls == "threading.Thread" and handle_fate(semantic, call).started:
        return "threading.Thread"
    return None


def enclosing_loop(semantic: "SemanticModel", node: ast.AST) -> Optional[Loop]:
    """The innermost loop around `node` in its own function, whose body (not its iterable) runs it."""
    child = node
    for ancestor in semantic.ancestors(node):
        if isinstance(ancestor, FUNCTION_TYPES + (ast.Lambda, ast.ClassDef)):
            return None
        if isinstance(ancestor, (ast.For, ast.AsyncFor)) and child is not ancestor.iter and child not in ancestor.orelse:
            return ancestor
        if isinstance(ancestor, ast.While) and child is not ancestor.test and child not in ancestor.orelse:
            return ancestor
        if isinstance(ancestor, (ast.ListComp, ast.SetComp, ast.GeneratorExp, ast.DictComp)):
            if isinstance(ancestor, ast.GeneratorExp) and isinstance(semantic.parent(ancestor), ast.Expr):
                return None  # a generator nobody iterates runs nothing
            if child is not ancestor.generators[0].iter:
                return ancestor.generators[0]
        child = ancestor
    return None


def loop_targets(loop: Loop) -> Set[str]:
    if isinstance(loop, ast.While):
        return set()
    return {n.id for n in ast.walk(loop.target) if isinstance(n, ast.Name)}


def is_unbounded_input(semantic: "SemanticModel", iterable: ast.expr, at: ast.AST, depth: int = 0) -> bool:
    """Whether `iterable` is input of unknown size that comes from outside the function:
    rooted in a parameter (not `self`/`cls`) or in an awaited result, or a literal bigger than
    the `fanout-threshold`. Internal state (`self._clients`, module constants) is not."""
    threshold = semantic.settings.fanout_threshold
    if depth > 4:
        return False
    if isinstance(iterable, (ast.List, ast.Tuple, ast.Set)):
        return len(iterable.elts) > threshold and not any(isinstance(e, ast.Starred) for e in iterable.elts)
    if isinstance(iterable, ast.Call):
        callee = semantic.names.qualified(iterable.func)
        if callee == "builtins.range":
            bound = iterable.args[1] if len(iterable.args) > 1 else iterable.args[0] if iterable.args else None
            if isinstance(bound, ast.Constant):
                return isinstance(bound.value, int) and bound.value > threshold
            if isinstance(bound, ast.Call) and semantic.names.qualified(bound.func) == "builtins.len" and bound.args:
                return is_unbounded_input(semantic, bound.args[0], at, depth + 1)
            return False  # `range(n)`: a worker count, not per-item input
        if callee in ("builtins.enumerate", "builtins.zip", "builtins.list", "builtins.set", "builtins.sorted", "builtins.reversed", "builtins.filter", "builtins.map"):
            return any(is_unbounded_input(semantic, a, at, depth + 1) for a in iterable.args)
        # `items.values()`, `request.query.getall("id")`: judge the receiver
        if isinstance(iterable.func, ast.Attribute):
            return is_unbounded_input(semantic, iterable.func.value, at, depth + 1)
        return False
    if isinstance(iterable, ast.Await):
        return True
    if isinstance(iterable, (ast.Attribute, ast.Subscript)):
        return is_unbounded_input(semantic, iterable.value, at, depth + 1)
    if isinstance(iterable, ast.Name):
        if iterable.id in ("self", "cls"):
            return False  # internal state, bounded by the program's own design
        function = semantic.names.enclosing_function(at)
        if function is None:
            return False
        found = semantic.names.binding(iterable.id, at)
        if found is None:
            return False
        if found.kind == Binding.PARAM:
            return _is_plain_param(function, iterable.id)
        if found.kind == Binding.VALUE and found.node is not None:
            return is_unbounded_input(semantic, found.node, at, depth + 1)  # type: ignore[arg-type]
    return False


def _is_plain_param(function: FunctionNode, name: str) -> bool:
    params = function.args.posonlyargs + function.args.args
    if params and params[0].arg == name and params[0].arg in ("self", "cls"):
        return False
    return True


def references(node: ast.AST, names: Set[str]) -> bool:
    return any(isinstance(n, ast.Name) and n.id in names for n in ast.walk(node))


def makes_new_work(semantic: "SemanticModel", work: ast.AST, names: Set[str]) -> bool:
    """Whether `work` starts new work per item (`fetch(x)`), not wrap an awaitable the item
    already is (`ensure_future(fut)`, `gather(*[t for t in tasks])`): the item itself is
    running already, and its count was bounded (or not) where it was made."""
    if isinstance(work, ast.Call) and spawned(semantic, work) is not None and work.args:
        work = work.args[0]
    if isinstance(work, ast.Call):
        return references(work, names)
    return False


def limiter_in_sight(semantic: "SemanticModel", *regions: Optional[ast.AST]) -> bool:
    """Whether a semaphore, limiter, bounded queue or job scheduler shows up in any region."""
    for region in regions:
        if region is None:
            continue
        for node in ast.walk(region):
            identifier = node.id if isinstance(node, ast.Name) else node.attr if isinstance(node, ast.Attribute) else None
            if identifier is not None and (_LIMITER.search(identifier) or identifier.endswith(_LIMITER_CLASSES)):
                return True
            if isinstance(node, ast.keyword) and node.arg in ("maxsize", "max_workers", "limit"):
                return True
    return False


def work_functions(semantic: "SemanticModel", work: ast.AST) -> List[FunctionNode]:
    """The local defs a spawned piece of work runs (`fetch(x)` -> `def fetch`), one level."""
    found: List[FunctionNode] = []
    for node in ast.walk(work):
        if isinstance(node, ast.Call):
            function = semantic.names.function_def(node.func)
            if function is not None:
                found.append(function)
        elif isinstance(node, (ast.Name, ast.Attribute)):
            function = semantic.names.function_def(node)
            if function is not None:
                found.append(function)
    return found


def paced(loop: Loop) -> bool:
    """Whether each round of a `while` loop waits for something (an accept loop, a queue
    consumer): its spawns follow the pace of events, not a batch of input."""
    for node in iter_body(loop):
        if isinstance(node, (ast.Await, ast.AsyncFor, ast.AsyncWith, ast.Yield, ast.YieldFrom)):
            return True
    return False


def iter_body(loop: Loop) -> Iterator[ast.AST]:
    body = getattr(loop, "body", [])
    for statement in body:
        for node in iter_own_nodes(ast.Module(body=[statement], type_ignores=[])):
            yield node


def gathered_names(semantic: "SemanticModel", function: ast.AST) -> Set[str]:
    """Names passed starred to `asyncio.gather(*name)` in `function`."""
    found: Set[str] = set()
    for node in ast.walk(function):
        if isinstance(node, ast.Call) and semantic.names.qualified(node.func) in GATHERERS:
            for arg in node.args:
                if isinstance(arg, ast.Starred) and isinstance(arg.value, ast.Name):
                    found.add(arg.value.id)
    return found


def in_gather(semantic: "SemanticModel", node: ast.AST) -> bool:
    """Whether `node` sits in a starred argument of `asyncio.gather(...)`."""
    for ancestor in semantic.ancestors(node):
        if isinstance(ancestor, ast.Starred):
            call = semantic.parent(ancestor)
            return isinstance(call, ast.Call) and semantic.names.qualified(call.func) in GATHERERS
        if isinstance(ancestor, ast.stmt):
            return False
    return False


def collector(semantic: "SemanticModel", node: ast.AST) -> Optional[str]:
    """`tasks` for a value appended or added to `tasks` (`tasks.append(create_task(...))`)."""
    parent = semantic.parent(node)
    if isinstance(parent, ast.Call) and node in parent.args:
        func = parent.func
        if isinstance(func, ast.Attribute) and func.attr in ("append", "add") and isinstance(func.value, ast.Name):
            return func.value.id
    return None


# Work handed to a thread pool is bounded by the pool (`asyncio.to_thread` uses the loop's
# default executor; anyio's worker threads share a CapacityLimiter of 40).
_POOLED = re.compile(r"to_thread|run_in_executor|run_sync_in_worker_thread|run_sync|in_threadpool|sync_to_async")
# Receivers that talk to another service: a request per item is a request per item downstream.
_CLIENT = re.compile(r"session|client|http|api|conn|cursor|db|database|redis|s3|bucket|storage|bot|producer|channel|stub", re.I)
_IO_MODULES = ("requests.", "httpx.", "aiohttp.", "urllib.request.", "asyncpg.", "aiofiles.", "smtplib.", "aiosmtplib.", "socket.", "asyncio.open_connection")


def is_pooled(semantic: "SemanticModel", work: ast.AST) -> bool:
    """Whether the per-item work runs through a bounded thread pool."""
    for node in ast.walk(work):
        if isinstance(node, ast.Call):
            name = _callee_text(node.func)
            if name is not None and _POOLED.search(name):
                return True
    return False


def does_io(semantic: "SemanticModel", work: ast.AST, depth: int = 0) -> bool:
    """Whether the per-item work certainly calls another service: a method of a client-like
    receiver (`session.get`, `self._client.fetch`), an HTTP/DB/socket library, or a local def
    that does (two levels deep)."""
    if isinstance(work, ast.Attribute):  # `map(client.get, ids)`: the method itself
        receiver = _callee_text(work.value)
        if receiver is not None and _CLIENT.search(receiver.rsplit(".", 1)[-1]):
            return True
    for node in ast.walk(work) if depth == 0 else iter_own_nodes(work):
        if depth == 0 and isinstance(node, (ast.Name, ast.Attribute)) and depth < 2:
            target = semantic.names.function_def(node)  # `Thread(target=fetch)`: what the thread runs
            if target is not None and does_io(semantic, target, depth + 1):
                return True
        if not isinstance(node, ast.Call):
            continue
        func = node.func
        callee = semantic.names.qualified(func)
        if callee is not None and callee.startswith(_IO_MODULES):
            return True
        if isinstance(func, ast.Attribute):
            receiver = _callee_text(func.value)
            if receiver is not None and _CLIENT.search(receiver.rsplit(".", 1)[-1]):
                return True
        if depth < 2:
            function = semantic.names.function_def(func)
            if function is not None and does_io(semantic, function, depth + 1):
                return True
    return False


def _callee_text(expr: ast.expr) -> Optional[str]:
    if isinstance(expr, ast.Name):
        return expr.id
    if isinstance(expr, ast.Attribute):
        base = _callee_text(expr.value)
        return f"{base}.{expr.attr}" if base else expr.attr
    if isinstance(expr, ast.Call):
        return _callee_text(expr.func)
    return None
