"""What the FF2xx rules share: which uses of a task or future keep it, and which do not.

A task is held only weakly by the event loop. A use keeps it alive when something outlives
the statement: it is awaited, returned, stored, handed to a call that may keep it, or read
by a nested function. A few uses touch the task and let it go: a done-callback (held by the
task itself), naming it, printing or logging it, testing it. A weak container holds it no
better than the loop does.
"""

from __future__ import annotations

import ast
import enum
from typing import TYPE_CHECKING, Dict, List, Optional, Tuple

from ffscan.semantic import flow
from ffscan.semantic.flow import Use
from ffscan.semantic.names import FUNCTION_TYPES
from ffscan.semantic.stdlib import (
    LOG_METHODS,
    coroutine_callee,
    is_logger,
    task_spawner,
)

if TYPE_CHECKING:
    from ffscan.semantic.model import SemanticModel

# Task methods whose call keeps nothing: the callbacks are held by the task itself, so a task
# that only has a done-callback is still unreferenced.
NON_KEEPING_METHODS = frozenset(
    {"add_done_callback", "remove_done_callback", "set_name", "get_name", "get_coro", "get_context", "get_loop"}
)

# Builtins that look at a value and keep no reference to it.
_LOOKING_BUILTINS = frozenset(
    {"builtins.print", "builtins.repr", "builtins.str", "builtins.id", "builtins.type", "builtins.hash",
     "builtins.isinstance", "builtins.bool"}
)

WEAK_CONTAINERS = frozenset({"weakref.WeakSet", "_weakrefset.WeakSet"})
WEAK_VALUE_MAPS = frozenset({"weakref.WeakValueDictionary"})
WEAK_KEY_MAPS = frozenset({"weakref.WeakKeyDictionary"})
WEAK_REFERENCES = frozenset({"weakref.ref", "weakref.proxy", "weakref.finalize", "weakref.WeakMethod"})


class Hold(enum.Enum):
    KEEPS = "keeps"  # the value may outlive the function through this use
    WEAK = "weak"  # held only by a weak reference or container
    NONE = "none"  # looked at, then let go


def spawned_task(semantic: "SemanticModel", call: ast.Call) -> Optional[str]:
    """The spawning API when `call` certainly makes a new task, else None.

    `ensure_future(x)` returns `x` itself when `x` is already a future or task, so it makes
    a new task only when its argument is a call made right there (not itself a spawner) or a
    name bound once to a call that certainly makes a coroutine.
    """
    callee = task_spawner(semantic, call)
    if callee is None:
        return None
    if callee.endswith("ensure_future") and not _makes_coroutine(semantic, call.args[0] if call.args else None):
        return None
    return callee


def task_query(semantic: "SemanticModel", call: ast.Call) -> Optional[tuple]:
    """The question whose yes makes `call` certainly start a new task that it hands back
    unkept, for spawn APIs the module alone cannot see: a `create_task` re-exported or
    aliased elsewhere (`from ._compat import create_task`), a project helper that returns the
    task it starts. Configured tracked spawners never are."""
    func = call.func
    if not isinstance(func, (ast.Name, ast.Attribute)) or not call.args:
        return None
    if semantic.names.qualified(func) in semantic.settings.tracked_spawners:
        return None
    ref = semantic.refs.ref_of(call, semantic.names.scope_of(call))
    if ref[0] == "unknown":
        return None
    return ("task", ref)


def suspend_query(semantic: "SemanticModel", spawn: ast.Call) -> Optional[tuple]:
    """The question whose no says the task `spawn` starts cannot be lost mid-flight: its
    coroutine is a call of an `async def` whose body never suspends, so the task runs to its
    end in its first step. None when the coroutine cannot be followed (the task may suspend)."""
    argument = spawn.args[0] if spawn.args else None
    if not isinstance(argument, ast.Call):
        return None
    ref = semantic.refs.ref_of(argument, semantic.names.scope_of(argument))
    return None if ref[0] == "unknown" else ("may-suspend", ref)


def _makes_coroutine(semantic: "SemanticModel", argument: Optional[ast.expr]) -> bool:
    if isinstance(argument, ast.Call):
        return task_spawner(semantic, argument) is None
    if isinstance(argument, ast.Name):
        found = semantic.names.binding(argument.id, argument)
        value = found.node if found is not None and found.kind == "value" else None
        return isinstance(value, ast.Call) and coroutine_callee(semantic, value) is not None
    return False


def hold_of(semantic: "SemanticModel", expr: ast.AST, callbacks_keep: bool = False) -> Tuple[Hold, Optional[ast.AST]]:
    """How the use at `expr` (a task value, or a name read holding one) holds the task.

    Returns the hold and, for WEAK, the weak holder expression (for the message). With
    `callbacks_keep`, any method call counts as a use (for futures whose done-callback is
    where their result is read).
    """
    names = semantic.names
    parent = semantic.parent(expr)
    # `weak_by_key[task] = value`: the task is a weak key.
    if isinstance(parent, ast.Subscript) and parent.slice is expr and isinstance(parent.ctx, ast.Store):
        if names.instance_type(parent.value) in WEAK_KEY_MAPS:
            return Hold.WEAK, parent.value
        return Hold.KEEPS, None
    fate = flow.fate(semantic, expr)
    use = fate.use
    if use in (Use.DROPPED, Use.TESTED):
        return Hold.NONE, None
    if use is Use.RECEIVER:
        call = fate.node
        if isinstance(call, ast.Call) and isinstance(call.func, ast.Attribute) and call.func.value is expr:
            if call.func.attr in NON_KEEPING_METHODS and not callbacks_keep:
                return Hold.NONE, None
        return Hold.KEEPS, None
    if use is Use.STORED:
        statement = fate.node
        if isinstance(statement, ast.Assign) and statement.value is expr and len(statement.targets) == 1:
            target = statement.targets[0]
            if isinstance(target, ast.Subscript) and names.instance_type(target.value) in WEAK_VALUE_MAPS:
                return Hold.WEAK, target.value
        return Hold.KEEPS, None
    if use is Use.PASSED:
        call = fate.node
        if not isinstance(call, ast.Call):
            return Hold.KEEPS, None
        direct = bool(call.args) and call.args[0] is expr
        if direct and names.qualified(call.func) in WEAK_REFERENCES:
            return Hold.WEAK, call
        func = call.func
        if direct and isinstance(func, ast.Attribute) and func.attr == "add":
            if names.instance_type(func.value) in WEAK_CONTAINERS:
                return Hold.WEAK, func.value
        if is_looking_call(semantic, call):
            return Hold.NONE, None
        return Hold.KEEPS, None
    return Hold.KEEPS, None


def is_looking_call(semantic: "SemanticModel", call: ast.Call) -> bool:
    """`print(...)`, `repr(...)`, `logger.debug(...)`: calls that keep no argument."""
    if semantic.names.qualified(call.func) in _LOOKING_BUILTINS:
        return True
    func = call.func
    return isinstance(func, ast.Attribute) and func.attr in LOG_METHODS and is_logger(semantic, func.value)


def name_holds(
    semantic: "SemanticModel", scope: ast.AST, name: str, callbacks_keep: bool = False
) -> Tuple[Hold, Optional[ast.AST]]:
    """The strongest hold any read of local `name` in `scope` gives its value.

    A read inside a nested function or lambda keeps it (the closure may outlive the call).
    A function that calls `locals()`/`vars()`/`exec`/`eval` keeps every local.
    """
    if flow.is_declared_global(scope, name) or reads_locals_dynamically(semantic, scope):
        return Hold.KEEPS, None
    loads = flow.name_loads(semantic, scope).get(name, [])
    result: Tuple[Hold, Optional[ast.AST]] = (Hold.NONE, None)
    for load in loads:
        if flow.defining_scope(semantic, load) is not scope:
            return Hold.KEEPS, None
        hold = hold_of(semantic, load, callbacks_keep)
        if hold[0] is Hold.KEEPS:
            return hold
        if hold[0] is Hold.WEAK:
            result = hold
    return result


def reads_locals_dynamically(semantic: "SemanticModel", scope: ast.AST) -> bool:
    cache: Dict[ast.AST, bool] = semantic.cache.setdefault("ff2_dynamic_locals", {})
    found = cache.get(scope)
    if found is None:
        loads = flow.name_loads(semantic, scope)
        found = any(name in loads for name in ("locals", "vars", "exec", "eval"))
        cache[scope] = found
    return found


def is_function_scope(scope: ast.AST) -> bool:
    return isinstance(scope, FUNCTION_TYPES)


class PendingBindings:
    """Bindings of a task to local names, checked when their function has been seen whole."""

    def __init__(self) -> None:
        self.by_scope: Dict[ast.AST, List[Tuple[ast.Call, str, Tuple[str, ...]]]] = {}

    def add(self, scope: ast.AST, call: ast.Call, callee: str, bound: Tuple[str, ...]) -> None:
        self.by_scope.setdefault(scope, []).append((call, callee, bound))

    def pop(self, scope: ast.AST) -> List[Tuple[ast.Call, str, Tuple[str, ...]]]:
        return self.by_scope.pop(scope, [])


def bound_locals(semantic: "SemanticModel", value: ast.AST) -> Optional[Tuple[ast.AST, Tuple[str, ...]]]:
    """The function scope and local names `value` is bound to, when it is bound to plain
    names of a function (not module level, not `global`/`nonlocal`), else None."""
    fate = flow.fate(semantic, value)
    if fate.use is not Use.BOUND or fate.node is None:
        return None
    if getattr(fate.node, "value", None) is not value:
        return None  # bound through a container or a conditional: not the task itself
    scope = flow.defining_scope(semantic, fate.node)
    if isinstance(fate.node, ast.NamedExpr):
        scope = _named_expr_scope(semantic, fate.node)
    if not is_function_scope(scope):
        return None
    return scope, fate.names


def _named_expr_scope(semantic: "SemanticModel", node: ast.NamedExpr) -> ast.AST:
    # A walrus in a comprehension binds in the enclosing function, which flow.defining_scope
    # already returns (comprehensions are not scopes there).
    return flow.defining_scope(semantic, node)


def weak_holder_text(holder: Optional[ast.AST]) -> str:
    if holder is None:
        return "a weak reference"
    if isinstance(holder, ast.Call):
        func = holder.func
        return f"{ast.unparse(func)}(...)" if len(ast.unparse(func)) <= 40 else "a weak reference"
    text = ast.unparse(holder)
    return text if len(text) <= 40 else "a weak container"
