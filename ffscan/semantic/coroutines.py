"""Shared by the FF1xx rules: which calls certainly make a coroutine, which expressions are
certainly coroutine functions.

`apis.coroutine_callee` answers the first question; this module adds the checks that keep it
certain on real code: a method name that an instance attribute may shadow (`self.on_data =
callback`, `client.send = Mock()`), and a method found in a local base class when a base
the resolver cannot see comes first in the method resolution order and may define it too.
"""

from __future__ import annotations

import ast
from typing import TYPE_CHECKING, Dict, Optional

from ffscan.semantic.catalogue import function_fact
from ffscan.semantic.names import FUNCTION_TYPES, Binding, FunctionNode
from ffscan.semantic.spelling import last_name, spelled
from ffscan.semantic.stdlib import coroutine_callee

if TYPE_CHECKING:
    from ffscan.semantic.model import SemanticModel



# Coroutine methods of asyncio's synchronisation primitives and queues, recognised on an
# instance the module builds itself (`self._queue = asyncio.Queue()`). Tornado's and
# trio's look-alikes are other classes, so they never match.
_ASYNCIO_PRIMITIVE_METHODS = {
    "Queue": frozenset({"put", "get", "join"}),
    "PriorityQueue": frozenset({"put", "get", "join"}),
    "LifoQueue": frozenset({"put", "get", "join"}),
    "Lock": frozenset({"acquire"}),
    "Semaphore": frozenset({"acquire"}),
    "BoundedSemaphore": frozenset({"acquire"}),
    "Event": frozenset({"wait"}),
    "Condition": frozenset({"acquire", "wait", "wait_for"}),
    "Barrier": frozenset({"wait", "reset", "abort"}),
}
_PRIMITIVE_MODULES = ("asyncio.", "asyncio.queues.", "asyncio.locks.")


def coroutine_call(semantic: "SemanticModel", call: ast.Call) -> Optional[str]:
    """A readable callee name when calling `call` certainly makes a coroutine, else None.

    Memoised per call node: several FF1 rules ask about the same call.
    """
    memo: Dict[ast.Call, Optional[str]] = semantic.cache.setdefault("ff1_coroutine_call", {})
    if call in memo:
        return memo[call]
    callee = coroutine_callee(semantic, call) or _primitive_method(semantic, call)
    func = call.func
    if callee is not None and isinstance(func, ast.Attribute) and semantic.names.function_def(func) is not None:
        if _method_def(semantic, func) is None:
            callee = None
    elif callee is None and isinstance(func, ast.Attribute):
        owner = _annotated_class(semantic, func.value)
        if owner is not None and not _attribute_assigned_on(semantic, func.value, func.attr):
            found = semantic.names.method(owner, func.attr)
            if isinstance(found, FUNCTION_TYPES) and semantic.names.is_coroutine_function(found):
                callee = spelled(func)
    memo[call] = callee
    return callee


def coroutine_query(semantic: "SemanticModel", call: ast.Call) -> Optional[tuple]:
    """The question whose yes makes `call` certainly a coroutine, for calls the module alone
    cannot settle as it reads them: methods of imported classes, attributes typed by
    annotations, factories, re-exported coroutine functions. None when nothing could make it
    one, or when an instance attribute of that name may hide the method. The callee may be
    a call itself: `sync_to_async(f)()` calls the async callable `sync_to_async` returns."""
    func = call.func
    if not isinstance(func, (ast.Name, ast.Attribute, ast.Call)):
        return None
    if isinstance(func, ast.Attribute) and _attribute_assigned_on(semantic, func.value, func.attr):
        return None  # `client.send = Mock()`: the class's method is not what runs
    ref = semantic.refs.ref_of(call, semantic.names.scope_of(call))
    if _root(ref) not in _FOLLOWED or _plain_builtin_call(ref):
        return None
    return ("coroutine", ref)


def coroutine_function_query(semantic: "SemanticModel", expr: ast.expr) -> Optional[tuple]:
    """The question whose yes makes `expr` certainly a coroutine function, for functions of
    other modules and methods the module alone cannot see."""
    if not isinstance(expr, (ast.Name, ast.Attribute)):
        return None
    if isinstance(expr, ast.Attribute) and _attribute_assigned_on(semantic, expr.value, expr.attr):
        return None
    ref = semantic.refs.ref_of(expr, semantic.names.scope_of(expr))
    if _root(ref) not in _FOLLOWED:
        return None
    return ("coroutine-function", ref)


_FOLLOWED = frozenset({"def", "global", "instance", "super", "any"})


def _plain_builtin_call(ref: tuple) -> bool:
    """`len(x)`, `str(x)`, `print(...)`: a builtin called directly makes no coroutine, and a
    third of the calls the FF1 rules ask about are these (no module can shadow `builtins`)."""
    if ref[0] != "call" or ref[1][0] != "global":
        return False
    name = ref[1][1]
    return name.startswith("builtins.") and function_fact(name) is None


def _root(ref: tuple) -> str:
    """What a reference starts from ("any": one of several candidates, each evaluated)."""
    while ref[0] in ("attr", "call", "item", "await"):
        ref = ref[1]
    return ref[0]


def _primitive_method(semantic: "SemanticModel", call: ast.Call) -> Optional[str]:
    """`queue.put(item)` on an `asyncio.Queue()`, `lock.acquire()` on an `asyncio.Lock()`, ..."""
    func = call.func
    if not isinstance(func, ast.Attribute) or not isinstance(func.value, (ast.Name, ast.Attribute, ast.Call)):
        return None
    if not any(func.attr in methods for methods in _ASYNCIO_PRIMITIVE_METHODS.values()):
        return None
    kind = semantic.names.instance_type(func.value)
    if kind is None:
        return None
    for prefix in _PRIMITIVE_MODULES:
        if kind.startswith(prefix) and func.attr in _ASYNCIO_PRIMITIVE_METHODS.get(kind[len(prefix):], ()):
            return f"{kind}.{func.attr}"
    return None


# Context managers under which a test expects a warning ("coroutine ... was never awaited")
# or an exception: code there drops coroutines on purpose, or the call itself is expected to
# raise (bad arguments) and a call that does not raise fails the test loudly anyway.
_EXPECTERS = frozenset(
    {
        "assertWarns", "assertWarnsRegex", "warns", "catch_warnings", "check_warnings",
        "deprecated_call", "assertRaises", "assertRaisesRegex", "raises",
    }
)


def expects_warning(semantic: "SemanticModel", node: ast.AST) -> bool:
    """Whether `node` runs inside `with self.assertWarns(...)`, `with pytest.warns(...)`,
    `with warnings.catch_warnings()`, `with pytest.raises(...)` or alike, in its own function."""
    for ancestor in semantic.ancestors(node):
        if isinstance(ancestor, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda, ast.ClassDef)):
            return False
        if isinstance(ancestor, (ast.With, ast.AsyncWith)):
            for item in ancestor.items:
                expr = item.context_expr
                func = expr.func if isinstance(expr, ast.Call) else expr
                spelled_as = last_name(func)
                if spelled_as in _EXPECTERS:
                    return True
    return False


def coroutine_function(semantic: "SemanticModel", expr: ast.expr) -> Optional[str]:
    """A readable name when `expr` is certainly a coroutine function (or a `functools.partial`
    of one), i.e. calling it makes a coroutine and nothing else."""
    names = semantic.names
    if isinstance(expr, ast.Call):
        if names.qualified(expr.func) == "functools.partial" and expr.args:
            inner = coroutine_function(semantic, expr.args[0])
            return f"partial({inner})" if inner is not None else None
        return None
    if not isinstance(expr, (ast.Name, ast.Attribute)):
        return None
    function = names.function_def(expr)
    if function is not None:
        if isinstance(expr, ast.Attribute) and _method_def(semantic, expr) is None:
            return None
        return spelled(expr) if names.is_coroutine_function(function) else None
    callee = names.qualified(expr)
    if callee is not None and callee in semantic.settings.coroutine_functions:
        return callee
    if isinstance(expr, ast.Attribute):
        # `loop.call_soon_threadsafe(queue.put, item)`: the bound method of an asyncio queue.
        return _primitive_method(semantic, ast.Call(func=expr, args=[], keywords=[]))
    return None


def _annotated_class(semantic: "SemanticModel", receiver: ast.expr) -> Optional[ast.ClassDef]:
    """The local class a parameter is annotated with (`def f(client: Client)`), when the
    parameter is never rebound."""
    if not isinstance(receiver, ast.Name):
        return None
    names = semantic.names
    found = names.binding(receiver.id, receiver)
    if found is None or found.kind != Binding.PARAM:
        return None
    function = names.enclosing_function(receiver)
    if function is None or receiver.id not in names.scopes[function].bindings:
        return None  # a closure's parameter: looked up elsewhere
    args = function.args
    for arg in (*args.posonlyargs, *args.args, *args.kwonlyargs):
        if arg.arg == receiver.id and arg.annotation is not None:
            annotation = arg.annotation
            if isinstance(annotation, ast.Constant) and isinstance(annotation.value, str):
                try:
                    annotation = ast.parse(annotation.value, mode="eval").body
                except SyntaxError:  # a string annotation that is not an expression: no class
                    return None
                return _class_named(semantic, annotation, receiver)
            return _class_named(semantic, annotation, receiver)
    return None


def _class_named(semantic: "SemanticModel", expr: ast.expr, at: ast.AST) -> Optional[ast.ClassDef]:
    if isinstance(expr, ast.Name):
        found = semantic.names.binding(expr.id, at)
        if found is not None and found.kind == Binding.CLASS:
            return found.node  # type: ignore[return-value]
    return None


def _method_def(semantic: "SemanticModel", func: ast.Attribute) -> Optional[FunctionNode]:
    """The method `func` runs, re-resolved with the shadowing and base-order checks."""
    names = semantic.names
    receiver = func.value
    if isinstance(receiver, ast.Call) and isinstance(receiver.func, ast.Name) and receiver.func.id == "super":
        own = names.enclosing_class(receiver)
        return names.method(own, func.attr, bases_only=True) if own is not None else None
    owner = names.class_of_receiver(receiver)
    if owner is None or _attribute_assigned_on(semantic, receiver, func.attr):
        return None
    return names.method(owner, func.attr)


def _attribute_assigned_on(semantic: "SemanticModel", receiver: ast.expr, attr: str) -> bool:
    """Whether the function around `receiver` assigns `<receiver name>.<attr>` (a mock or a
    callback put on one instance), which hides the class's method. For a name of the module,
    an assignment anywhere in the module counts."""
    if not isinstance(receiver, ast.Name):
        return False
    names = semantic.names
    function = names.enclosing_function(receiver)
    if function is not None:
        attrs = names.scopes[function].assigned_attrs.get(receiver.id, ())
        return attr in attrs or "*" in attrs
    everywhere = semantic.cache.get("assigned_attrs_anywhere")
    if everywhere is None:
        everywhere = {}
        for scope in names.scopes.values():
            for name, attrs in scope.assigned_attrs.items():
                everywhere.setdefault(name, set()).update(attrs)
        semantic.cache["assigned_attrs_anywhere"] = everywhere
    attrs = everywhere.get(receiver.id, ())
    return attr in attrs or "*" in attrs


