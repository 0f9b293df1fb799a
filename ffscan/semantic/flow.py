"""Where a value goes: the question behind every "dropped" rule.

`fate(semantic, expr)` looks at the syntax around an expression (its parents, never its type)
and says whether the value is thrown away, awaited, bound to names, returned, passed to a
call, used as the receiver of a method call, or tested for truth.
"""

from __future__ import annotations

import ast
import enum
from dataclasses import dataclass
from typing import TYPE_CHECKING, Dict, List, Optional, Tuple

from ffscan.semantic.names import SCOPE_TYPES

if TYPE_CHECKING:
    from ffscan.semantic.model import SemanticModel


class Use(enum.Enum):
    DROPPED = "dropped"  # an expression statement, or a container that is dropped
    AWAITED = "awaited"
    BOUND = "bound"  # assigned to plain names: see `Fate.names`
    STORED = "stored"  # assigned to an attribute or subscript, or augmented-assigned
    RETURNED = "returned"  # returned, yielded, or a lambda's result
    PASSED = "passed"  # an argument of `Fate.node` (a call)
    RECEIVER = "receiver"  # `value.method(...)`: `Fate.node` is that call
    TESTED = "tested"  # used for its truth, compared, formatted or iterated
    OTHER = "other"  # anything else: assume the value is kept


@dataclass(frozen=True)
class Fate:
    use: Use
    node: Optional[ast.AST] = None  # the call, the statement or the testing construct
    names: Tuple[str, ...] = ()  # for BOUND


_CONTAINERS = (ast.List, ast.Tuple, ast.Set, ast.Starred, ast.ListComp, ast.SetComp, ast.GeneratorExp)


def fate(semantic: "SemanticModel", expr: ast.AST) -> Fate:
    """What happens to the value of `expr`, looking through containers and conditionals."""
    child, parent = expr, semantic.parent(expr)
    inside_container = False
    while parent is not None:
        found = _direct_fate(semantic, child, parent)
        if found is None:  # a container or conditional: follow the value outwards
            inside_container = inside_container or isinstance(parent, (*_CONTAINERS, ast.Dict))
            child, parent = parent, semantic.parent(parent)
            continue
        if inside_container and found.use is Use.TESTED:
            # `for c in [coro()]` iterates the list, not the coroutine; `c` goes on from there.
            return Fate(Use.OTHER, found.node)
        return found
    return Fate(Use.OTHER)


def _direct_fate(semantic: "SemanticModel", child: ast.AST, parent: ast.AST) -> Optional[Fate]:
    """The fate `parent` gives `child`, or None when the value flows on through `parent`."""
    if isinstance(parent, ast.Expr):
        return Fate(Use.DROPPED, parent)
    if isinstance(parent, ast.Await):
        return Fate(Use.AWAITED, parent)
    if isinstance(parent, (ast.Assign, ast.AnnAssign, ast.AugAssign, ast.NamedExpr)):
        if child is not getattr(parent, "value", None):
            return Fate(Use.OTHER, parent)
        targets = _targets(parent)
        if targets and all(isinstance(t, ast.Name) for t in targets):
            return Fate(Use.BOUND, parent, tuple(t.id for t in targets))  # type: ignore[attr-defined]
        return Fate(Use.STORED, parent)
    if isinstance(parent, (ast.Return, ast.Yield, ast.YieldFrom, ast.Lambda)):
        return Fate(Use.RETURNED, parent)
    if isinstance(parent, ast.Call):
        if child is parent.func:
            return Fate(Use.OTHER, parent)
        return Fate(Use.PASSED, parent)
    if isinstance(parent, ast.keyword):
        call = semantic.parent(parent)
        return Fate(Use.PASSED, call)
    if isinstance(parent, ast.Attribute):
        call = semantic.parent(parent)
        if isinstance(call, ast.Call) and call.func is parent:
            return Fate(Use.RECEIVER, call)
        return Fate(Use.OTHER, parent)
    if isinstance(parent, (ast.BoolOp, ast.Compare, ast.FormattedValue)):
        return Fate(Use.TESTED, parent)
    if isinstance(parent, ast.UnaryOp) and isinstance(parent.op, ast.Not):
        return Fate(Use.TESTED, parent)
    if isinstance(parent, (ast.If, ast.While, ast.IfExp, ast.Assert)) and child is parent.test:
        return Fate(Use.TESTED, parent)
    if isinstance(parent, (ast.For, ast.AsyncFor, ast.comprehension)) and child is parent.iter:
        return Fate(Use.TESTED, parent)
    if isinstance(parent, ast.comprehension):
        return Fate(Use.OTHER, parent)  # a condition of a comprehension: its `ifs`
    if isinstance(parent, _CONTAINERS):
        if isinstance(parent, ast.GeneratorExp) and child is parent.elt:
            return Fate(Use.OTHER, parent)  # produced lazily: whoever iterates decides
        return None
    if isinstance(parent, (ast.IfExp, ast.Dict)):
        return None
    return Fate(Use.OTHER, parent)


def _targets(node: ast.AST) -> List[ast.expr]:
    if isinstance(node, ast.Assign):
        return list(node.targets)
    if isinstance(node, ast.AnnAssign):
        return [node.target] if node.simple else []
    if isinstance(node, ast.NamedExpr):
        return [node.target]
    return []  # AugAssign: the name already held something; treat as stored


def defining_scope(semantic: "SemanticModel", node: ast.AST) -> ast.AST:
    """The function (or module, or class) whose local variables a binding at `node` creates."""
    for ancestor in semantic.ancestors(node):
        if isinstance(ancestor, SCOPE_TYPES):
            return ancestor
    return semantic.tree


def name_loads(semantic: "SemanticModel", scope: ast.AST) -> Dict[str, List[ast.Name]]:
    """Every `Name` read in `scope`, including in nested functions (closures), by name.

    Cached per scope: call it from `leave_*` handlers, when the pass has seen the whole scope.
    """
    cache = semantic.cache.setdefault("name_loads", {})
    found = cache.get(scope)
    if found is None:
        if scope in semantic.visited_functions:
            found = _recorded_loads(semantic, scope)
        else:  # not fully visited yet (or no pass ran): read the tree itself
            found = {}
            body = scope.body if isinstance(scope.body, list) else [scope.body]  # type: ignore[attr-defined]
            for statement in body:
                for node in ast.walk(statement):
                    if isinstance(node, ast.Name) and isinstance(node.ctx, ast.Load):
                        found.setdefault(node.id, []).append(node)
        cache[scope] = found
    return found


def _recorded_loads(semantic: "SemanticModel", function: ast.AST) -> Dict[str, List[ast.Name]]:
    """The loads the pass recorded in `function` and in every def or lambda nested in it."""
    known = semantic.cache.get("nested_functions")
    if known is None or known[0] != len(semantic.function_parents):  # the pass has gone on since
        children: Dict[Optional[ast.AST], List[ast.AST]] = {}
        for child, parent in semantic.function_parents.items():
            children.setdefault(parent, []).append(child)
        known = semantic.cache["nested_functions"] = (len(semantic.function_parents), children)
    children = known[1]
    found: Dict[str, List[ast.Name]] = {}
    pending = [function]
    while pending:
        current = pending.pop()
        for load in semantic.loads_by_function.get(current, ()):
            found.setdefault(load.id, []).append(load)
        pending.extend(children.get(current, ()))
    return found


def is_declared_global(scope: ast.AST, name: str) -> bool:
    """Whether `global name` or `nonlocal name` stands anywhere in the body of `scope`."""
    # Rules ask this of one function for many names: the walk is done once, and its answer is
    # kept on the node itself (the tree lives exactly as long as the answers about it).
    declared = scope.__dict__.get("_ffscan_declared")
    if declared is None:
        declared = set()
        body = getattr(scope, "body", [])
        # Only statements declare, and only statements (and their handlers and cases) hold
        # statements: expressions, most of the nodes, are never looked at.
        pending = list(body) if isinstance(body, list) else []
        while pending:
            node = pending.pop()
            if isinstance(node, (ast.Global, ast.Nonlocal)):
                declared.update(node.names)
                continue
            for field in _STATEMENT_LISTS:
                inner = getattr(node, field, None)
                if inner:
                    pending.extend(inner)
        scope.__dict__["_ffscan_declared"] = declared
    return name in declared


# The fields that hold statements, of a statement, an `except` handler or a `case`.
_STATEMENT_LISTS = ("body", "orelse", "finalbody", "handlers", "cases")
