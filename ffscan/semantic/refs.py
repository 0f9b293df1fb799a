"""Turn expressions of one module into references (see values.py) another module can finish.

The translation is syntactic and certain: a name becomes what its one binding makes it (an
import, a def, the value assigned to it once, an annotated or `self` parameter), and anything
it cannot be sure of becomes ("unknown",). Scopes are passed in, so summaries can translate a
function's body before or after the engine's pass.
"""

from __future__ import annotations

import ast
from typing import Dict, List, Optional, Tuple

from ffscan.semantic.names import FUNCTION_TYPES, Binding, NameResolver, Scope
from ffscan.semantic.values import (
    UNKNOWN_REF,
    Ref,
    attr_ref,
    call_ref,
    def_ref,
    global_ref,
    instance_ref,
    item_ref,
)

_MAX_DEPTH = 12

# typing spellings, by qualified name
_OPTIONAL = frozenset({"typing.Optional", "typing_extensions.Optional"})
_UNION = frozenset({"typing.Union", "typing_extensions.Union"})
_AWAITABLES = {
    "typing.Awaitable": "awaitable",
    "typing.Coroutine": "coroutine",
    "collections.abc.Awaitable": "awaitable",
    "collections.abc.Coroutine": "coroutine",
    "typing_extensions.Awaitable": "awaitable",
    "typing_extensions.Coroutine": "coroutine",
}
_CALLABLES = frozenset({"typing.Callable", "collections.abc.Callable", "typing_extensions.Callable"})
_TUPLES = frozenset({"typing.Tuple", "builtins.tuple", "typing_extensions.Tuple"})
_TYPES = frozenset({"typing.Type", "builtins.type", "typing_extensions.Type"})
_ANNOTATED = frozenset({"typing.Annotated", "typing_extensions.Annotated"})
_CLASSVAR_FINAL = frozenset({"typing.ClassVar", "typing.Final", "typing_extensions.Final"})
_PARTIAL = "functools.partial"
_CASTS = frozenset({global_ref("typing.cast"), global_ref("typing_extensions.cast")})


class RefBuilder:
    """References for the expressions of one module."""

    def __init__(self, names: NameResolver) -> None:
        self.names = names
        # name, scope and depth -> the name's reference: a name is read in many expressions,
        # and what it refers to depends only on where it is read
        self._names: Dict[Tuple[str, Scope, int], Ref] = {}

    # ---- expressions --------------------------------------------------------------------

    def ref_of(self, expr: Optional[ast.AST], scope: Scope, depth: int = 0) -> Ref:
        """The reference for `expr` evaluated in `scope`."""
        if expr is None or depth > _MAX_DEPTH:
            return UNKNOWN_REF
        if isinstance(expr, ast.Name):
            return self.name_ref(expr.id, scope, depth)
        if isinstance(expr, ast.Attribute):
            return attr_ref(self.ref_of(expr.value, scope, depth + 1), expr.attr)
        if isinstance(expr, ast.Call):
            func = expr.func
            if isinstance(func, ast.Name) and func.id == "super" and not expr.args:
                owner = self.method_class(scope)
                return ("super", self.names.qualified_def(owner)) if owner is not None else UNKNOWN_REF
            callee = self.ref_of(func, scope, depth + 1)
            if callee == global_ref(_PARTIAL) and expr.args:
                return self.ref_of(expr.args[0], scope, depth + 1)  # calling it calls the function
            if callee in _CASTS and len(expr.args) == 2:
                return self.ref_of(expr.args[1], scope, depth + 1)  # `cast(T, x)` is `x`
            return call_ref(callee)
        if isinstance(expr, ast.NamedExpr):
            return self.ref_of(expr.value, scope, depth + 1)
        if isinstance(expr, ast.Await):
            inner = self.ref_of(expr.value, scope, depth + 1)
            return UNKNOWN_REF if inner == UNKNOWN_REF else ("await", inner)
        if isinstance(expr, ast.BoolOp) and isinstance(expr.op, ast.Or):
            # `client or httpx.AsyncClient()` is one of its operands; `None` operands aside.
            return _one_of(self.ref_of(v, scope, depth + 1) for v in expr.values if not _is_none(v))
        if isinstance(expr, ast.IfExp):
            branches = (expr.body, expr.orelse)
            return _one_of(self.ref_of(v, scope, depth + 1) for v in branches if not _is_none(v))
        return UNKNOWN_REF

    def name_ref(self, name: str, scope: Scope, depth: int = 0) -> Ref:
        key = (name, scope, depth)
        found = self._names.get(key)
        if found is None:
            bindings = self.names.lookup(name, scope)
            if bindings is None:
                found = global_ref(f"builtins.{name}") if _is_builtin(name) else UNKNOWN_REF
            else:
                found = _one_of(self.binding_ref(binding, name, scope, depth) for binding in _distinct(bindings))
            self._names[key] = found
        return found

    def binding_ref(self, binding: Binding, name: str, scope: Scope, depth: int) -> Ref:
        kind = binding.kind
        if kind == Binding.IMPORT:
            return global_ref(binding.target) if binding.target else UNKNOWN_REF
        if kind in (Binding.FUNCTION, Binding.CLASS):
            return def_ref(self.names.qualified_def(binding.node))
        if kind == Binding.VALUE:
            where = self._binding_scope(name, scope)
            return self.ref_of(binding.node, where, depth + 1)
        if kind == Binding.ITEM:
            where = self._binding_scope(name, scope)
            return item_ref(self.ref_of(binding.node, where, depth + 1), binding.index)
        if kind == Binding.PARAM:
            return self.param_ref(binding.node, self._binding_scope(name, scope), depth)
        return UNKNOWN_REF

    def param_ref(self, arg: Optional[ast.arg], scope: Scope, depth: int = 0) -> Ref:
        """`self`/`cls` of a method, or a parameter annotated with a class."""
        if arg is None:
            return UNKNOWN_REF
        function = scope.node
        owner = self.method_class(scope)
        if owner is not None and scope.receiver == arg.arg and isinstance(function, FUNCTION_TYPES):
            decorators = {self.names.qualified(d) for d in function.decorator_list}
            if "builtins.staticmethod" in decorators:
                pass  # no receiver: an ordinary first parameter
            elif "builtins.classmethod" in decorators:
                return def_ref(self.names.qualified_def(owner))
            else:
                return instance_ref(def_ref(self.names.qualified_def(owner)))
        if arg.annotation is not None and isinstance(function, FUNCTION_TYPES):
            # Annotations are read where the def stands, not inside it.
            return self.annotation_ref(arg.annotation, scope.parent or scope, depth + 1)
        return UNKNOWN_REF

    def method_class(self, scope: Scope) -> Optional[ast.ClassDef]:
        """The class whose method `scope` (a function scope, or a lambda inside one) belongs to."""
        current: Optional[Scope] = scope
        while current is not None and isinstance(current.node, ast.Lambda):
            current = current.parent
        if current is None or not isinstance(current.node, FUNCTION_TYPES):
            return None
        parent = current.parent
        return parent.node if parent is not None and parent.is_class else None  # type: ignore[return-value]

    def _binding_scope(self, name: str, scope: Scope) -> Scope:
        """The scope that holds the binding of `name` seen from `scope` (LEGB)."""
        if name in scope.global_names:
            return self.names.module_scope
        current: Optional[Scope] = scope
        first = True
        while current is not None:
            if (first or not current.is_class) and name in current.bindings:
                return current
            first = False
            current = current.parent
        return scope

    # ---- annotations ----------------------------------------------------------------------

    def annotation_ref(self, annotation: Optional[ast.expr], scope: Scope, depth: int = 0) -> Ref:
        """What a value annotated with `annotation` is: an instance of a class, a typing
        construct, or unknown."""
        if annotation is None or depth > _MAX_DEPTH:
            return UNKNOWN_REF
        if isinstance(annotation, ast.Constant) and isinstance(annotation.value, str):
            try:
                parsed = ast.parse(annotation.value.strip(), mode="eval").body
            except SyntaxError:  # a string annotation that is not an expression: no type
                return UNKNOWN_REF
            return self.annotation_ref(parsed, scope, depth + 1)
        if isinstance(annotation, ast.BinOp) and isinstance(annotation.op, ast.BitOr):
            return self._union([annotation.left, annotation.right], scope, depth)
        if isinstance(annotation, ast.Subscript):
            origin = self._typing_name(annotation.value, scope)
            arguments = annotation.slice.elts if isinstance(annotation.slice, ast.Tuple) else [annotation.slice]
            if origin in _OPTIONAL:
                return self.annotation_ref(arguments[0], scope, depth + 1)
            if origin in _UNION:
                return self._union(arguments, scope, depth)
            if origin in _AWAITABLES:
                return ("type", _AWAITABLES[origin])
            if origin in _CALLABLES and len(arguments) == 2:
                result = self.annotation_ref(arguments[1], scope, depth + 1)
                if result in (("type", "awaitable"), ("type", "coroutine")):
                    return ("type", "async-callable")
                return UNKNOWN_REF
            if origin in _TUPLES and not any(isinstance(a, ast.Constant) and a.value is Ellipsis for a in arguments):
                return ("tuple", tuple(self.annotation_ref(a, scope, depth + 1) for a in arguments))
            if origin in _TYPES:
                return self.ref_of(arguments[0], scope, depth + 1)
            if origin in _ANNOTATED or origin in _CLASSVAR_FINAL:
                return self.annotation_ref(arguments[0], scope, depth + 1)
            return UNKNOWN_REF  # List[X], Dict[...], a generic class: not what we follow
        if isinstance(annotation, (ast.Name, ast.Attribute)):
            qualified = self._typing_name(annotation, scope)
            if qualified in _AWAITABLES:
                return ("type", _AWAITABLES[qualified])
            if qualified is not None and (qualified.startswith(("typing.", "typing_extensions.")) or qualified == "builtins.None"):
                return UNKNOWN_REF
            return instance_ref(self.ref_of(annotation, scope, depth + 1))
        return UNKNOWN_REF

    def _union(self, members: List[ast.expr], scope: Scope, depth: int) -> Ref:
        """`X | None` is X (as a type checker narrows it on use); other unions are candidates."""
        return _one_of(
            self.annotation_ref(member, scope, depth + 1)
            for member in members
            if not (isinstance(member, ast.Constant) and member.value is None)
            and not (isinstance(member, ast.Name) and member.id == "None")
        )

    def _typing_name(self, expr: ast.expr, scope: Scope) -> Optional[str]:
        ref = self.ref_of(expr, scope)
        return ref[1] if ref[0] == "global" else None


def _is_none(expr: ast.expr) -> bool:
    return isinstance(expr, ast.Constant) and expr.value is None


def _one_of(candidates) -> Ref:
    """One reference, or ("any", ...) of up to four that differ; unknown if any is."""
    refs: List[Ref] = []
    for ref in candidates:
        if ref == UNKNOWN_REF:
            return UNKNOWN_REF
        if ref not in refs:
            refs.append(ref)
    if len(refs) == 1:
        return refs[0]
    return ("any", tuple(refs)) if 1 < len(refs) <= 4 else UNKNOWN_REF


def _distinct(bindings: List[Binding]) -> List[Binding]:
    seen, kept = set(), []
    for binding in bindings:
        key = (binding.kind, binding.target, id(binding.node), binding.index)
        if key not in seen:
            seen.add(key)
            kept.append(binding)
    return kept


def _is_builtin(name: str) -> bool:
    import builtins

    return hasattr(builtins, name)
