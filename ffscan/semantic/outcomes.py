"""Whether anything reads how a task or future ended: the question behind FF402 and FF404.

A task that is kept (on `self`, in a set of running tasks) is safe from the garbage collector,
but its failure is handled only where something reads its outcome: awaits it, gathers it,
asks for `result()` or `exception()`, or hands it to code that may. Cancelling it, asking
`done()`, testing it for `None`, discarding it from the set, or waiting for it with
`asyncio.wait` and dropping what that returns reads nothing: when such a task fails, its
error only reaches the loop's log ("Task exception was never retrieved") when it is freed.

`follow(semantic, spawn)` walks the uses of the value a spawn call makes (its names, the
containers and `self` attributes it is put in, the loop variables that iterate them) and
says whether any use may read the outcome, and which done-callbacks are added to it. Every
use it does not understand counts as a read: the answer "nothing reads it" is certain.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, List, Optional, Set, Tuple

from ffscan.semantic import flow
from ffscan.semantic.flow import Use

if TYPE_CHECKING:
    from ffscan.semantic.model import SemanticModel

# Methods of a task or future that leave its outcome unread.
TASK_METHODS_THAT_DO_NOT_READ = frozenset(
    {"cancel", "done", "cancelled", "set_name", "get_name", "get_coro", "get_loop", "remove_done_callback",
     "uncancel", "cancelling"}
)
# Methods of a container that put, take out and throw away, or count: none reads an element's outcome.
CONTAINER_METHODS_THAT_DO_NOT_READ = frozenset(
    {"add", "append", "appendleft", "discard", "remove", "clear", "update", "difference_update", "extend"}
)
_LOOKERS = frozenset({"builtins.len", "builtins.bool", "builtins.print", "builtins.repr", "builtins.id"})
_MAX_DEPTH = 4
_WEAK = frozenset({"weakref.WeakSet", "_weakrefset.WeakSet", "weakref.WeakValueDictionary", "weakref.WeakKeyDictionary"})


@dataclass
class Outcome:
    """What the uses of a task or future do with it."""

    read: bool = False  # some use may read how it ended
    callbacks: List[ast.expr] = field(default_factory=list)  # done-callbacks added to it
    holders: List[str] = field(default_factory=list)  # where it is kept, as written: `self._task`
    weak: bool = False  # one of the holders is a weak container (FF203's)


def follow(semantic: "SemanticModel", spawn: ast.Call) -> Outcome:
    """Follow the value `spawn` makes to every use of it (see the module's docstring)."""
    outcome = Outcome()
    _Walker(semantic, outcome).value(spawn, 0)
    return outcome


class _Walker:
    def __init__(self, semantic: "SemanticModel", outcome: Outcome) -> None:
        self.semantic = semantic
        self.names = semantic.names
        self.outcome = outcome
        self.seen: Set[Tuple[str, int]] = set()

    def value(self, expr: ast.expr, depth: int) -> None:
        """The task itself flows from `expr`."""
        if self.outcome.read:
            return
        if depth > _MAX_DEPTH:
            self.outcome.read = True
            return
        semantic = self.semantic
        parent = semantic.parent(expr)
        if isinstance(parent, ast.Compare) or (isinstance(parent, ast.UnaryOp) and isinstance(parent.op, ast.Not)):
            return  # `task is None`, `not task`
        if isinstance(parent, (ast.If, ast.While, ast.IfExp, ast.Assert)) and expr is parent.test:
            return
        if isinstance(parent, ast.Attribute) and parent.value is expr:
            call = semantic.parent(parent)
            if isinstance(call, ast.Call) and call.func is parent:
                if parent.attr == "add_done_callback" and call.args:
                    self.outcome.callbacks.append(call.args[0])
                    return
                if parent.attr in TASK_METHODS_THAT_DO_NOT_READ:
                    return
            self.outcome.read = True
            return
        fate = flow.fate(semantic, expr)
        use = fate.use
        if use is Use.DROPPED:
            return
        if use is Use.PASSED and isinstance(fate.node, ast.Call):
            self.passed(fate.node, expr, depth)
            return
        if use is Use.BOUND and isinstance(fate.node, (ast.Assign, ast.AnnAssign)) and getattr(fate.node, "value", None) is expr:
            function = self.names.enclosing_function(fate.node)
            if function is None:
                self.outcome.read = True
                return
            for name in fate.names:
                self.local(function, name, depth + 1)
            return
        if use is Use.STORED and isinstance(fate.node, ast.Assign) and fate.node.value is expr and len(fate.node.targets) == 1:
            target = fate.node.targets[0]
            if isinstance(target, ast.Attribute) and self._is_self(target.value):
                self.attribute(target, depth + 1)
                return
            if isinstance(target, ast.Subscript):
                self.holder(target.value, depth + 1)
                return
        self.outcome.read = True

    def passed(self, call: ast.Call, argument: ast.expr, depth: int) -> None:
        func = call.func
        if isinstance(func, ast.Attribute) and func.attr in ("add", "append", "appendleft") and call.args and call.args[0] is argument:
            self.holder(func.value, depth + 1)
            return
        if self.names.qualified(func) in _LOOKERS:
            return
        self.outcome.read = True  # awaited by a helper, gathered, handed on: it may be read

    def local(self, function: ast.AST, name: str, depth: int) -> None:
        key = (f"local:{id(function)}:{name}", 0)
        if key in self.seen:
            return
        self.seen.add(key)
        if flow.is_declared_global(function, name):
            self.outcome.read = True
            return
        for load in flow.name_loads(self.semantic, function).get(name, ()):
            if flow.defining_scope(self.semantic, load) is not function:
                self.outcome.read = True  # a nested def or lambda may read it later
                return
            self.value(load, depth)

    def holder(self, expr: ast.expr, depth: int) -> None:
        """The task was put in the container `expr` (a local or global name, `self.x`)."""
        if isinstance(expr, (ast.Name, ast.Attribute)) and self.names.instance_type(expr) in _WEAK:
            self.outcome.weak = True
        if isinstance(expr, ast.Attribute) and self._is_self(expr.value):
            self._note(f"self.{expr.attr}")
            for load in self._attribute_loads(expr):
                if load is None:
                    self.outcome.read = True
                    return
                self.container_use(load, depth)
            return
        if not isinstance(expr, ast.Name):
            self.outcome.read = True
            return
        self._note(expr.id)
        binding = self.names.binding(expr.id, expr)
        function = self.names.enclosing_function(expr)
        if binding is not None and binding.kind == "param":
            self.outcome.read = True  # the caller's container: it may read it
            return
        # A local of the function, or else a name of the module (a global set of tasks).
        region: ast.AST = self.semantic.tree
        if function is not None and expr.id in self.names.scopes[function].bindings and not flow.is_declared_global(function, expr.id):
            region = function
        for node in ast.walk(region):
            if isinstance(node, ast.Name) and node.id == expr.id and isinstance(node.ctx, ast.Load):
                self.container_use(node, depth)
                if self.outcome.read:
                    return

    def container_use(self, load: ast.expr, depth: int) -> None:
        """A read of a container of tasks."""
        semantic = self.semantic
        parent = semantic.parent(load)
        if isinstance(parent, ast.Attribute) and parent.value is load:
            # `tasks.discard(task)`, or `tasks.discard` handed on as a done-callback
            if parent.attr not in CONTAINER_METHODS_THAT_DO_NOT_READ:
                self.outcome.read = True
            return
        if isinstance(parent, ast.Call) and load in parent.args and self.names.qualified(parent.func) in _LOOKERS:
            return
        if isinstance(parent, (ast.If, ast.While, ast.IfExp, ast.Assert)) and load is parent.test:
            return
        if isinstance(parent, (ast.Compare, ast.UnaryOp)):
            return
        if isinstance(parent, (ast.For, ast.AsyncFor)) and load is parent.iter:
            if isinstance(parent.target, ast.Name):
                loads = [
                    n for statement in parent.body for n in ast.walk(statement)
                    if isinstance(n, ast.Name) and n.id == parent.target.id and isinstance(n.ctx, ast.Load)
                ]
                for element in loads:
                    self.value(element, depth + 1)  # `for task in tasks: task.cancel()`
                return
            self.outcome.read = True
            return
        if isinstance(parent, ast.Starred):
            call = semantic.parent(parent)
            if isinstance(call, ast.Call) and self._swallowing_gather(call):
                return  # `await gather(*tasks, return_exceptions=True)`, its results dropped
        self.outcome.read = True

    def _swallowing_gather(self, call: ast.Call) -> bool:
        if self.names.qualified(call.func) not in ("asyncio.gather", "asyncio.tasks.gather"):
            return False
        if not any(k.arg == "return_exceptions" and isinstance(k.value, ast.Constant) and k.value.value is True for k in call.keywords):
            return False
        awaited = self.semantic.parent(call)
        return isinstance(awaited, ast.Await) and isinstance(self.semantic.parent(awaited), ast.Expr)

    def attribute(self, target: ast.Attribute, depth: int) -> None:
        """The task was stored on `self.<attr>`: every read of that attribute in the module."""
        self._note(f"self.{target.attr}")
        for load in self._attribute_loads(target):
            if load is None:
                self.outcome.read = True
                return
            self.value(load, depth)
            if self.outcome.read:
                return

    def _attribute_loads(self, target: ast.Attribute) -> List[Optional[ast.expr]]:
        """Reads of `self.<attr>` in the class; None stands for a read of `.<attr>` on anything
        else in the module, or a class the module cannot see whole (it may be read there)."""
        key = (f"attr:{target.attr}", 0)
        if key in self.seen:
            return []
        self.seen.add(key)
        owner = self.names.enclosing_class(target)
        if owner is None:
            return [None]
        found: List[Optional[ast.expr]] = []
        for node in ast.walk(self.semantic.tree):
            if isinstance(node, ast.Attribute) and node.attr == target.attr and isinstance(node.ctx, ast.Load):
                if self._is_self(node.value) and self.names.enclosing_class(node) is owner:
                    found.append(node)
                else:
                    found.append(None)
            elif isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id in ("getattr", "vars"):
                found.append(None)
        return found

    def _is_self(self, expr: ast.expr) -> bool:
        if not isinstance(expr, ast.Name):
            return False
        function = self.names.enclosing_function(expr)
        scope = self.names.scopes.get(function) if function is not None else None
        return scope is not None and scope.receiver == expr.id

    def _note(self, holder: str) -> None:
        if holder not in self.outcome.holders:
            self.outcome.holders.append(holder)
