"""What one module tells the rest of the program: its coroutine functions and re-exports."""

from __future__ import annotations

import ast
from dataclasses import dataclass
from typing import Dict, FrozenSet, Tuple

from ffscan.model import Finding

# Decorators that keep an `async def` a coroutine function, by their last name; anything
# else may wrap it into something that is not (a route, a fixture, a sync adapter).
_KEEPING_DECORATORS = frozenset({"staticmethod", "classmethod", "abstractmethod", "override", "final", "wraps"})


@dataclass(frozen=True)
class ModuleSummary:
    module: str
    coroutine_functions: FrozenSet[str] = frozenset()  # top-level `async def` names
    other_names: FrozenSet[str] = frozenset()  # top-level names bound any other way
    reexports: Tuple[Tuple[str, str], ...] = ()  # (local name, qualified name it imports)


@dataclass(frozen=True)
class Deferred:
    """A finding that stands only if `requires` is a coroutine function of the project."""

    finding: Finding
    requires: str


def summarize_module(tree: ast.Module, module: str, is_package: bool = False) -> ModuleSummary:
    """Read the module's top-level statements (cheap: no walk below them)."""
    coroutines, others = set(), set()
    reexports: Dict[str, str] = {}
    package = module if is_package else module.rpartition(".")[0]
    for statement in tree.body:
        if isinstance(statement, ast.AsyncFunctionDef):
            (coroutines if _stays_async(statement) else others).add(statement.name)
        elif isinstance(statement, (ast.FunctionDef, ast.ClassDef)):
            others.add(statement.name)
        elif isinstance(statement, ast.ImportFrom) and statement.module != "__future__":
            source = _absolute(statement, package)
            for alias in statement.names:
                if alias.name != "*" and source:
                    reexports[alias.asname or alias.name] = f"{source}.{alias.name}"
        elif isinstance(statement, ast.Import):
            for alias in statement.names:
                if alias.asname:
                    reexports[alias.asname] = alias.name
        elif isinstance(statement, (ast.Assign, ast.AnnAssign)):
            targets = statement.targets if isinstance(statement, ast.Assign) else [statement.target]
            others.update(t.id for t in targets if isinstance(t, ast.Name))
    # A name bound twice at top level is uncertain: it is neither a coroutine nor a re-export.
    ambiguous = (coroutines & others) | (coroutines & reexports.keys()) | (others & reexports.keys())
    return ModuleSummary(
        module=module,
        coroutine_functions=frozenset(coroutines - ambiguous),
        other_names=frozenset(others | ambiguous),
        reexports=tuple(sorted((k, v) for k, v in reexports.items() if k not in ambiguous)),
    )


def _stays_async(function: ast.AsyncFunctionDef) -> bool:
    if any(isinstance(node, (ast.Yield, ast.YieldFrom)) for node in _own_nodes(function)):
        return False  # an async generator
    for decorator in function.decorator_list:
        target = decorator.func if isinstance(decorator, ast.Call) else decorator
        name = target.attr if isinstance(target, ast.Attribute) else getattr(target, "id", "")
        if name not in _KEEPING_DECORATORS:
            return False
    return True


def _own_nodes(function: ast.AST):
    stack = list(function.body)  # type: ignore[attr-defined]
    while stack:
        node = stack.pop()
        yield node
        if not isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef, ast.Lambda)):
            stack.extend(ast.iter_child_nodes(node))


def _absolute(statement: ast.ImportFrom, package: str) -> str:
    if not statement.level:
        return statement.module or ""
    parts = package.split(".") if package else []
    keep = len(parts) - (statement.level - 1)
    base = parts[: max(keep, 0)]
    if statement.module:
        base = [*base, statement.module]
    return ".".join(base)
