"""How long a function's work lasts: a short unit of work, or work that waits on others.

A job queue with a bound (16 slots by default) is right for short, independent units of
work: an e-mail, a cache refresh, a webhook. Work that waits for a peer or for other code
holds its slot for as long as it waits: a websocket reader, a `while True` loop, a
keep-alive, a task that awaits a future, queue or event it does not own. A few such jobs and
the queue has no slot left for anything else. The fix builders choose the remedy from this
answer, and the module summary records it for other modules' fixes (`FunctionFacts.lifetime`).

The answer reads the function's own body (not nested defs), and the bodies of the functions
of the same module it awaits or calls, a few calls deep. It never needs the pass's links:
names are looked up from the function's own scope, so a function the pass has not reached
yet (defined further down) reads the same.
"""

from __future__ import annotations

import ast
from typing import TYPE_CHECKING, Dict, List, NamedTuple, Optional, Tuple

from ffscan.semantic.names import FUNCTION_TYPES, Binding, FunctionNode, Scope, iter_own_nodes
from ffscan.semantic.spelling import last_name, spelled

if TYPE_CHECKING:
    from ffscan.semantic.names import NameResolver
    from ffscan.semantic.model import SemanticModel

# Methods that wait for someone else (a producer, a peer, a lock holder) when called on an
# object the function did not make: `queue.get()`, `event.wait()`, `ws.receive()`, and a send
# to a peer, which waits while the peer does not read (`ws.send(message)` to a slow client).
WAITING_METHODS = frozenset(
    {
        "get", "wait", "wait_for", "join", "acquire", "recv", "receive", "receive_text",
        "receive_bytes", "receive_json", "receive_str", "wait_closed", "read", "readline",
        "readexactly", "readuntil", "accept", "drain", "serve_forever", "run_forever",
        "send", "send_all", "sendall", "send_bytes", "send_text", "send_json", "send_str",
    }
)
# Of those, the ones that are also everyday request calls when given arguments
# (`session.get(url)`, `store.read(key)`): they count only when called with none, or with
# sizes only (`reader.read(1024)`).
_ONLY_WITHOUT_ARGUMENTS = frozenset({"get", "read", "wait_for"})
SLEEPS = frozenset({"asyncio.sleep", "time.sleep", "anyio.sleep", "trio.sleep"})
SHORT_SLEEP = 1.0  # seconds; a pause shorter than this is part of the work (a backoff, a poll)
MAX_DEPTH = 3  # calls followed into the module's own functions


class Lifetime(NamedTuple):
    """`why` says what makes the work long-lived ("loops forever: `while True:` at line 12");
    "" for a short unit of work."""

    why: str

    @property
    def long(self) -> bool:
        return bool(self.why)


SHORT = Lifetime("")


def work_lifetime(semantic: "SemanticModel", function: FunctionNode) -> Lifetime:
    """Whether the work `function` does when run (as a task, or on a thread for a plain
    `def`) waits on others, and why."""
    memo: Dict[FunctionNode, Lifetime] = semantic.cache.setdefault("work_lifetime", {})
    found = memo.get(function)
    if found is None:
        found = memo[function] = _lifetime(semantic, function, 0, set())
    return found


def _lifetime(semantic: "SemanticModel", function: FunctionNode, depth: int, seen: set) -> Lifetime:
    names = semantic.names
    seen.add(function)
    scope = names.scopes.get(function)
    if scope is None:
        return SHORT
    is_async = isinstance(function, ast.AsyncFunctionDef)
    nodes = _candidates(semantic, function, is_async)
    for node in nodes:
        why = _waits(names, node, scope, is_async)
        if why:
            return Lifetime(why)
    if depth < MAX_DEPTH:
        for node in nodes:
            why = _waits_through_call(semantic, node, scope, is_async, depth, seen)
            if why:
                return Lifetime(why)
    return SHORT


_CANDIDATES = (ast.While, ast.AsyncFor, ast.AsyncWith, ast.Await)


def _candidates(semantic: "SemanticModel", function: FunctionNode, is_async: bool) -> List[ast.AST]:
    """The function's own nodes that may wait, in source order: the loops, `async` blocks and
    awaits (and, in a plain def, the calls), as the engine's pass recorded them, or found by a
    walk when the pass has not reached the function yet."""
    if function in semantic.visited_functions:
        nodes = list(semantic.waits_by_function.get(function, ()))
        if not is_async:
            nodes.extend(semantic.calls_by_function.get(function, ()))
    else:
        wanted = _CANDIDATES if is_async else (*_CANDIDATES, ast.Call)
        nodes = [node for node in iter_own_nodes(function) if isinstance(node, wanted)]
    nodes.sort(key=_position)
    return nodes


def _position(node: ast.AST) -> Tuple[int, int]:
    return node.lineno, node.col_offset  # type: ignore[attr-defined]


def _waits(names: "NameResolver", node: ast.AST, scope: Scope, is_async: bool) -> str:
    """Why `node` alone makes the work long-lived, or ""."""
    if isinstance(node, ast.While):
        header = f"`while {_text(node.test)}:` at line {node.lineno}"
        if isinstance(node.test, ast.Constant) and node.test.value:
            return f"loops forever ({header})"
        if is_async and _awaits_inside(node):
            return f"waits in a loop ({header})"
        return ""
    if isinstance(node, ast.AsyncFor):
        return f"reads `{_text(node.iter)}` as it arrives (`async for` at line {node.lineno})"
    if isinstance(node, ast.AsyncWith):
        for item in node.items:
            held = item.context_expr
            if isinstance(held, (ast.Name, ast.Attribute)) and _given(names, held, scope):
                return f"waits for `{_text(held)}`, which other work holds too (line {node.lineno})"
        return ""
    if isinstance(node, ast.Await):
        for value in awaited(names, node, scope):
            if isinstance(value, (ast.Name, ast.Attribute)) and _given(names, value, scope):
                return f"awaits `{_text(value)}`, which it did not make (line {node.lineno})"
            if isinstance(value, ast.Name) and _is_new_future(scope, value):
                return f"awaits the future `{value.id}`, which another party sets (line {node.lineno})"
            if isinstance(value, ast.Call):
                why = _waiting_call(names, value, scope)
                if why:
                    return why
        return ""
    if not is_async and isinstance(node, ast.Call):
        return _waiting_call(names, node, scope)  # a thread blocks in the call itself
    return ""


# Awaiting these awaits what they are given, with a timeout or not: their arguments count as
# awaited (`await asyncio.wait_for(request.wait(), 5)` waits on `request` for up to 5 s).
AWAIT_WRAPPERS = frozenset({"asyncio.wait_for", "asyncio.shield", "asyncio.gather"})


def awaited(names: "NameResolver", node: ast.Await, scope: Scope) -> List[ast.expr]:
    """What an `await` waits for: its value, or the awaitables a `wait_for`, `shield` or
    `gather` it awaits was given."""
    value = node.value
    if isinstance(value, ast.Call):
        wrapper = qualified_in(names, value.func, scope)
        if wrapper in AWAIT_WRAPPERS:
            given = [a.value if isinstance(a, ast.Starred) else a for a in value.args]
            return given if wrapper == "asyncio.gather" else given[:1]
    return [value]


def _waiting_call(names: "NameResolver", call: ast.Call, scope: Scope) -> str:
    """Why this (awaited, or blocking) call waits on others: a long sleep, or a waiting method
    of an object the function did not make."""
    callee = qualified_in(names, call.func, scope)
    if callee in SLEEPS:
        delay = call.args[0] if call.args else None
        if isinstance(delay, ast.Constant) and isinstance(delay.value, (int, float)) and delay.value < SHORT_SLEEP:
            return ""
        return f"sleeps `{_text(delay) if delay is not None else ''}` seconds (line {call.lineno})"
    func = call.func
    if not isinstance(func, ast.Attribute) or func.attr not in WAITING_METHODS:
        return ""
    if func.attr in _ONLY_WITHOUT_ARGUMENTS and (call.keywords or not all(_is_number(a) for a in call.args)):
        return ""
    if func.attr in ("serve_forever", "run_forever"):
        return f"runs until stopped (`{_text(call)}` at line {call.lineno})"
    if not _given(names, func.value, scope):
        return ""
    return f"waits on `{_text(func.value)}`, which it did not make (`{_text(call)}` at line {call.lineno})"


def _is_number(node: ast.expr) -> bool:
    return isinstance(node, ast.Constant) and isinstance(node.value, int) and not isinstance(node.value, bool)


def _waits_through_call(semantic: "SemanticModel", node: ast.AST, scope: Scope, is_async: bool, depth: int, seen: set) -> str:
    """Why a function of this module that `node` awaits (or, in a plain def, calls) is
    long-lived, or ""."""
    if is_async:
        if not isinstance(node, ast.Await):
            return ""
        calls = [value for value in awaited(semantic.names, node, scope) if isinstance(value, ast.Call)]
    elif isinstance(node, ast.Call):
        calls = [node]
    else:
        return ""
    memo: Dict[FunctionNode, Lifetime] = semantic.cache.setdefault("work_lifetime", {})
    for call in calls:
        callee = local_function(semantic.names, call.func, scope)
        if callee is None or callee in seen or isinstance(callee, ast.AsyncFunctionDef) != is_async:
            continue
        inner = memo.get(callee) or _lifetime(semantic, callee, depth + 1, seen)
        if inner.long:
            return f"{'awaits' if is_async else 'calls'} `{_text(call.func)}()`, which {inner.why}"
    return ""


def _awaits_inside(loop: ast.While) -> bool:
    """Whether the loop's test or body awaits (not counting nested defs)."""
    stack: List[ast.AST] = [loop.test, *loop.body]
    while stack:
        node = stack.pop()
        if isinstance(node, (ast.Await, ast.AsyncFor, ast.AsyncWith)):
            return True
        if not isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef, ast.Lambda)):
            stack.extend(ast.iter_child_nodes(node))
    return False


def _given(names: "NameResolver", expr: ast.expr, scope: Scope) -> bool:
    """Whether the object `expr` names was made elsewhere and handed to the function: a
    parameter (`self` and its attributes included), a local bound to one of those, to a loop
    variable or to what a call looked up (`self.requests.get(key)`), a variable of an
    enclosing function, or a module-level queue, event, lock or future. Not what the function
    made itself: a local bound only to a new object (`asyncio.Queue()`, `loop.create_future()`),
    to an awaited call (`conn = await connect()`), or by `with`/`async with ... as`; nor a
    module or any other global."""
    while isinstance(expr, (ast.Attribute, ast.Subscript)):
        expr = expr.value  # `self.waiters[key]`: what `self` holds
    if not isinstance(expr, ast.Name):
        return False  # a call's result (`make_queue().get()`): made here
    own = scope.bindings.get(expr.id)
    if own:
        return not all(_made_here(names, b, scope) for b in own)
    bindings = names.lookup(expr.id, scope)
    if not bindings:
        return False
    if any(b.kind in (Binding.IMPORT, Binding.FUNCTION, Binding.CLASS) for b in bindings):
        return False
    if all(b.kind == Binding.VALUE for b in bindings) and expr.id in names.module_scope.bindings:
        module = names.module_scope
        return all(isinstance(b.node, ast.Call) and qualified_in(names, b.node.func, module) in WAITABLES for b in bindings)
    return True  # a closure's variable: the enclosing function handed it over


def _is_new_future(scope: Scope, name: ast.Name) -> bool:
    """`waiter = loop.create_future()`: a future is done only when someone else sets it."""
    bindings = scope.bindings.get(name.id)
    return bool(bindings) and all(
        isinstance(b.node, ast.Call) and last_name(b.node.func) in ("create_future", "Future") for b in bindings
    )


# Calls that make a new object rather than look one up.
_MAKERS = frozenset({"create_future", "create_task", "ensure_future"})


def _made_here(names: "NameResolver", binding: Binding, scope: Scope) -> bool:
    if binding.kind not in (Binding.VALUE, Binding.ITEM):
        return False
    value = binding.node
    if isinstance(value, ast.Await):
        return True
    if not isinstance(value, ast.Call):
        return False
    if id(value) in _context_managers(names, scope):
        return True  # `async with session.post(url) as response`: this block's own
    spelled_as = last_name(value.func)
    return spelled_as[:1].isupper() or spelled_as in _MAKERS  # a class called, or a factory of new objects


def _context_managers(names: "NameResolver", scope: Scope) -> set:
    """The `with`/`async with` expressions of the function `scope` is the scope of (read only
    when a wait is in question, which few functions reach)."""
    return {
        id(item.context_expr)
        for node in iter_own_nodes(scope.node)
        if isinstance(node, (ast.With, ast.AsyncWith))
        for item in node.items
    }


# Classes whose instances code waits on: module-level ones are shared by every job.
WAITABLES = frozenset(
    {
        *(f"asyncio.{name}" for name in ("Queue", "PriorityQueue", "LifoQueue", "Event", "Condition", "Lock", "Semaphore", "BoundedSemaphore", "Future", "Barrier")),
        *(f"threading.{name}" for name in ("Event", "Condition", "Lock", "RLock", "Semaphore", "BoundedSemaphore", "Barrier")),
        "queue.Queue", "queue.SimpleQueue", "queue.PriorityQueue", "queue.LifoQueue", "multiprocessing.Queue",
    }
)


def qualified_in(names: "NameResolver", expr: ast.expr, scope: Scope) -> Optional[str]:
    """`asyncio.sleep` for `aio.sleep` after `import asyncio as aio`, looked up from `scope`."""
    if isinstance(expr, ast.Attribute):
        base = qualified_in(names, expr.value, scope)
        return f"{base}.{expr.attr}" if base else None
    if isinstance(expr, ast.Name):
        bindings = names.lookup(expr.id, scope)
        if bindings and len({(b.kind, b.target) for b in bindings}) == 1 and bindings[0].kind == Binding.IMPORT:
            return bindings[0].target
    return None


def local_function(names: "NameResolver", func: ast.expr, scope: Scope) -> Optional[FunctionNode]:
    """The def of this module that calling `func` runs, seen from `scope`: a name bound once to
    a def, or `self.method` of the class the function belongs to (for a method declared with
    `@overload` stubs, the one def that is not a stub)."""
    if isinstance(func, ast.Name):
        return _one_def(names.lookup(func.id, scope))
    if isinstance(func, ast.Attribute) and isinstance(func.value, ast.Name) and func.value.id == scope.receiver:
        function = scope.node
        owner = names.enclosing_class(function) if isinstance(function, FUNCTION_TYPES) else None
        if owner is None:
            return None
        found = names.method(owner, func.attr)
        return found if found is not None else _one_def(names.scopes[owner].bindings.get(func.attr))
    return None


def _one_def(bindings: Optional[List[Binding]]) -> Optional[FunctionNode]:
    if not bindings or any(b.kind != Binding.FUNCTION for b in bindings):
        return None
    real = [b.node for b in bindings if not any(_is_overload(d) for d in b.node.decorator_list)]  # type: ignore[union-attr]
    return real[0] if len(real) == 1 else None  # type: ignore[return-value]


def _is_overload(decorator: ast.expr) -> bool:
    return (isinstance(decorator, ast.Name) and decorator.id == "overload") or (
        isinstance(decorator, ast.Attribute) and decorator.attr == "overload"
    )


def _text(node: Optional[ast.AST]) -> str:
    return spelled(node) if node is not None else ""
