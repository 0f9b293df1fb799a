"""What the FF5 rules share: concurrency that grows with its input, and the bound that applies.

A fan-out is three things, and each is modelled here rather than looked for in sight:

- the spawn, once per item: a task (`create_task`, `ensure_future`, `TaskGroup.create_task`,
  a task group's `start_soon`), a thread, or an executor made anew for each item;
- the input whose items drive it: its size comes from outside the function (a parameter, an
  awaited result, a directory listing, rows of a query, a stream read with `async for` or
  one event per round of a `while` loop) or is fixed (a literal, `range(CONST)`, a chunk);
- the bound: acquired before the spawn in the loop (`await sem.acquire()`), a window on the
  pending work (`if len(pending) >= N: await asyncio.wait(...)`), pacing (`await
  asyncio.sleep(...)`), each unit awaited before the next, or a limiter inside the work.

A limiter inside the work bounds how many *run*, not how many are *created*: over a finite
input that is the usual fix, over a stream tasks still pile up. Whether the work reaches
another service, and whether a limiter guards it, is the index's answer ("io-work", see
effects.py): the work is often defined in another module.
"""

from __future__ import annotations

import ast
from typing import TYPE_CHECKING, List, NamedTuple, Optional, Set, Union

from ffscan.semantic.names import FUNCTION_TYPES, Binding, FunctionNode, iter_own_nodes
from ffscan.semantic.spelling import spelled
from ffscan.semantic.stdlib import EXECUTOR_CLASSES, TASK_GROUP_CLASSES, is_loop_expression, task_spawner
from ffscan.semantic.threads import constructed_class, handle_fate, thread_target

if TYPE_CHECKING:
    from ffscan.semantic.model import SemanticModel

GATHERERS = frozenset({"asyncio.gather", "asyncio.tasks.gather"})
# Calls that run (or wait for) every awaitable of their argument at once.
COMBINATORS = GATHERERS | frozenset(
    {"asyncio.wait", "asyncio.tasks.wait", "asyncio.as_completed", "asyncio.tasks.as_completed"}
)
_RAW_THREAD_STARTERS = frozenset({"_thread.start_new_thread", "_thread.start_new"})
# Task groups whose `start_soon(fn, *args)` starts a task (anyio, trio).
_START_SOON_GROUPS = frozenset({"anyio.create_task_group", "trio.open_nursery"})
# Work handed to a shared thread pool runs at most that pool's size at once
# (`asyncio.to_thread` uses the loop's default executor; anyio's worker threads share a
# CapacityLimiter of 40).
POOLED = frozenset(
    {
        "asyncio.to_thread", "asyncio.threads.to_thread", "anyio.to_thread.run_sync",
        "anyio.run_sync_in_worker_thread", "starlette.concurrency.run_in_threadpool",
        "fastapi.concurrency.run_in_threadpool", "asgiref.sync.sync_to_async",
    }
)
_WRAPPERS = frozenset(
    {
        "builtins.enumerate", "builtins.zip", "builtins.list", "builtins.set", "builtins.tuple",
        "builtins.sorted", "builtins.reversed", "builtins.filter", "builtins.map", "builtins.iter",
        "itertools.chain", "itertools.product",
    }
)
_LISTINGS = frozenset({"os.listdir", "os.scandir", "os.walk", "glob.glob", "glob.iglob"})
_LISTING_METHODS = frozenset({"iterdir", "glob", "rglob"})
# DB-API and ORM methods that return the rows of a query.
_ROW_METHODS = frozenset({"fetchall", "fetchmany", "fetch", "all", "scalars"})
_FILE_READS = frozenset({"json.load", "json.loads", "csv.reader", "csv.DictReader", "yaml.safe_load", "yaml.load"})
Loop = Union[ast.For, ast.AsyncFor, ast.While, ast.comprehension]


class Spawn(NamedTuple):
    """One unit of concurrent work that a call starts."""

    api: str  # as messages show it: "asyncio.create_task", "threading.Thread", "ProcessPoolExecutor()"
    unit: str  # "task", "thread", "process pool", "thread pool"
    work: Optional[ast.expr]  # the callable the unit runs, when it can be named
    new_pool: bool = False  # an executor made for this one call


def spawn_of(semantic: "SemanticModel", call: ast.Call) -> Optional[Spawn]:
    """What `call` starts running concurrently, or None. Submitting to an executor made
    elsewhere is not a spawn: the pool's `max_workers` bounds it."""
    names = semantic.names
    func = call.func
    spawner = task_spawner(semantic, call)
    if spawner is None and isinstance(func, ast.Attribute) and func.attr == "create_task":
        if names.instance_type(func.value) in TASK_GROUP_CLASSES:
            spawner = "TaskGroup.create_task"
    if spawner is not None:
        coroutine = made_by(semantic, call.args[0]) if call.args else None
        work = coroutine.func if isinstance(coroutine, ast.Call) else None
        if isinstance(coroutine, ast.Call) and is_pooled(semantic, coroutine):
            work = None  # `create_task(asyncio.to_thread(f, x))`: the shared pool bounds it
        return Spawn(spawner, "task", work)
    if isinstance(func, ast.Attribute) and func.attr == "start_soon" and call.args:
        if names.instance_type(func.value) in _START_SOON_GROUPS:
            return Spawn(f"{spelled(func.value, too_long='group')}.start_soon", "task", call.args[0])
    callee = names.qualified(func)
    if callee in _RAW_THREAD_STARTERS:
        return Spawn("_thread.start_new_thread", "thread", call.args[0] if call.args else None)
    cls = constructed_class(semantic, call)
    if cls in ("threading.Thread", "threading.Timer") and handle_fate(semantic, call).started:
        return Spawn(cls, "thread", _callable_run(thread_target(call, cls)))
    return _new_pool(semantic, call)


def made_by(semantic: "SemanticModel", expr: ast.expr) -> ast.expr:
    """The call a local name was bound to once (`coro = fetch(url); create_task(coro)`), or
    `expr` itself."""
    if isinstance(expr, ast.Name):
        found = semantic.names.binding(expr.id, expr)
        if found is not None and found.kind == Binding.VALUE and isinstance(found.node, ast.Call):
            return found.node  # type: ignore[return-value]
    return expr


def _callable_run(target: Optional[ast.expr]) -> Optional[ast.expr]:
    """The callable a thread runs: `lambda: f(x)` runs `f`."""
    if isinstance(target, ast.Lambda):
        return target.body.func if isinstance(target.body, ast.Call) else None
    return target


def _new_pool(semantic: "SemanticModel", call: ast.Call) -> Optional[Spawn]:
    """`loop.run_in_executor(ProcessPoolExecutor(), fn, ...)`, or `submit` on an executor made
    in the same loop round: a new pool (and its threads or processes) per item."""
    func = call.func
    if not isinstance(func, ast.Attribute):
        return None
    if func.attr == "run_in_executor" and len(call.args) >= 2 and is_loop_expression(semantic, func.value):
        executor, work = call.args[0], call.args[1]
    elif func.attr in ("submit", "map") and call.args:
        executor, work = func.value, call.args[0]
    else:
        return None
    made = _executor_made(semantic, executor, call)
    if made is None:
        return None
    unit = "process pool" if "Process" in made else "thread pool"
    return Spawn(f"{made.rsplit('.', 1)[-1]}()", unit, work, new_pool=True)


def _executor_made(semantic: "SemanticModel", expr: ast.expr, at: ast.AST) -> Optional[str]:
    """The executor class `expr` is made from here: inline, or bound inside the loop that
    holds `at` (`with ThreadPoolExecutor() as pool:` in the loop's body)."""
    names = semantic.names
    if isinstance(expr, ast.Call):
        cls = names.qualified(expr.func)
        return cls if cls in EXECUTOR_CLASSES else None
    if not isinstance(expr, ast.Name):
        return None
    found = names.binding(expr.id, expr)
    if found is None or found.kind != Binding.VALUE or not isinstance(found.node, ast.Call):
        return None
    cls = names.qualified(found.node.func)
    if cls not in EXECUTOR_CLASSES:
        return None
    loop = enclosing_loop(semantic, at)
    return cls if loop is not None and _inside(semantic, found.node, loop) else None


def _inside(semantic: "SemanticModel", node: ast.AST, loop: Loop) -> bool:
    return any(ancestor is loop for ancestor in semantic.ancestors(node))


def is_pooled(semantic: "SemanticModel", call: ast.Call) -> bool:
    """Whether `call` hands its work to a shared, bounded thread pool."""
    callee = semantic.names.qualified(call.func)
    if callee in POOLED:
        return True
    func = call.func
    if isinstance(func, ast.Attribute) and func.attr == "run_in_executor" and is_loop_expression(semantic, func.value):
        return not (call.args and _executor_made(semantic, call.args[0], call) is not None)
    return False


# ---- loops ------------------------------------------------------------------------------------


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
    return _plain_names(loop.target)


def round_names(loop: ast.While) -> Set[str]:
    """Names a `while` loop's body binds each round (`conn = await server.accept()`); an
    attribute it sets (`self.connection = ...`) is state, not the round's event."""
    found: Set[str] = set()
    for node in iter_body(loop):
        targets: List[ast.expr] = []
        if isinstance(node, ast.Assign):
            targets = node.targets
        elif isinstance(node, (ast.AnnAssign, ast.NamedExpr)):
            targets = [node.target]
        elif isinstance(node, (ast.For, ast.AsyncFor)):
            targets = [node.target]
        elif isinstance(node, (ast.With, ast.AsyncWith)):
            targets = [item.optional_vars for item in node.items if item.optional_vars is not None]
        for target in targets:
            found.update(_plain_names(target))
    return found


def _plain_names(target: ast.expr) -> Set[str]:
    if isinstance(target, ast.Name):
        return {target.id}
    if isinstance(target, (ast.Tuple, ast.List)):
        return {name for element in target.elts for name in _plain_names(element)}
    if isinstance(target, ast.Starred):
        return _plain_names(target.value)
    return set()


def iter_body(loop: Loop) -> List[ast.AST]:
    body = getattr(loop, "body", [])
    return [node for statement in body for node in iter_own_nodes(ast.Module(body=[statement], type_ignores=[]))]


def references(node: ast.AST, names: Set[str]) -> bool:
    return any(isinstance(n, ast.Name) and n.id in names for n in ast.walk(node))


def makes_new_work(semantic: "SemanticModel", work: ast.AST, names: Set[str]) -> bool:
    """Whether `work` starts new work per item (`fetch(x)`), not wrap an awaitable the item
    already is (`ensure_future(fut)`, `gather(*[t for t in tasks])`): the item itself is
    running already, and its count was bounded (or not) where it was made."""
    if isinstance(work, ast.Call) and spawn_of(semantic, work) is not None and work.args:
        work = made_by(semantic, work.args[0])
    if isinstance(work, ast.Call):
        return references(work, names)
    return False


# ---- the input ----------------------------------------------------------------------------------


def input_of(semantic: "SemanticModel", iterable: ast.expr, at: ast.AST, depth: int = 0) -> Optional[str]:
    """Where the items of `iterable` come from, when their number is set outside the function
    ("a parameter", "an awaited result", "a directory listing", "rows of a query", "lines of
    a file") or is a literal above `fanout-threshold`; None when it is fixed and small, a
    chunk, the program's own state (`self._clients`) or unknown."""
    threshold = semantic.settings.fanout_threshold
    names = semantic.names
    if depth > 6:
        return None
    if isinstance(iterable, (ast.List, ast.Tuple, ast.Set)):
        if any(isinstance(e, ast.Starred) for e in iterable.elts) or len(iterable.elts) <= threshold:
            return None
        return f"a literal of {len(iterable.elts)} items"
    if isinstance(iterable, ast.Await):
        awaited = iterable.value
        if isinstance(awaited, ast.Call) and names.function_def(awaited.func) is not None:
            return None  # what a def of this module returns: its size is that def's business
        return "an awaited result"
    if isinstance(iterable, ast.Call):
        callee = names.qualified(iterable.func)
        func = iterable.func
        if callee == "builtins.range":
            bound = iterable.args[1] if len(iterable.args) > 1 else iterable.args[0] if iterable.args else None
            if isinstance(bound, ast.Constant) and isinstance(bound.value, int):
                return f"`range({bound.value})`" if bound.value > threshold else None
            if isinstance(bound, ast.Call) and names.qualified(bound.func) == "builtins.len" and bound.args:
                return input_of(semantic, bound.args[0], at, depth + 1)
            return None  # `range(n)`: a worker count, not per-item input
        if callee in _WRAPPERS:
            for argument in iterable.args:
                found = input_of(semantic, argument, at, depth + 1)
                if found is not None:
                    return found
            return None
        if callee in _LISTINGS or (isinstance(func, ast.Attribute) and func.attr in _LISTING_METHODS):
            return "a directory listing"
        if callee in _FILE_READS or callee == "builtins.open":
            return "the contents of a file"
        if isinstance(func, ast.Attribute):
            if func.attr in _ROW_METHODS:
                return "rows of a query"
            if func.attr in ("readlines", "read_text", "splitlines") and callee is None:
                return "lines of a file" if func.attr != "splitlines" else input_of(semantic, func.value, at, depth + 1)
            # `items.values()`, `request.query.getall("id")`: judge the receiver
            return input_of(semantic, func.value, at, depth + 1)
        return None
    if isinstance(iterable, ast.Subscript):
        if isinstance(iterable.slice, ast.Slice):
            return None if _is_chunk(iterable.slice, threshold) else input_of(semantic, iterable.value, at, depth + 1)
        return input_of(semantic, iterable.value, at, depth + 1)
    if isinstance(iterable, ast.Attribute):
        return input_of(semantic, iterable.value, at, depth + 1)
    if isinstance(iterable, ast.Name):
        if iterable.id in ("self", "cls"):
            return None  # internal state, bounded by the program's own design
        found = names.binding(iterable.id, at)
        if found is None:
            return None
        if found.kind == Binding.PARAM:
            function = names.enclosing_function(at)
            if function is None or _is_receiver(function, iterable.id):
                return None
            if _is_private(function.name):
                return _callers_input(semantic, function, iterable.id, depth)
            return "a parameter"
        if found.kind == Binding.VALUE and found.node is not None:
            return input_of(semantic, found.node, at, depth + 1)  # type: ignore[arg-type]
        if found.kind == Binding.OTHER:
            outer = _binding_loop(semantic, iterable.id, at)
            if outer is not None:
                return input_of(semantic, outer.iter, outer, depth + 1)
    return None


def _is_receiver(function: FunctionNode, name: str) -> bool:
    params = function.args.posonlyargs + function.args.args
    return bool(params) and params[0].arg == name and name in ("self", "cls")


def _is_private(name: str) -> bool:
    return name.startswith("_") and not name.endswith("__")


def _callers_input(semantic: "SemanticModel", function: FunctionNode, param: str, depth: int) -> Optional[str]:
    """For a parameter of a private def, what its callers in this module pass: None when every
    call site passes a literal (`_get_stats({"total": url})`: its size is written in the code),
    else what the first other one passes ("a parameter" when its size is not known there
    either)."""
    calls = _calls_of(semantic).get(function, ())
    params = [a.arg for a in (*function.args.posonlyargs, *function.args.args)]
    if not calls:
        return "a parameter"
    for call in calls:
        bound = isinstance(call.func, ast.Attribute) and params and params[0] in ("self", "cls")
        position = params.index(param) - (1 if bound else 0) if param in params else -1
        argument: Optional[ast.expr] = None
        if 0 <= position < len(call.args) and not any(isinstance(a, ast.Starred) for a in call.args[: position + 1]):
            argument = call.args[position]
        else:
            argument = next((k.value for k in call.keywords if k.arg == param), None)
        if argument is None or not _is_literal(argument):
            found = input_of(semantic, argument, call, depth + 1) if argument is not None else None
            return found or "a parameter"
    return None


def _is_literal(expr: ast.expr) -> bool:
    if isinstance(expr, (ast.List, ast.Tuple, ast.Set)):
        return not any(isinstance(e, ast.Starred) for e in expr.elts)
    if isinstance(expr, ast.Dict):
        return None not in expr.keys
    return isinstance(expr, ast.Constant)


def _calls_of(semantic: "SemanticModel") -> dict:
    """Each def of the module -> the calls in the module that certainly run it."""
    cache = semantic.cache.setdefault("fanout", {})
    found = cache.get("calls_of")
    if found is None:
        found = cache["calls_of"] = {}
        for node in ast.walk(semantic.tree):
            if isinstance(node, ast.Call):
                function = semantic.names.function_def(node.func)
                if function is not None:
                    found.setdefault(function, []).append(node)
    return found


def _binding_loop(semantic: "SemanticModel", name: str, at: ast.AST) -> Optional[Union[ast.For, ast.AsyncFor]]:
    """The enclosing `for` whose target binds `name` (`for guild in guilds: ... guild.channels`)."""
    for ancestor in semantic.ancestors(at):
        if isinstance(ancestor, FUNCTION_TYPES + (ast.Lambda, ast.ClassDef)):
            return None
        if isinstance(ancestor, (ast.For, ast.AsyncFor)) and name in loop_targets(ancestor):
            return ancestor
    return None


def _is_chunk(piece: ast.Slice, threshold: int) -> bool:
    """`items[:10]`, `items[i:i + size]`: a slice whose length is set by the code."""
    upper = piece.upper
    if isinstance(upper, ast.Constant) and isinstance(upper.value, int):
        return piece.lower is None and upper.value <= threshold
    return isinstance(upper, ast.BinOp) and isinstance(upper.op, ast.Add) and piece.lower is not None


def stream_of(loop: Loop) -> Optional[str]:
    """How a loop reads a stream, as messages say it: "message", "round"; None for a finite one."""
    if isinstance(loop, ast.AsyncFor) or (isinstance(loop, ast.comprehension) and loop.is_async):
        return "message"
    if isinstance(loop, ast.While):
        return "round"
    return None


# ---- the bound ----------------------------------------------------------------------------------


def bounded_in_loop(semantic: "SemanticModel", loop: Loop, spawn: ast.Call) -> bool:
    """Whether the loop itself bounds its spawns: it acquires something before spawning
    (`await sem.acquire()`), waits when too many are pending (`if len(pending) >= N: await
    asyncio.wait(...)`, `while len(running) > N`), sleeps between rounds, or waits for each
    unit before the next."""
    if isinstance(loop, ast.comprehension):
        return False
    if isinstance(loop, ast.While) and _tests_length(loop.test):
        return True
    handles = _spawn_names(semantic, spawn)
    for node in iter_body(loop):
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr == "acquire":
            if node.lineno <= spawn.lineno:
                return True
        if isinstance(node, (ast.If, ast.While)) and _tests_length(node.test) and _waits(node.body):
            return True
        if isinstance(node, ast.Await):
            value = node.value
            if isinstance(value, ast.Call) and semantic.names.qualified(value.func) in ("asyncio.sleep", "anyio.sleep", "trio.sleep"):
                return True
            if handles and references(value, handles):
                return True  # each unit is awaited (or waited on) before the next starts
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr == "join":
            if isinstance(node.func.value, ast.Name) and node.func.value.id in handles:
                return True
    return False


def _spawn_names(semantic: "SemanticModel", spawn: ast.Call) -> Set[str]:
    """The names the spawned unit is bound to (`t = create_task(...)`, `t = Thread(...)`)."""
    parent = semantic.parent(spawn)
    if isinstance(parent, ast.Assign) and spawn is parent.value:
        return {t.id for t in parent.targets if isinstance(t, ast.Name)}
    if isinstance(parent, ast.NamedExpr):
        return {parent.target.id}
    return set()


def _tests_length(test: ast.expr) -> bool:
    """`len(pending) >= limit`, `len(running) < max_workers`: a test on how many are pending."""
    for node in ast.walk(test):
        if isinstance(node, ast.Compare) and any(
            isinstance(side, ast.Call) and isinstance(side.func, ast.Name) and side.func.id == "len"
            for side in (node.left, *node.comparators)
        ):
            return True
    return False


def _waits(body: List[ast.stmt]) -> bool:
    for statement in body:
        for node in ast.walk(statement):
            if isinstance(node, ast.Await):
                return True
            if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr in ("join", "result", "wait"):
                return True
    return False


# ---- collections of work ------------------------------------------------------------------------


def collector(semantic: "SemanticModel", node: ast.AST) -> Optional[str]:
    """`tasks` for a value appended, added or assigned into `tasks`
    (`tasks.append(create_task(...))`, `tasks[key] = create_task(...)`)."""
    parent = semantic.parent(node)
    if isinstance(parent, ast.Call) and node in parent.args:
        func = parent.func
        if isinstance(func, ast.Attribute) and func.attr in ("append", "add") and isinstance(func.value, ast.Name):
            return func.value.id
    if isinstance(parent, ast.Assign) and parent.value is node and len(parent.targets) == 1:
        target = parent.targets[0]
        if isinstance(target, ast.Subscript) and isinstance(target.value, ast.Name):
            return target.value.id
    return None


def in_combinator(semantic: "SemanticModel", node: ast.AST) -> bool:
    """Whether `node` sits in a starred (or list) argument of `gather`, `wait` or
    `as_completed`: the combinator's rule reports it."""
    for ancestor in semantic.ancestors(node):
        if isinstance(ancestor, ast.Call) and semantic.names.qualified(ancestor.func) in COMBINATORS:
            return True
        if isinstance(ancestor, ast.stmt):
            return False
    return False


# ---- one spawn per item -------------------------------------------------------------------------


class PerItem(NamedTuple):
    """A spawn that runs once per item of a loop's input, with nothing in the loop bounding it."""

    spawn: Spawn
    stream: bool  # the input is a stream (`async for`, a `while` loop reading events)
    fields: dict  # message fields: spawner, unit, per, iterable, source


def per_item_spawn(semantic: "SemanticModel", node: ast.Call, loop: Loop) -> Optional[PerItem]:
    """`node` as one spawn per item of `loop`'s input, when it is one and the loop does not
    bound it; None otherwise. A comprehension inside `gather`/`wait`/`as_completed` is the
    combinator's to report. FF501 and FF503 both ask it of every call in a loop: answered once."""
    known = semantic.cache.setdefault("per_item_spawn", {})
    key = (node, loop)
    if key not in known:
        known[key] = _per_item_spawn(semantic, node, loop)
    return known[key]


def _per_item_spawn(semantic: "SemanticModel", node: ast.Call, loop: Loop) -> Optional[PerItem]:
    spawn = spawn_of(semantic, node)
    if spawn is None or spawn.work is None:
        return None
    if isinstance(loop, ast.comprehension) and in_combinator(semantic, node):
        return None
    stream = stream_of(loop)
    if stream is None:
        source = input_of(semantic, loop.iter, node)
        if source is None:
            return None
        per, items, iterable = "item", loop_targets(loop), spelled(loop.iter, fallback="input")
    elif isinstance(loop, ast.While):
        per, items, source, iterable = stream, round_names(loop), "a stream of events", f"while {spelled(loop.test)}"
    else:
        per, items, source, iterable = stream, loop_targets(loop), "a stream", spelled(loop.iter, fallback="input")
    new_work = references(node, items) if spawn.unit != "task" else makes_new_work(semantic, node, items)
    if not new_work or bounded_in_loop(semantic, loop, node):
        return None  # not new work per item (a pool of workers, items already running), or bounded
    fields = dict(spawner=spawn.api, unit=spawn.unit, per=per, iterable=iterable, source=source)
    return PerItem(spawn, stream is not None, fields)
