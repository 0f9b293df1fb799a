"""What a function's own body does that rules about other functions ask: which limiters it
acquires, which of its calls no `try` of its own guards, and whether it raises.

These facts go into the module summary (`FunctionFacts.limiters`, `.exposed`,
`.raises_unguarded`), so that the index can answer for a function of another module (see
effects.py): does the work a task or thread runs call another service, does a semaphore
guard it, can it fail.
"""

from __future__ import annotations

import ast
import re
from typing import TYPE_CHECKING, Callable, Dict, List, NamedTuple, Set, Tuple

from ffscan.semantic.names import Scope
from ffscan.semantic.values import UNKNOWN_REF, Ref
from ffscan.semantic.spelling import last_name

if TYPE_CHECKING:
    from ffscan.semantic.model import SemanticModel

# Spellings that mean a limiter when the type is unknown (a parameter `semaphore`, an
# attribute `self._limiter` assigned elsewhere): semaphores, limiters, throttles, job schedulers.
LIMITER_SPELLING = re.compile(
    r"sem(aphore)?s?$|^_?sem_|limit(er)?s?$|capacity|throttl|aiojobs|scheduler|bounded|max_concurren", re.I
)
# A reference standing for "a limiter by its spelling" in `FunctionFacts.limiters`.
SPELLED_LIMITER: Ref = ("limiter",)

_TRY_TYPES: Tuple[type, ...] = (ast.Try, getattr(ast, "TryStar", ast.Try))


class WorkFacts(NamedTuple):
    limiters: Tuple[Ref, ...]  # what the function acquires: `async with x`, `with x`, `x.acquire()`
    exposed: Tuple[Ref, ...]  # callees of calls outside every `try` that has handlers
    raises_unguarded: bool  # a `raise` outside every such `try` (a re-raise in a handler counts)


def is_spelled_limiter(expr: ast.AST) -> bool:
    identifier = last_name(expr)
    return bool(identifier) and bool(LIMITER_SPELLING.search(identifier))


def work_facts(
    semantic: "SemanticModel", function: ast.AST, scope: Scope, calls: List[ast.Call], callees: Dict[int, Ref]
) -> WorkFacts:
    """The facts of `function`'s own statements (nested defs and classes are their own);
    `callees` holds the callee of each call already resolved, by `id(call)`."""
    refs = semantic.refs
    guarded: Set[int] = set()
    limiters: List[Ref] = []

    def acquired(expr: ast.expr) -> None:
        if is_spelled_limiter(expr):
            ref = SPELLED_LIMITER
        elif isinstance(expr, (ast.Name, ast.Attribute)):
            ref = refs.ref_of(expr, scope)
        else:
            return  # `with open(...)`, `with lock_for(key)`: made here, not a shared bound
        if ref != UNKNOWN_REF and ref not in limiters:
            limiters.append(ref)

    raises = _walk_statements(getattr(function, "body", []), False, guarded, acquired)
    exposed: List[Ref] = []
    for call in calls:
        func = call.func
        if isinstance(func, ast.Attribute) and func.attr == "acquire":
            acquired(func.value)
        if id(semantic.statement_of(call)) in guarded:
            continue
        callee = callees.get(id(call))
        if callee is None:
            callee = refs.ref_of(func, scope)
        if callee != UNKNOWN_REF and callee not in exposed:
            exposed.append(callee)
    return WorkFacts(tuple(limiters), tuple(exposed), raises)


def _walk_statements(
    statements: List[ast.stmt], inside_try: bool, guarded: Set[int], acquired: Callable[[ast.expr], None]
) -> bool:
    """Record in `guarded` the statements some `try` with handlers covers, and pass each
    `with` item to `acquired`, in source order; whether a `raise` stands outside every such
    `try`. A module-level function, not a closure: a closure that calls itself holds itself
    in a cell, a cycle that keeps everything it sees alive until the garbage collector runs."""
    raises = False
    for statement in statements:
        kind = statement.__class__  # ast.parse makes no subclasses: a set test is exact, and fast
        if kind in _OWN_SCOPES:
            continue
        if inside_try:
            guarded.add(id(statement))
        if kind in _LEAVES:
            continue
        if kind is ast.Raise:
            if not inside_try and not _not_implemented(statement):  # type: ignore[arg-type]
                raises = True
        elif kind in _TRY_KINDS:
            handled = bool(statement.handlers)  # type: ignore[attr-defined]
            raises |= _walk_statements(statement.body, inside_try or handled, guarded, acquired)  # type: ignore[attr-defined]
            for handler in statement.handlers:  # type: ignore[attr-defined]
                raises |= _walk_statements(handler.body, inside_try, guarded, acquired)
            raises |= _walk_statements(statement.orelse, inside_try, guarded, acquired)  # type: ignore[attr-defined]
            raises |= _walk_statements(statement.finalbody, inside_try, guarded, acquired)  # type: ignore[attr-defined]
        elif kind in _WITH_KINDS:
            for item in statement.items:  # type: ignore[attr-defined]
                acquired(item.context_expr)
            raises |= _walk_statements(statement.body, inside_try, guarded, acquired)  # type: ignore[attr-defined]
        elif kind in _BLOCK_KINDS:
            raises |= _walk_statements(statement.body, inside_try, guarded, acquired)  # type: ignore[attr-defined]
            raises |= _walk_statements(statement.orelse, inside_try, guarded, acquired)  # type: ignore[attr-defined]
        elif kind is _MATCH:
            for case in statement.cases:  # type: ignore[attr-defined]
                raises |= _walk_statements(case.body, inside_try, guarded, acquired)
    return raises


_OWN_SCOPES = frozenset({ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef})
_TRY_KINDS = frozenset(_TRY_TYPES)
_WITH_KINDS = frozenset({ast.With, ast.AsyncWith})
_BLOCK_KINDS = frozenset({ast.If, ast.For, ast.AsyncFor, ast.While})
_MATCH = getattr(ast, "Match", None)
# Statements that hold no statements and are not a `raise`: nothing more to see.
_LEAVES = frozenset(
    {ast.Expr, ast.Assign, ast.AugAssign, ast.AnnAssign, ast.Return, ast.Pass, ast.Break, ast.Continue,
     ast.Import, ast.ImportFrom, ast.Global, ast.Nonlocal, ast.Delete, ast.Assert}
)


def _not_implemented(statement: ast.Raise) -> bool:
    """`raise NotImplementedError`: a method to override, not a failure of the work."""
    exc = statement.exc
    if isinstance(exc, ast.Call):
        exc = exc.func
    return isinstance(exc, ast.Name) and exc.id == "NotImplementedError"
