"""Per-module name and scope resolver that every rule queries.

Built once per module from a statement-level walk (cheap: statements are a small share of the
nodes), then queried by rules during the single batched pass. Answers are certain or None:
a name bound in two different ways resolves to None, never to one of its candidates.
"""

from __future__ import annotations

import ast
import builtins
from typing import Any, Callable, Dict, Iterator, List, Optional, Sequence, Union

from ffscan.semantic.stdlib import ASYNC_PRESERVING_DECORATORS, INERT_BASES
from ffscan.semantic.spelling import last_name

FunctionNode = Union[ast.FunctionDef, ast.AsyncFunctionDef]
ScopeNode = Union[ast.Module, ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda]
SCOPE_TYPES = (ast.Module, ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda)
FUNCTION_TYPES = (ast.FunctionDef, ast.AsyncFunctionDef)
_BUILTIN_NAMES = frozenset(dir(builtins))
_UNCERTAIN = object()

class Binding:
    """One way a name gets bound in a scope."""

    __slots__ = ("kind", "target", "node", "index")
    IMPORT, FUNCTION, CLASS, PARAM, VALUE, ITEM, OTHER = (
        "import", "function", "class", "param", "value", "item", "other"
    )

    def __init__(self, kind: str, target: Optional[str] = None, node: Optional[ast.AST] = None, index: int = -1):
        self.kind = kind
        self.target = target  # qualified name for imports
        # The def/class node, the assigned value (VALUE, and ITEM: the tuple unpacked), or
        # the parameter's `ast.arg` (PARAM).
        self.node = node
        self.index = index  # ITEM: which element of the unpacked value

    def __repr__(self) -> str:  # for test failure messages
        return f"Binding({self.kind}, {self.target})"


class Scope:
    __slots__ = (
        "node", "parent", "bindings", "global_names", "self_attrs", "receiver", "returns", "self_assignments",
        "assigned_attrs",
    )

    def __init__(self, node: ScopeNode, parent: Optional["Scope"]):
        self.node = node
        self.parent = parent
        self.bindings: Dict[str, List[Binding]] = {}
        self.global_names: set = set()
        # For classes: `self.x = value` assignments found in its methods.
        self.self_attrs: Dict[str, List[ast.expr]] = {}
        # For methods: the name of the first parameter (`self`, `cls`), else None.
        self.receiver: Optional[str] = None
        # For functions: the values of their `return` statements.
        self.returns: List[ast.expr] = []
        # For classes: every `self.x = v` / `self.x: T = v` / `self.x += v` in a method, as
        # (attribute, value or None, annotation or None, the method's def). The def, not its
        # scope: a class scope holding its methods' scopes, which hold it as their parent,
        # would be a reference cycle, and a cycle keeps the module's whole tree alive until
        # the garbage collector finds it.
        self.self_assignments: List[tuple] = []
        # `obj.attr = ...` (and `setattr(obj, ...)`, `patch.object(obj, ...)`: "*") in this
        # scope's own statements, by the name `obj`.
        self.assigned_attrs: Dict[str, set] = {}

    @property
    def is_class(self) -> bool:
        return isinstance(self.node, ast.ClassDef)

    def bind(self, name: str, binding: Binding) -> None:
        self.bindings.setdefault(name, []).append(binding)


class NameResolver:
    """Resolve names, calls and `self` attributes of one module.

    `context` is the engine's stack of the nodes being visited; queries about a node the
    traversal has not reached yet resolve in the innermost scope on that stack.
    """

    def __init__(
        self,
        tree: ast.Module,
        module_name: str = "",
        parents: Optional[Dict[ast.AST, ast.AST]] = None,
        context: Optional[List[ast.AST]] = None,
        is_package: bool = False,
    ) -> None:
        self.tree = tree
        self.module_name = module_name
        self.is_package = is_package  # an __init__ module: relative imports start from itself
        self.parents: Dict[ast.AST, ast.AST] = parents if parents is not None else {}
        self.context: List[ast.AST] = context if context is not None else []
        self.scopes: Dict[ast.AST, Scope] = {}
        self._scope_nodes: Dict[ast.AST, ast.AST] = {}  # node -> the def, lambda or class around it (scope_of)
        self._qualified_defs: Dict[ast.AST, str] = {}
        self._qualified_names: Dict[ast.Name, Optional[str]] = {}  # see qualified
        self.module_scope = Scope(tree, None)
        self.scopes[tree] = self.module_scope
        package = module_name if is_package else module_name.rpartition(".")[0]
        self.package_parts: List[str] = package.split(".") if package else []
        # The builder is dropped once done: kept, it and the resolver would hold each other.
        _ScopeBuilder(self).build(tree, self.module_scope)

    def absolute_module(self, statement: ast.ImportFrom) -> str:
        """The module a `from ... import` names, relative imports made absolute."""
        if not statement.level:
            return statement.module or ""
        keep = len(self.package_parts) - (statement.level - 1)
        base = self.package_parts[: max(keep, 0)]
        if statement.module:
            base = [*base, statement.module]
        return ".".join(base)

    # ---- scopes -------------------------------------------------------------------------

    def scope_of(self, node: ast.AST) -> Scope:
        """The scope whose code contains `node` (a def's own scope excluded)."""
        # Rules ask this of most nodes, often of neighbours: the def, lambda or class found is
        # kept for `node` and every node passed on the way up (a linked node's parents never
        # change, so the answer found through them is final).
        known = self._scope_nodes
        found = known.get(node)
        if found is not None:
            return self._scope_for(found)
        passed: List[ast.AST] = []
        current = self.parents.get(node)
        while current is not None:
            if isinstance(current, SCOPE_TYPES):
                break
            found = known.get(current)
            if found is not None:
                current = found
                break
            passed.append(current)
            current = self.parents.get(current)
        if current is not None:
            known[node] = current
            for between in passed:
                known[between] = current
            return self._scope_for(current)
        if node in self.parents or node is self.tree:
            return self.module_scope
        for ancestor in reversed(self.context):
            if ancestor is not node and isinstance(ancestor, SCOPE_TYPES):
                return self._scope_for(ancestor)
        return self.module_scope

    def _scope_for(self, node: ScopeNode) -> Scope:
        scope = self.scopes.get(node)
        if scope is None:
            # Lambdas are not statements: their scopes are made when first asked for.
            scope = Scope(node, self.scope_of(node))
            if isinstance(node, ast.Lambda):
                args = node.args
                for arg in (*args.posonlyargs, *args.args, *args.kwonlyargs, args.vararg, args.kwarg):
                    if arg is not None:
                        scope.bind(arg.arg, Binding(Binding.PARAM, node=arg))
            self.scopes[node] = scope
        return scope

    def enclosing_function(self, node: ast.AST) -> Optional[FunctionNode]:
        scope: Optional[Scope] = self.scope_of(node)
        while scope is not None and isinstance(scope.node, ast.Lambda):
            scope = scope.parent
        if scope is not None and isinstance(scope.node, FUNCTION_TYPES):
            return scope.node
        return None

    def lookup(self, name: str, scope: Scope) -> Optional[List[Binding]]:
        """The bindings `name` refers to from `scope`, following Python's LEGB rule."""
        if name in scope.global_names:
            return self.module_scope.bindings.get(name)
        current: Optional[Scope] = scope
        first = True
        while current is not None:
            if (first or not current.is_class) and name in current.bindings:
                return current.bindings[name]
            first = False
            current = current.parent
        return None

    def binding(self, name: str, at: ast.AST) -> Optional[Binding]:
        """The single binding of `name` seen from `at`, or None when absent or ambiguous."""
        return _single(self.lookup(name, self.scope_of(at)))

    # ---- qualified names ----------------------------------------------------------------

    def qualified(self, expr: ast.AST, _depth: int = 0) -> Optional[str]:
        """`asyncio.create_task` for `aio.create_task` after `import asyncio as aio`; else None.

        Names defined at module level resolve to `<module>.<name>`; unbound names that are
        builtins to `builtins.<name>`. Anything uncertain is None.
        """
        if _depth > 8:
            return None
        if isinstance(expr, ast.Name):
            # Rules ask this of the same name many times: kept once its node is linked (its
            # scope is then final), unless it is an alias, whose value may not be linked yet.
            memo = self._qualified_names
            if expr in memo:
                return memo[expr]
            bindings = self.lookup(expr.id, self.scope_of(expr))
            if bindings is None:
                result = f"builtins.{expr.id}" if expr.id in _BUILTIN_NAMES else None
            else:
                found = _single(bindings)
                if found is None:
                    result = None
                elif found.kind == Binding.IMPORT:
                    result = found.target
                elif found.kind in (Binding.FUNCTION, Binding.CLASS):
                    result = self._definition_name(found.node)
                elif found.kind == Binding.VALUE and isinstance(found.node, (ast.Name, ast.Attribute)):
                    return self.qualified(found.node, _depth + 1)  # an alias: `spawn = asyncio.create_task`
                else:
                    result = None
            if expr in self.parents:
                memo[expr] = result
            return result
        if isinstance(expr, ast.Attribute):
            base = self.qualified(expr.value, _depth + 1)
            return f"{base}.{expr.attr}" if base else None
        return None

    def qualified_def(self, node: ast.AST) -> str:
        """The qualified name of a def or class, as `__qualname__` spells it after the module
        (`pkg.mod.Outer.method`, `pkg.mod.f.<locals>.g`)."""
        cached = self._qualified_defs.get(node)
        if cached is not None:
            return cached
        parts = [node.name]  # type: ignore[attr-defined]
        scope = self.scopes.get(node)
        parent = scope.parent if scope else None
        while parent is not None and parent.node is not self.tree:
            if isinstance(parent.node, ast.ClassDef):
                parts.append(parent.node.name)
            elif isinstance(parent.node, FUNCTION_TYPES):
                parts.extend(("<locals>", parent.node.name))
            else:  # a lambda
                parts.extend(("<locals>", "<lambda>"))
            parent = parent.parent
        prefix = self.module_name + "." if self.module_name else ""
        name = self._qualified_defs[node] = prefix + ".".join(reversed(parts))
        return name

    def _definition_name(self, node: ast.AST) -> Optional[str]:
        parts = [node.name]  # type: ignore[attr-defined]
        scope = self.scopes.get(node)
        parent = scope.parent if scope else None
        while parent is not None and parent.node is not self.tree:
            if not isinstance(parent.node, ast.ClassDef):
                return None  # local to a function: no stable qualified name
            parts.append(parent.node.name)
            parent = parent.parent
        prefix = self.module_name + "." if self.module_name else ""
        return prefix + ".".join(reversed(parts))

    # ---- functions and classes ----------------------------------------------------------

    def function_def(self, func: ast.expr) -> Optional[FunctionNode]:
        """The `def` in this module that calling `func` runs, when certain."""
        if isinstance(func, ast.Name):
            found = self.binding(func.id, func)
            if found is not None and found.kind == Binding.FUNCTION:
                return found.node  # type: ignore[return-value]
            return None
        if not isinstance(func, ast.Attribute):
            return None
        owner = self.class_of_receiver(func.value)
        if owner is None:
            return None
        return self.method(owner, func.attr)

    def class_of_receiver(self, expr: ast.expr) -> Optional[ast.ClassDef]:
        """The module-level class an expression is an instance (or the class) of, when known.

        `self`/`cls` inside a method, `super()` (the first base), a class name, a local
        bound once to `ClassName(...)`, or `self.attr` assigned `ClassName(...)` in the class.
        """
        if isinstance(expr, ast.Call) and isinstance(expr.func, ast.Name) and expr.func.id == "super":
            own = self.enclosing_class(expr)
            return self._first_local_base(own) if own is not None else None
        if isinstance(expr, ast.Name):
            method = self.enclosing_function(expr)
            if method is not None and self._is_self_param(method, expr.id):
                return self.enclosing_class(method)
            found = self.binding(expr.id, expr)
            if found is None:
                return None
            if found.kind == Binding.CLASS:
                return found.node  # type: ignore[return-value]
            if found.kind == Binding.VALUE:
                return self._class_of_value(found.node)
            return None
        if isinstance(expr, ast.Attribute) and isinstance(expr.value, ast.Name):
            method = self.enclosing_function(expr)
            if method is not None and self._is_self_param(method, expr.value.id):
                owner = self.enclosing_class(method)
                if owner is not None:
                    values = self.scopes[owner].self_attrs.get(expr.attr, [])
                    classes = {id(self._class_of_value(v)) for v in values}
                    if len(values) >= 1 and len(classes) == 1:
                        return self._class_of_value(values[0])
        return None

    def _class_of_value(self, value: Optional[ast.AST]) -> Optional[ast.ClassDef]:
        if isinstance(value, ast.Call) and isinstance(value.func, ast.Name):
            found = self.binding(value.func.id, value.func)
            if found is not None and found.kind == Binding.CLASS:
                return found.node  # type: ignore[return-value]
        return None

    def instance_type(self, expr: ast.expr) -> Optional[str]:
        """Qualified name of the class `expr` was made from, when bound once to `Cls(...)`.

        Covers locals (`pool = ThreadPoolExecutor()`, `with Pool() as pool`) and attributes
        assigned in the class's methods (`self._pool = ThreadPoolExecutor()`).
        """
        values: Sequence[ast.AST] = ()
        if isinstance(expr, ast.Call):
            values = (expr,)
        elif isinstance(expr, ast.Name):
            found = self.binding(expr.id, expr)
            if found is not None and found.kind == Binding.VALUE and found.node is not None:
                values = (found.node,)
        elif isinstance(expr, ast.Attribute) and isinstance(expr.value, ast.Name):
            method = self.enclosing_function(expr)
            if method is not None and self._is_self_param(method, expr.value.id):
                owner = self.enclosing_class(method)
                if owner is not None:
                    values = self.scopes[owner].self_attrs.get(expr.attr, ())
        kinds = {self.qualified(v.func) if isinstance(v, ast.Call) else None for v in values}
        if len(kinds) == 1:
            return next(iter(kinds))
        return None

    def enclosing_class(self, node: ast.AST) -> Optional[ast.ClassDef]:
        """The class a method belongs to (the class directly around its def)."""
        function = node if isinstance(node, FUNCTION_TYPES) else self.enclosing_function(node)
        if function is None:
            return None
        scope = self.scopes.get(function)
        parent = scope.parent if scope is not None else None
        return parent.node if parent is not None and parent.is_class else None  # type: ignore[return-value]

    def method(self, cls: ast.ClassDef, name: str, bases_only: bool = False) -> Optional[FunctionNode]:
        """The def that attribute `name` of `cls` (or, with `bases_only`, of its bases: what
        `super()` sees) certainly is, in depth-first method resolution order over this
        module's classes. None when absent or uncertain: bound another way, hidden by an
        instance attribute of that name, or possibly defined by a base this module cannot see
        that comes first."""
        found = self._lookup_in_bases(cls, name, set()) if bases_only else self._lookup(cls, name, set())
        return found if isinstance(found, FUNCTION_TYPES) else None

    def _lookup(self, cls: ast.ClassDef, name: str, seen: set):
        """The def, None (absent) or _UNCERTAIN."""
        if id(cls) in seen:
            return None
        seen.add(id(cls))
        scope = self.scopes.get(cls)
        if scope is None or name in scope.self_attrs:
            return _UNCERTAIN  # an instance attribute of that name hides the method
        bindings = scope.bindings.get(name)
        if bindings:
            nodes = {id(b.node) for b in bindings}
            if len(nodes) == 1 and bindings[0].kind == Binding.FUNCTION:
                return bindings[0].node
            return _UNCERTAIN
        return self._lookup_in_bases(cls, name, seen)

    def _lookup_in_bases(self, cls: ast.ClassDef, name: str, seen: set):
        for base in cls.bases:
            local = self._local_class(base)
            if local is None:
                target = base.value if isinstance(base, ast.Subscript) else base
                if self.qualified(target) in INERT_BASES:
                    continue
                return _UNCERTAIN  # an unseen base before any local one may define `name`
            found = self._lookup(local, name, seen)
            if found is not None:
                return found
        return None

    def _local_class(self, expr: ast.expr) -> Optional[ast.ClassDef]:
        if isinstance(expr, ast.Name):
            found = self.binding(expr.id, expr)
            if found is not None and found.kind == Binding.CLASS:
                return found.node  # type: ignore[return-value]
        return None

    def _first_local_base(self, cls: ast.ClassDef) -> Optional[ast.ClassDef]:
        for base in cls.bases:
            local = self._local_class(base)
            if local is not None:
                return local
        return None

    @staticmethod
    def _is_self_param(function: FunctionNode, name: str) -> bool:
        params = function.args.posonlyargs + function.args.args
        if not params or params[0].arg != name:
            return False
        return not any(_decorator_name(d) == "staticmethod" for d in function.decorator_list)

    def is_coroutine_function(self, function: FunctionNode) -> bool:
        """True when calling `function` certainly returns a coroutine object."""
        if not isinstance(function, ast.AsyncFunctionDef) or contains_yield(function) or declares_async_iterator(function):
            return False
        for decorator in function.decorator_list:
            target = decorator.func if isinstance(decorator, ast.Call) else decorator
            if self.qualified(target) not in ASYNC_PRESERVING_DECORATORS:
                return False
        return True


    def is_registered_task(self, function: FunctionNode, queue: str) -> bool:
        """Whether the outermost decorator registers the sync `function` with `queue`'s broker,
        known from what the decorator resolves to, never from its spelling.

        Celery: `@app.task` / `@app.task(...)` where `app = celery.Celery(...)` in this module,
        and `@celery.shared_task`; Dramatiq: `@dramatiq.actor`. Only the outermost decorator
        makes the name a task object with `.delay`/`.send`; an `async def` is never one (both
        queues call their tasks as plain functions on a worker).
        """
        if not isinstance(function, ast.FunctionDef) or not function.decorator_list:
            return False
        decorator = function.decorator_list[0]
        target = decorator.func if isinstance(decorator, ast.Call) else decorator
        qualified = self.qualified(target)
        if queue == "celery":
            if qualified in CELERY_TASK_DECORATORS:
                return True
            return (
                isinstance(target, ast.Attribute)
                and target.attr == "task"
                and self.instance_type(target.value) in CELERY_APPS
            )
        if queue == "dramatiq":
            return qualified in DRAMATIQ_ACTOR_DECORATORS
        return False


CELERY_APPS = frozenset({"celery.Celery", "celery.app.Celery", "celery.app.base.Celery"})
CELERY_TASK_DECORATORS = frozenset({"celery.shared_task", "celery.app.shared_task"})
DRAMATIQ_ACTOR_DECORATORS = frozenset({"dramatiq.actor", "dramatiq.actor.actor"})


def _decorator_name(decorator: ast.expr) -> str:
    target = decorator.func if isinstance(decorator, ast.Call) else decorator
    if isinstance(target, ast.Name):
        return target.id
    if isinstance(target, ast.Attribute):
        return target.attr
    return ""


_ASYNC_ITERATORS = frozenset({"AsyncGenerator", "AsyncIterator", "AsyncIterable"})


def declares_async_iterator(function: FunctionNode) -> bool:
    """An `async def` stub annotated to return an async iterator: an abstract method whose
    overrides are async generators, so calling it gives one, not a coroutine."""
    returns = function.returns
    if not isinstance(function, ast.AsyncFunctionDef) or returns is None:
        return False
    if isinstance(returns, ast.Subscript):
        returns = returns.value
    if isinstance(returns, ast.Constant) and isinstance(returns.value, str):
        spelled = returns.value.split("[", 1)[0].rsplit(".", 1)[-1]
    else:
        spelled = last_name(returns)
    return spelled in _ASYNC_ITERATORS and is_stub(function)


def is_stub(function: ast.AST) -> bool:
    """Whether the body is only a docstring, `pass`, `...` or `raise NotImplementedError`."""
    return all(
        isinstance(s, (ast.Pass, ast.Raise)) or (isinstance(s, ast.Expr) and isinstance(s.value, ast.Constant))
        for s in getattr(function, "body", [])
    )


def contains_yield(function: FunctionNode) -> bool:
    """Whether `function` itself (not a nested def or lambda) yields."""
    for node in iter_own_nodes(function):
        if isinstance(node, (ast.Yield, ast.YieldFrom)):
            return True
    return False


def iter_own_nodes(function: ast.AST) -> Iterator[ast.AST]:
    """Every node in a function's body, not descending into nested defs, classes or lambdas."""
    body = getattr(function, "body", [])
    stack: List[ast.AST] = list(body) if isinstance(body, list) else [body]
    while stack:
        node = stack.pop()
        yield node
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef, ast.Lambda)):
            if not isinstance(node, ast.Lambda):
                stack.extend(node.decorator_list)
            continue
        stack.extend(ast.iter_child_nodes(node))


def _single(bindings: Optional[List[Binding]]) -> Optional[Binding]:
    """The one binding `bindings` all repeat, or None when there are none or they differ."""
    if not bindings:
        return None
    first = bindings[0]
    for other in bindings[1:]:
        if (other.kind, other.target, other.node) != (first.kind, first.target, first.node):
            return None
    return first


def _record_assigned_attrs(targets: List[ast.expr], scope: Scope) -> None:
    """`x.attr = ...` (also inside a tuple target): the names whose attributes are assigned."""
    for target in targets:
        if isinstance(target, ast.Name):
            continue  # most targets: nothing's attribute is assigned
        for item in ast.walk(target):
            if isinstance(item, ast.Attribute) and isinstance(item.value, ast.Name):
                scope.assigned_attrs.setdefault(item.value.id, set()).add(item.attr)


class _ScopeBuilder:
    """Statement-level walk that records bindings per scope."""

    def __init__(self, resolver: NameResolver) -> None:
        self.resolver = resolver

    def build(self, node: ast.AST, scope: Scope) -> None:
        body = getattr(node, "body", [])
        self.statements(body, scope)

    def new_scope(self, node: ScopeNode, parent: Scope) -> Scope:
        scope = Scope(node, parent)
        self.resolver.scopes[node] = scope
        return scope

    def statements(self, body: List[ast.stmt], scope: Scope) -> None:
        for stmt in body:
            self.statement(stmt, scope)

    def statement(self, stmt: ast.stmt, scope: Scope) -> None:
        # One handler per statement class (ast.parse makes no subclasses); statements that
        # bind nothing and hold no statements have none.
        handler = _STATEMENT_HANDLERS.get(stmt.__class__)
        if handler is not None:
            handler(self, stmt, scope)

    def _expression(self, stmt: ast.Expr, scope: Scope) -> None:
        self.record_setattr(stmt.value, scope)  # the most common statement: binds nothing

    def _assign(self, stmt: ast.Assign, scope: Scope) -> None:
        _record_assigned_attrs(stmt.targets, scope)
        self.record_setattr(stmt.value, scope)
        single = len(stmt.targets) == 1
        for target in stmt.targets:
            self.bind_target(target, scope, stmt.value if single else None)
            if scope.receiver is not None:
                self.record_self_attribute(target, stmt.value if single else None, scope)

    def _annotated_assign(self, stmt: ast.AnnAssign, scope: Scope) -> None:
        _record_assigned_attrs([stmt.target], scope)
        self.bind_target(stmt.target, scope, stmt.value)
        if scope.receiver is not None:
            self.record_self_attribute(stmt.target, stmt.value, scope, stmt.annotation)

    def _augmented_assign(self, stmt: ast.AugAssign, scope: Scope) -> None:
        _record_assigned_attrs([stmt.target], scope)
        self.bind_target(stmt.target, scope, None)
        if scope.receiver is not None:
            self.record_self_attribute(stmt.target, None, scope)

    def _function(self, stmt: FunctionNode, scope: Scope) -> None:
        scope.bind(stmt.name, Binding(Binding.FUNCTION, node=stmt))
        inner = self.new_scope(stmt, scope)
        args = stmt.args
        for arg in (*args.posonlyargs, *args.args, *args.kwonlyargs, args.vararg, args.kwarg):
            if arg is not None:
                inner.bind(arg.arg, Binding(Binding.PARAM, node=arg))
        if scope.is_class and stmt.args.posonlyargs + stmt.args.args:
            inner.receiver = (stmt.args.posonlyargs + stmt.args.args)[0].arg
        self.statements(stmt.body, inner)

    def _class(self, stmt: ast.ClassDef, scope: Scope) -> None:
        scope.bind(stmt.name, Binding(Binding.CLASS, node=stmt))
        self.statements(stmt.body, self.new_scope(stmt, scope))

    def _import(self, stmt: ast.Import, scope: Scope) -> None:
        for alias in stmt.names:
            if alias.asname:
                scope.bind(alias.asname, Binding(Binding.IMPORT, alias.name))
            else:
                top = alias.name.split(".")[0]
                scope.bind(top, Binding(Binding.IMPORT, top))

    def _import_from(self, stmt: ast.ImportFrom, scope: Scope) -> None:
        module = self.resolver.absolute_module(stmt)
        for alias in stmt.names:
            if alias.name == "*":
                continue
            target = f"{module}.{alias.name}" if module else alias.name
            scope.bind(alias.asname or alias.name, Binding(Binding.IMPORT, target))

    def _return(self, stmt: ast.Return, scope: Scope) -> None:
        if stmt.value is not None:
            scope.returns.append(stmt.value)

    def _for(self, stmt, scope: Scope) -> None:
        self.bind_target(stmt.target, scope, None)
        self.statements(stmt.body, scope)
        self.statements(stmt.orelse, scope)

    def _with(self, stmt, scope: Scope) -> None:
        for item in stmt.items:
            self.record_setattr(item.context_expr, scope)
        for item in stmt.items:
            if item.optional_vars is not None:
                # `with Pool() as pool`: most context managers return themselves.
                self.bind_target(item.optional_vars, scope, item.context_expr)
        self.statements(stmt.body, scope)

    def _global(self, stmt: ast.Global, scope: Scope) -> None:
        scope.global_names.update(stmt.names)

    def _branches(self, stmt, scope: Scope) -> None:  # `if`, `while`
        self.statements(stmt.body, scope)
        self.statements(stmt.orelse, scope)

    def _try(self, stmt, scope: Scope) -> None:  # `try`, `try`/`except*`
        self.statements(stmt.body, scope)
        for handler in stmt.handlers:
            if handler.name:
                scope.bind(handler.name, Binding(Binding.OTHER))
            self.statements(handler.body, scope)
        self.statements(stmt.orelse, scope)
        self.statements(stmt.finalbody, scope)

    def _match(self, stmt, scope: Scope) -> None:
        for case in stmt.cases:
            for node in ast.walk(case.pattern):
                name = getattr(node, "name", None)
                if isinstance(name, str):
                    scope.bind(name, Binding(Binding.OTHER))
            self.statements(case.body, scope)

    @staticmethod
    def record_setattr(value: ast.expr, scope: Scope) -> None:
        """`setattr(obj, ...)`, `patch.object(obj, ...)`: any attribute of `obj` may change."""
        if not isinstance(value, ast.Call) or not value.args or not isinstance(value.args[0], ast.Name):
            return
        func = value.func
        spelled = last_name(func)
        if spelled in ("setattr", "object", "setitem"):
            scope.assigned_attrs.setdefault(value.args[0].id, set()).add("*")

    def bind_target(self, target: ast.expr, scope: Scope, value: Optional[ast.expr]) -> None:
        if isinstance(target, ast.Name):
            scope.bind(target.id, Binding(Binding.VALUE if value is not None else Binding.OTHER, node=value))
        elif isinstance(target, (ast.Tuple, ast.List)):
            starred = any(isinstance(e, ast.Starred) for e in target.elts)
            for index, element in enumerate(target.elts):
                if isinstance(element, ast.Name) and value is not None and not starred:
                    # `on_ok, on_err = make_callbacks()`: element `index` of the value
                    scope.bind(element.id, Binding(Binding.ITEM, node=value, index=index))
                else:
                    self.bind_target(element, scope, None)
        elif isinstance(target, ast.Starred):
            self.bind_target(target.value, scope, None)

    @classmethod
    def record_self_attribute(
        cls, target: ast.expr, value: Optional[ast.expr], method_scope: Scope, annotation: Optional[ast.expr] = None
    ) -> None:
        """Remember `self.x = value` in a method, on the class's scope (value None: unknown,
        as for `self.x += 1` or `self.x, self.y = pair`)."""
        if isinstance(target, (ast.Tuple, ast.List)):
            for element in target.elts:
                cls.record_self_attribute(element, None, method_scope)
            return
        if (
            isinstance(target, ast.Attribute)
            and isinstance(target.value, ast.Name)
            and target.value.id == method_scope.receiver
            and method_scope.parent is not None
        ):
            owner = method_scope.parent
            owner.self_assignments.append((target.attr, value, annotation, method_scope.node))
            if value is not None:
                owner.self_attrs.setdefault(target.attr, []).append(value)


_STATEMENT_HANDLERS: Dict[type, Callable[[_ScopeBuilder, Any, Scope], None]] = {
    ast.Expr: _ScopeBuilder._expression,
    ast.Assign: _ScopeBuilder._assign,
    ast.AnnAssign: _ScopeBuilder._annotated_assign,
    ast.AugAssign: _ScopeBuilder._augmented_assign,
    ast.FunctionDef: _ScopeBuilder._function,
    ast.AsyncFunctionDef: _ScopeBuilder._function,
    ast.ClassDef: _ScopeBuilder._class,
    ast.Import: _ScopeBuilder._import,
    ast.ImportFrom: _ScopeBuilder._import_from,
    ast.Return: _ScopeBuilder._return,
    ast.For: _ScopeBuilder._for,
    ast.AsyncFor: _ScopeBuilder._for,
    ast.With: _ScopeBuilder._with,
    ast.AsyncWith: _ScopeBuilder._with,
    ast.Global: _ScopeBuilder._global,
    ast.If: _ScopeBuilder._branches,
    ast.While: _ScopeBuilder._branches,
    ast.Try: _ScopeBuilder._try,
}
for _name, _handler in (("TryStar", _ScopeBuilder._try), ("Match", _ScopeBuilder._match)):
    if hasattr(ast, _name):  # newer syntax: 3.11 and 3.10
        _STATEMENT_HANDLERS[getattr(ast, _name)] = _handler
del _name, _handler
