"""What one module tells the rest of the program, as compact, picklable facts.

A `ModuleSummary` holds, for one module: its top-level names (each bound to one or more
references), its functions and methods (async or not, decorators, what they return, which
parameters they hand to which callee, what they start in the background, what they call),
and its classes (bases, methods, instance attributes with what they hold). Summaries are made
after the engine's pass, from the same tree, and joined by `ffscan.semantic.index`.
"""

from __future__ import annotations

import ast
from typing import TYPE_CHECKING, Dict, List, NamedTuple, Optional, Tuple

from ffscan.model import Finding
from ffscan.semantic.background import background_starts
from ffscan.semantic.bodies import is_broad_catch, may_raise, suspends
from ffscan.semantic.flow import Use, fate, name_loads
from ffscan.semantic.lifetime import work_lifetime
from ffscan.semantic.names import FUNCTION_TYPES, Binding, Scope, contains_yield, declares_async_iterator, is_stub, iter_own_nodes
from ffscan.semantic.reporting import logged_messages, reporter_call, spelled_reporter
from ffscan.semantic.stdlib import runs_awaitable, task_spawner
from ffscan.semantic.tasks import NON_KEEPING_METHODS, Hold, hold_of, is_looking_call
from ffscan.semantic.values import UNKNOWN_REF, Ref
from ffscan.semantic.work import work_facts

if TYPE_CHECKING:
    from ffscan.semantic.model import SemanticModel


class Entry(NamedTuple):
    """A background start: `api` runs `target` where no caller sees its errors."""

    api: str
    target: Ref
    coroutine: bool  # the target's coroutine runs as a task (else the target is called)
    line: int
    text: str  # the start as written, shortened, for the path in messages


class HandOff(NamedTuple):
    """A call that passes one of the function's parameters on: `callee(..., p, ...)`.

    `how` is "value" (the parameter itself) or "call" (`p(...)`: its result); `fate` is what
    becomes of the call's result: "dropped", "returned" or "kept".
    """

    callee: Ref
    position: int
    param: str
    how: str
    fate: str
    line: int


class FunctionFacts(NamedTuple):
    name: str  # qualified, as __qualname__ after the module
    line: int
    kind: str  # "coroutine", "async-generator", "generator" or "function"
    decorators: Tuple[Ref, ...]
    params: Tuple[str, ...]  # positional parameters, the receiver included
    method: str  # "instance", "class", "static", or "" for a plain function
    returns: Tuple[Ref, ...]  # what the return statements return
    falls_through: bool  # the end of the body can be reached (returns None)
    annotation: Ref  # the return annotation
    handoffs: Tuple[HandOff, ...]
    entries: Tuple[Entry, ...]
    calls: Tuple[Ref, ...]  # every callee, once
    # The parameters the function may keep past the call (stored, returned, handed on to
    # code that may keep them); None when unknown (no pass ran): any of them may be kept.
    keeps: Optional[Tuple[str, ...]] = None
    # For a coroutine function: what makes its work long-lived, as `semantic.lifetime` says it
    # ("loops forever (...)"), or "" for a short unit of work; None when not read (no pass
    # ran, or a plain def: threads started across modules are not followed).
    lifetime: Optional[str] = None
    # For an `async def`: whether its body may suspend (else a task running it finishes in
    # its first step), and whether it may end with an exception (see ffscan.semantic.bodies).
    suspends: bool = True
    raises: bool = True
    # Callees whose awaited result is itself run: `await (await f())`, `create_task(await f())`.
    awaits_twice: Tuple[Ref, ...] = ()
    # What its own body does (see work.py), summarised with the call edges: what it acquires
    # (`async with semaphore:`), the callees of calls no `try` of its own guards, and whether
    # it raises outside every such `try`.
    limiters: Tuple[Ref, ...] = ()
    exposed: Tuple[Ref, ...] = ()
    raises_unguarded: bool = False
    # For a plain def: the coroutine each task it returns runs (`return ensure_future(W(c))`).
    task_coroutines: Tuple[Ref, ...] = ()
    # For an `async def` that cannot end with an exception: whether a broad handler of its
    # own is why (its failures end there, not in the loop's log).
    catches_all: bool = False


class ClassFacts(NamedTuple):
    name: str
    line: int
    bases: Tuple[Ref, ...]
    methods: Dict[str, str]  # method name -> qualified function name
    attributes: Dict[str, Tuple[Ref, ...]]  # instance attributes: what is assigned or annotated
    class_vars: Dict[str, Tuple[Ref, ...]]  # other class-level bindings
    uncertain: bool  # a metaclass, __getattr__ or setattr may add attributes we cannot see


class ModuleSummary(NamedTuple):
    module: str
    is_package: bool
    symbols: Dict[str, Tuple[Ref, ...]]  # top-level name -> what each binding of it is
    functions: Dict[str, FunctionFacts]
    classes: Dict[str, ClassFacts]
    star_imports: Tuple[str, ...] = ()  # modules imported with `*`
    exports: Optional[Tuple[str, ...]] = None  # `__all__`, when a literal
    dynamic: bool = False  # a module-level `__getattr__`: any name may exist
    path: str = ""  # the file, as reports show it
    thread_hook: bool = False  # assigns `threading.excepthook`: thread failures reach its handler
    # (message, reporter, line) of each broad `except` that logs `message` and hands the
    # exception to `reporter` (see semantic/reporting.py)
    reported_failures: Tuple[Tuple[str, str, int], ...] = ()


class Deferred(NamedTuple):
    """A finding that stands only when the whole program answers `query` with True.

    `fields` fill the message once the answer is known (the answer can add its own).
    """

    finding: Finding
    query: tuple
    template: str = ""


# ---- making a summary -----------------------------------------------------------------------


def summarize_module(semantic: "SemanticModel", deep: bool = True, path: str = "", starts: bool = True) -> ModuleSummary:
    """The facts of the module `semantic` holds.

    Shallow facts (names, classes, functions, what they return) come from the resolver's
    statement-level walk. With `deep`, the engine's pass has linked every node and recorded
    every call: then background starts, hand-offs of parameters and call edges are summarised
    too (a file no rule traversed cannot start work the rules could see). Background starts and
    call edges are summarised only with `starts` (for the rules that follow background work).
    """
    names = semantic.names
    refs = semantic.refs
    functions: Dict[str, FunctionFacts] = {}
    classes: Dict[str, ClassFacts] = {}
    may_yield = "yield" in semantic.text
    for node, scope in list(names.scopes.items()):  # lambdas get their scopes on first use
        if isinstance(node, FUNCTION_TYPES):
            calls = semantic.calls_by_function.get(node, ()) if deep else ()
            facts = _function_facts(semantic, node, scope, calls, may_yield, deep, starts)
            functions[facts.name] = facts
        elif isinstance(node, ast.ClassDef):
            facts_c = _class_facts(semantic, node, scope)
            classes[facts_c.name] = facts_c
    module_scope = names.module_scope
    symbols: Dict[str, Tuple[Ref, ...]] = {}
    for name, bindings in module_scope.bindings.items():
        found: List[Ref] = []
        for binding in bindings:
            ref = refs.binding_ref(binding, name, module_scope, 0)
            if ref not in found:
                found.append(ref)
        symbols[name] = tuple(found)
    stars, exports = _stars_and_exports(semantic)
    return ModuleSummary(
        module=semantic.module_name,
        is_package=semantic.is_package,
        symbols=symbols,
        functions=functions,
        classes=classes,
        star_imports=stars,
        exports=exports,
        dynamic="__getattr__" in module_scope.bindings,
        path=path,
        thread_hook="excepthook" in semantic.text and _installs_thread_hook(semantic),
        reported_failures=_reported_failures(semantic),
    )


def _reported_failures(semantic: "SemanticModel") -> Tuple[Tuple[str, str, int], ...]:
    """Each failure a broad handler of the module both logs and reports: how the project
    wants that failure handled (see semantic/reporting.py)."""
    found: List[Tuple[str, str, int]] = []
    for handler in semantic.except_handlers:
        if not is_broad_catch(handler.type, semantic.names.qualified):
            continue
        call = reporter_call(handler)
        if call is not None:
            reporter = spelled_reporter(call)
            found.extend((message, reporter, handler.lineno) for message in logged_messages(handler))
    return tuple(found)


def _installs_thread_hook(semantic: "SemanticModel") -> bool:
    """Whether the module sets `threading.excepthook` (a crash reporter for every thread)."""
    for node in ast.walk(semantic.tree):
        if isinstance(node, ast.Assign):
            targets = node.targets
        else:
            targets = [node.target] if isinstance(node, ast.AnnAssign) else []
        for target in targets:
            if isinstance(target, ast.Attribute) and semantic.names.qualified(target) == "threading.excepthook":
                return True
    return False


def _function_facts(
    semantic: "SemanticModel", node, scope: Scope, calls, may_yield: bool, deep: bool, starts: bool
) -> FunctionFacts:
    names = semantic.names
    refs = semantic.refs
    outer = scope.parent or names.module_scope
    is_async = isinstance(node, ast.AsyncFunctionDef)
    generator = (may_yield and "yield" in semantic.segment(node) and contains_yield(node)) or declares_async_iterator(node)
    kind = ("async-generator" if generator else "coroutine") if is_async else ("generator" if generator else "function")
    decorators = tuple(refs.ref_of(d.func if isinstance(d, ast.Call) else d, outer) for d in node.decorator_list)
    method = ""
    if outer.is_class:
        method = "instance"
        if ("global", "builtins.staticmethod") in decorators:
            method = "static"
        elif ("global", "builtins.classmethod") in decorators:
            method = "class"
    params = tuple(a.arg for a in (*node.args.posonlyargs, *node.args.args))
    returns = tuple(_return_ref(semantic, node, value, scope, deep) for value in scope.returns) if not is_async else ()
    handoffs: List[HandOff] = []
    entries: List[Entry] = []
    callees: List[Ref] = []
    resolved: Dict[int, Ref] = {}  # id(call) -> its callee, for the work facts below
    param_names = set(params) | {a.arg for a in node.args.kwonlyargs}
    for call in calls:
        handed = param_names and call.args and any(_param_argument(a, param_names) for a in call.args)
        if not (starts or handed):
            continue
        callee = resolved[id(call)] = refs.ref_of(call.func, scope)
        if handed:
            handoffs.extend(_handoffs(semantic, call, callee, param_names))
        if not starts:
            continue
        if callee[0] != "unknown" and callee not in callees:
            callees.append(callee)
        for start in background_starts(semantic, call):
            target = refs.ref_of(start.target, scope)
            if target != UNKNOWN_REF:
                entries.append(Entry(start.api, target, start.coroutine, call.lineno, _short(semantic, call)))
    work = work_facts(semantic, node, scope, calls, resolved) if starts and deep else None
    body_raises = may_raise(node, names.qualified) if is_async else True
    return FunctionFacts(
        name=names.qualified_def(node),
        line=node.lineno,
        kind=kind,
        decorators=decorators,
        params=params,
        method=method,
        returns=returns,
        falls_through=_falls_through(node.body),
        annotation=refs.annotation_ref(node.returns, outer) if node.returns is not None else UNKNOWN_REF,
        handoffs=tuple(handoffs),
        entries=tuple(entries),
        calls=tuple(callees),
        keeps=_kept_params(semantic, node, param_names, scope.receiver or "") if deep else None,
        lifetime=work_lifetime(semantic, node).why if deep and kind == "coroutine" else None,
        # An empty method is a default meant to be overridden: what it does says nothing.
        suspends=suspends(node, semantic.waits_by_function.get(node, ()) if deep else None) or (bool(method) and is_stub(node))
        if is_async
        else True,
        raises=body_raises or (bool(method) and is_stub(node)) if is_async else True,
        awaits_twice=tuple(_awaited_twice(semantic, calls, scope)) if deep and is_async else (),
        limiters=work.limiters if work is not None else (),
        exposed=work.exposed if work is not None else (),
        raises_unguarded=work.raises_unguarded if work is not None else False,
        task_coroutines=_task_coroutines(semantic, scope) if not is_async else (),
        catches_all=is_async and not body_raises and _has_broad_handler(semantic, node),
    )


def _has_broad_handler(semantic: "SemanticModel", function) -> bool:
    return any(
        isinstance(n, ast.ExceptHandler) and is_broad_catch(n.type, semantic.names.qualified) for n in iter_own_nodes(function)
    )


def _task_coroutines(semantic: "SemanticModel", scope: Scope) -> Tuple[Ref, ...]:
    """The coroutine calls whose tasks the function returns: `W(coro)` in `return
    asyncio.ensure_future(W(coro))`, what a helper spawner's task runs."""
    found: List[Ref] = []
    for value in scope.returns:
        if not isinstance(value, ast.Call) or not value.args or not isinstance(value.args[0], ast.Call):
            continue
        if task_spawner(semantic, value) is None:
            continue
        ref = semantic.refs.ref_of(value.args[0], scope)
        if ref != UNKNOWN_REF and ref not in found:
            found.append(ref)
    return tuple(found)


def _awaited_twice(semantic: "SemanticModel", calls, scope: Scope):
    """The callees of `calls` whose awaited result is awaited again or handed to what runs it:
    such a callee is a deliberate pass-through of a coroutine."""
    seen: List[Ref] = []
    for call in calls:
        awaited = semantic.parent(call)
        if not isinstance(awaited, ast.Await) or not _runs(semantic, awaited):
            continue
        callee = semantic.refs.ref_of(call.func, scope)
        if callee != UNKNOWN_REF and callee not in seen:
            seen.append(callee)
    return seen


def _runs(semantic: "SemanticModel", value: ast.expr) -> bool:
    """Whether the value of `value` is awaited or handed to a call that runs an awaitable."""
    found = fate(semantic, value)
    if found.use is Use.AWAITED:
        return True
    if found.use is Use.PASSED and isinstance(found.node, ast.Call):
        return runs_awaitable(semantic, found.node)
    if found.use is Use.BOUND and isinstance(found.node, (ast.Assign, ast.AnnAssign)) and len(found.names) == 1:
        function = semantic.names.enclosing_function(found.node)
        if function is not None:
            return any(
                isinstance(semantic.parent(load), ast.Await)
                for load in name_loads(semantic, function).get(found.names[0], ())
            )
    return False


def _return_ref(semantic: "SemanticModel", function, value: ast.expr, scope: Scope, deep: bool) -> Ref:
    """What a `return` gives its caller. A local name the function also keeps somewhere (a set
    of running tasks, an attribute) is marked "kept": its caller need not hold it. Without the
    pass's links, whether a returned local is kept elsewhere cannot be told: unknown."""
    ref = semantic.refs.ref_of(value, scope)
    if not isinstance(value, ast.Name):
        return ref
    binding = semantic.names.lookup(value.id, scope)
    if binding and len(binding) == 1 and binding[0].kind == Binding.PARAM and scope.bindings.get(value.id) == binding:
        if ref == UNKNOWN_REF:
            return ("param", value.id)  # a decorator that hands back the function it was given
    if not binding or binding[0].kind != Binding.VALUE:
        return ref  # a parameter, an import, a def: returned as it came
    if ref[0] == "unknown":
        return ref
    if not deep:
        return UNKNOWN_REF
    handed: List[Tuple[Ref, int]] = []
    for load in name_loads(semantic, function).get(value.id, ()):
        if isinstance(semantic.parent(load), ast.Return):
            continue
        passed = _passed_to(semantic, load, scope)
        if passed is not None:
            handed.append(passed)
        elif hold_of(semantic, load)[0] is Hold.KEEPS and _keeps(semantic, load):
            return ("kept", ref)
    # Handed to functions it knows: kept only if one of them keeps its argument.
    return ("kept-if", ref, tuple(handed)) if handed else ref


def _keeps(semantic: "SemanticModel", load: ast.Name) -> bool:
    """Whether this read of a local may keep its value past the call: setting an attribute on
    it (`task.created = now`), a method that keeps nothing (`task.set_name(...)`) or a call
    that only looks (`log.info(..., task)`) does not."""
    parent = semantic.parent(load)
    if isinstance(parent, ast.Attribute):
        if isinstance(parent.ctx, ast.Store):
            return False
        call = semantic.parent(parent)
        return not (isinstance(call, ast.Call) and call.func is parent and parent.attr in NON_KEEPING_METHODS)
    if isinstance(parent, ast.Call) and load in parent.args and is_looking_call(semantic, parent):
        return False
    return True


def _passed_to(semantic: "SemanticModel", load: ast.Name, scope: Scope) -> Optional[Tuple[Ref, int]]:
    """(callee, position) when `load` is a positional argument of a call to a name the
    references can follow (a project function may tell whether it keeps it)."""
    call = semantic.parent(load)
    if not isinstance(call, ast.Call) or load not in call.args:
        return None
    if any(isinstance(a, ast.Starred) for a in call.args[: call.args.index(load)]):
        return None
    callee = semantic.refs.ref_of(call.func, scope)
    if callee[0] == "unknown" or hold_of(semantic, load)[0] is not Hold.KEEPS:
        return None  # unknown: `_keeps` decides; a logging call keeps nothing
    return callee, call.args.index(load)


def _kept_params(semantic: "SemanticModel", function, params: set, receiver: str) -> Tuple[str, ...]:
    """The parameters a read of which may keep them (see `_keeps`); the receiver is left out
    (a method keeping its own instance is not what callers ask)."""
    asked = params - {receiver}
    if not asked:
        return ()
    outer = semantic.cache.get("functions_with_nested")
    if outer is None:
        outer = semantic.cache["functions_with_nested"] = {id(p) for p in semantic.function_parents.values()}
    if id(function) in outer:
        return tuple(sorted(asked))  # read by a nested def or lambda: it may outlive the call
    kept: set = set()
    for load in semantic.loads_by_function.get(function, ()):
        name = load.id
        if name in asked and name not in kept and _keeps(semantic, load):
            kept.add(name)  # one read that keeps it is enough: its other reads are not asked
            if len(kept) == len(asked):
                break
    return tuple(sorted(kept))


def _param_argument(argument: ast.expr, param_names: set) -> bool:
    """`p` or `p(...)` for a parameter `p`."""
    if isinstance(argument, ast.Call):
        argument = argument.func
    return isinstance(argument, ast.Name) and argument.id in param_names


def _handoffs(semantic: "SemanticModel", call: ast.Call, callee: Ref, param_names: set):
    if callee == UNKNOWN_REF:
        return
    for position, argument in enumerate(call.args):
        how, param = "", ""
        if isinstance(argument, ast.Name) and argument.id in param_names:
            how, param = "value", argument.id
        elif isinstance(argument, ast.Call) and isinstance(argument.func, ast.Name) and argument.func.id in param_names:
            how, param = "call", argument.func.id
        if how:
            use = fate(semantic, call).use
            where = "dropped" if use is Use.DROPPED else "returned" if use is Use.RETURNED else "kept"
            yield HandOff(callee, position, param, how, where, call.lineno)


def _falls_through(body: List[ast.stmt]) -> bool:
    """Whether control can reach the end of `body` (a cheap, conservative reading)."""
    if not body:
        return True
    last = body[-1]
    if isinstance(last, (ast.Return, ast.Raise)):
        return False
    if isinstance(last, ast.If):
        return _falls_through(last.body) or _falls_through(last.orelse)
    if isinstance(last, ast.Try):
        return _falls_through(last.body + last.orelse) or any(_falls_through(h.body) for h in last.handlers)
    if isinstance(last, ast.While) and isinstance(last.test, ast.Constant) and last.test.value is True:
        return any(isinstance(n, ast.Break) for n in ast.walk(last))
    return True


def _class_facts(semantic: "SemanticModel", node: ast.ClassDef, scope: Scope) -> ClassFacts:
    names = semantic.names
    refs = semantic.refs
    outer = scope.parent or names.module_scope
    methods: Dict[str, str] = {}
    class_vars: Dict[str, List[Ref]] = {}
    attributes: Dict[str, List[Ref]] = {}
    for name, bindings in scope.bindings.items():
        for binding in bindings:
            if binding.kind == Binding.FUNCTION and len(bindings) == 1:
                methods[name] = names.qualified_def(binding.node)
            else:
                class_vars.setdefault(name, []).append(refs.binding_ref(binding, name, scope, 0))
    for statement in node.body:
        # `client: Client` in the class body (dataclasses, attrs, pydantic, plain annotations)
        if isinstance(statement, ast.AnnAssign) and isinstance(statement.target, ast.Name):
            _add(attributes, statement.target.id, refs.annotation_ref(statement.annotation, scope))
    for attribute, value, annotation, method in scope.self_assignments:
        if annotation is not None:
            _add(attributes, attribute, refs.annotation_ref(annotation, scope))
        elif value is None:
            _add(attributes, attribute, UNKNOWN_REF)
        elif not (isinstance(value, ast.Constant) and value.value is None):
            # `self.x = None` first, the real value later: None says nothing of the type
            _add(attributes, attribute, refs.ref_of(value, names.scopes[method]))
    keywords = {k.arg for k in node.keywords}
    return ClassFacts(
        name=names.qualified_def(node),
        line=node.lineno,
        bases=tuple(refs.ref_of(base.value if isinstance(base, ast.Subscript) else base, outer) for base in node.bases),
        methods=methods,
        attributes={k: tuple(v) for k, v in attributes.items()},
        class_vars={k: tuple(v) for k, v in class_vars.items()},
        uncertain="metaclass" in keywords or "__getattr__" in methods or "__getattribute__" in methods,
    )


def _add(table: Dict[str, List[Ref]], name: str, ref: Ref) -> None:
    found = table.setdefault(name, [])
    if ref not in found:
        found.append(ref)


def _stars_and_exports(semantic: "SemanticModel") -> Tuple[Tuple[str, ...], Optional[Tuple[str, ...]]]:
    stars: List[str] = []
    exports: Optional[Tuple[str, ...]] = None
    names = semantic.names
    for statement in semantic.tree.body:
        if isinstance(statement, ast.ImportFrom) and any(a.name == "*" for a in statement.names):
            stars.append(names.absolute_module(statement))
        elif isinstance(statement, ast.Assign) and any(isinstance(t, ast.Name) and t.id == "__all__" for t in statement.targets):
            value = statement.value
            if isinstance(value, (ast.List, ast.Tuple)) and all(
                isinstance(e, ast.Constant) and isinstance(e.value, str) for e in value.elts
            ):
                exports = tuple(e.value for e in value.elts)  # type: ignore[union-attr]
    return tuple(stars), exports


def _short(semantic: "SemanticModel", call: ast.Call) -> str:
    text = " ".join(semantic.segment(call).split())
    return text if len(text) <= 60 else text[:57] + "..."
