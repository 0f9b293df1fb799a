"""libcst node builders shared by the rules' fixes: the shapes the tracked runtime needs."""

from __future__ import annotations

from typing import Dict, List, Optional, Tuple

import libcst as cst

from ffscan.model import Fix


class _Names(cst.CSTVisitor):
    """Every name a module uses or binds, and what it imports from the runtime module."""

    def __init__(self, runtime: str) -> None:
        super().__init__()
        self.runtime = runtime
        self.used: set = set()
        self.imported: Dict[str, str] = {}  # runtime name -> local name

    def visit_ImportFrom(self, node: cst.ImportFrom) -> bool:
        if node.relative or node.module is None or isinstance(node.names, cst.ImportStar):
            return True
        if _dotted(node.module) != self.runtime:
            return True
        for alias in node.names:
            name = _dotted(alias.name)
            local = alias.asname.name.value if alias.asname is not None and isinstance(alias.asname.name, cst.Name) else name
            self.imported.setdefault(name, local)
        return False  # these names are the runtime's own

    def visit_Attribute(self, node: cst.Attribute) -> bool:
        node.value.visit(self)  # `obj.track` does not use the name `track`
        return False

    def visit_Arg(self, node: cst.Arg) -> bool:
        node.value.visit(self)  # nor does the keyword in `f(track=1)`
        return False

    def visit_Name(self, node: cst.Name) -> None:
        self.used.add(node.value)


def _dotted(node: cst.BaseExpression) -> str:
    if isinstance(node, cst.Name):
        return node.value
    if isinstance(node, cst.Attribute):
        return f"{_dotted(node.value)}.{node.attr.value}"
    return ""


def runtime_name(name: str, fix_context) -> Optional[str]:
    """The local name that means the runtime's `name` here, or None when that name is taken.

    An existing `from <runtime> import track as t` gives `t`; otherwise `track`, unless the
    module already uses `track` for something else (a function of its own, a loop variable),
    where the import would change what that name means.
    """
    names = getattr(fix_context, "_runtime_names", None)
    if names is None:
        names = _Names(fix_context.runtime)
        fix_context.wrapper.module.visit(names)
        fix_context._runtime_names = names
    if name in names.imported:
        return names.imported[name]
    return None if name in names.used else name


def track(expr: cst.BaseExpression, fix_context, title: str) -> Optional[Fix]:
    """`track(<expr>)`: same object, kept alive until done, its failure reported. Safe."""
    local = runtime_name("track", fix_context)
    if local is None:
        return None
    wrapped = cst.Call(func=cst.Name(local), args=[cst.Arg(value=expr)])
    return Fix.safe(title, {expr: wrapped}, imports=_imports(fix_context, "track", local))


def _imports(fix_context, name: str, local: str) -> list:
    """`from <runtime> import name` unless an alias of it is already imported."""
    return [(fix_context.runtime, name)] if local == name else []


def coroutine_call_parts(call: cst.Call) -> Optional[Tuple[cst.BaseExpression, Tuple[cst.Arg, ...]]]:
    """For `spawner(fn(a, b=1))`: (`fn`, its arguments), when nothing else is passed."""
    if len(call.args) != 1 or call.args[0].keyword is not None or call.args[0].star:
        return None
    inner = call.args[0].value
    if not isinstance(inner, cst.Call):
        return None
    if any(arg.keyword is not None and arg.keyword.value in ("key", "priority") for arg in inner.args):
        return None  # would collide with spawn()'s own keywords
    return inner.func, tuple(inner.args)


def spawn_on_background(call: cst.Call, fix_context, title: str, method: str = "spawn") -> Optional[Fix]:
    """`background.spawn(fn, *args)` for `create_task(fn(*args))`. Unsafe: timing and retries."""
    parts = coroutine_call_parts(call)
    local = runtime_name("background", fix_context)
    if parts is None or local is None:
        return None
    func, args = parts
    return Fix.unsafe(title, {call: queue_call(local, method, func, args)}, imports=_imports(fix_context, "background", local))


def in_async_function(node: cst.CSTNode, fix_context) -> bool:
    """Whether `node` runs in the body of an `async def` (a lambda or nested def ends the search)."""
    current = fix_context.parent(node)
    while current is not None:
        if isinstance(current, cst.FunctionDef):
            return current.asynchronous is not None
        if isinstance(current, (cst.Lambda, cst.ClassDef)):
            return False
        current = fix_context.parent(current)
    return False


def is_dropped(node: cst.CSTNode, fix_context) -> bool:
    """Whether `node` is a whole expression statement."""
    return isinstance(fix_context.parent(node), cst.Expr)


def wrap_call(name: str, expr: cst.BaseExpression) -> cst.Call:
    """`name(<expr>)`, keeping the expression's own parentheses and comments inside."""
    return cst.Call(func=cst.Name(name), args=[cst.Arg(value=expr)])


def keyword(call: cst.Call, name: str) -> Optional[cst.Arg]:
    for arg in call.args:
        if arg.keyword is not None and arg.keyword.value == name:
            return arg
    return None


def without_keyword(call: cst.Call, name: str) -> Optional[cst.Call]:
    """`call` without its `name=` argument (the comma before it moves to the new last one)."""
    target = keyword(call, name)
    if target is None:
        return None
    kept = [arg for arg in call.args if arg is not target]
    if kept and call.args[-1] is target:
        # the last argument keeps whatever trailing comma the removed one had
        kept[-1] = kept[-1].with_changes(comma=target.comma)
    return call.with_changes(args=kept)


def thread_job_parts(thread_call: cst.Call) -> Optional[Tuple[cst.BaseExpression, Tuple[cst.Arg, ...]]]:
    """For `Thread(target=f, args=(a, b))` (optionally `daemon=...`): (`f`, the args `a, b`).

    Only that exact shape: a name, a group, positional arguments or other keywords would be
    lost or mean something else on a pool thread.
    """
    if any(arg.keyword is None or arg.star for arg in thread_call.args):
        return None
    names = {arg.keyword.value for arg in thread_call.args if arg.keyword is not None}
    if "target" not in names or not names <= {"target", "args", "daemon"}:
        return None
    target = keyword(thread_call, "target")
    if isinstance(target.value, cst.Lambda):
        return None  # `submit(lambda: ...)` works, but keep the person's shape readable
    args_arg = keyword(thread_call, "args")
    arguments: Tuple[cst.Arg, ...] = ()
    if args_arg is not None:
        value = args_arg.value
        if not isinstance(value, (cst.Tuple, cst.List)):
            return None
        if any(not isinstance(element, cst.Element) for element in value.elements):
            return None  # a starred element
        arguments = tuple(
            cst.Arg(
                value=element.value,
                comma=cst.Comma(whitespace_after=cst.SimpleWhitespace(" ")) if index < len(value.elements) - 1 else cst.MaybeSentinel.DEFAULT,
            )
            for index, element in enumerate(value.elements)
        )
    return target.value, arguments


def queue_call(queue: str, method: str, func: cst.BaseExpression, args: Tuple[cst.Arg, ...]) -> cst.Call:
    """`<queue>.<method>(func, *args)`."""
    first = cst.Arg(value=func, comma=cst.Comma(whitespace_after=cst.SimpleWhitespace(" "))) if args else cst.Arg(value=func)
    return cst.Call(func=cst.Attribute(value=cst.Name(queue), attr=cst.Name(method)), args=[first, *args])


def _dropped_start(thread_call: cst.Call, fix_context) -> Optional[cst.Call]:
    """The `.start()` call of the statement `Thread(...).start()`, given its `Thread(...)`."""
    attribute = fix_context.parent(thread_call)
    if not (isinstance(attribute, cst.Attribute) and attribute.value is thread_call and attribute.attr.value == "start"):
        return None
    start = fix_context.parent(attribute)
    if isinstance(start, cst.Call) and not start.args and is_dropped(start, fix_context):
        return start
    return None


def started_thread_on_background(thread_call: cst.Call, fix_context, title: str) -> Optional[Fix]:
    """`background.submit(f, a)` for the statement `Thread(target=f, args=(a,)).start()`. Unsafe."""
    start = _dropped_start(thread_call, fix_context)
    if start is None:
        return None
    parts = thread_job_parts(thread_call)
    local = runtime_name("background", fix_context)
    if parts is None or local is None:
        return None
    func, args = parts
    return Fix.unsafe(title, {start: queue_call(local, "submit", func, args)}, imports=_imports(fix_context, "background", local))


def await_expr(expr: cst.BaseExpression) -> cst.Await:
    return cst.Await(expression=expr)


# --- a durable queue the project already uses (`[tool.ffscan.fix] durable-target`) ----------

# How each queue enqueues a registered task: `fn.delay(*args, **kwargs)`, `fn.send(...)`.
DURABLE_METHODS = {"celery": "delay", "dramatiq": "send"}


def _decorator_name(decorator: cst.Decorator) -> str:
    expr = decorator.decorator
    if isinstance(expr, cst.Call):
        expr = expr.func
    return _dotted(expr)


def is_registered_task(function: cst.FunctionDef, target: str) -> bool:
    """Whether the outermost decorator registers the sync `function` with `target`'s queue.

    Celery: `@<app>.task`, `@<app>.task(...)`, `@shared_task`, `@shared_task(...)`; Dramatiq:
    `@dramatiq.actor`, `@actor`, with or without arguments. Only the outermost decorator makes
    the name a task object with `.delay`/`.send`; an `async def` is never one (both queues
    call their tasks as plain functions on a worker).
    """
    if function.asynchronous is not None or not function.decorators:
        return False
    name = _decorator_name(function.decorators[0])
    if target == "celery":
        return name == "shared_task" or name.endswith((".task", ".shared_task"))
    if target == "dramatiq":
        return name in ("actor", "dramatiq.actor")
    return False


def durable_method(func: cst.BaseExpression, fix_context) -> Optional[str]:
    """`delay`/`send` when `func` is a name whose only binding is a module-level def registered
    with the configured durable queue; None otherwise (a parameter or local of the same name,
    a rebinding, an import, a method: the task object is not certain)."""
    target = getattr(fix_context, "durable_target", None)
    if target not in DURABLE_METHODS or not isinstance(func, cst.Name):
        return None
    from libcst.metadata import GlobalScope, ScopeProvider

    scopes = fix_context.wrapper.resolve(ScopeProvider)
    scope = scopes.get(func)
    scope = scope() if callable(scope) else scope
    if scope is None:
        return None
    assignments = list(scope[func.value])
    if len(assignments) != 1:
        return None
    assignment = assignments[0]
    node = getattr(assignment, "node", None)
    if not isinstance(node, cst.FunctionDef) or not isinstance(assignment.scope, GlobalScope):
        return None
    if not is_registered_task(node, target):
        return None
    if target == "celery" and _decorator_name(node.decorators[0]).endswith(".task") and _imports_huey(fix_context):
        return None  # huey also spells it `@huey.task()`, and its tasks have no `.delay`
    return DURABLE_METHODS[target]


def _imports_huey(fix_context) -> bool:
    finder = _ImportsHuey()
    fix_context.wrapper.module.visit(finder)
    return finder.found


class _ImportsHuey(cst.CSTVisitor):
    def __init__(self) -> None:
        super().__init__()
        self.found = False

    def visit_Import(self, node: cst.Import) -> None:
        if any(_dotted(alias.name).split(".")[0] == "huey" for alias in node.names):
            self.found = True

    def visit_ImportFrom(self, node: cst.ImportFrom) -> None:
        if not node.relative and node.module is not None and _dotted(node.module).split(".")[0] == "huey":
            self.found = True


def durable_call(func: cst.Name, method: str, args) -> cst.Call:
    """`func.<method>(*args)`."""
    return cst.Call(func=cst.Attribute(value=func, attr=cst.Name(method)), args=list(args))


def submitted_on_durable(call: cst.Call, fix_context, title: str) -> Optional[Fix]:
    """`fn.delay(a)` for the statement `executor.submit(fn, a)` or `loop.run_in_executor(ex, fn, a)`.

    Unsafe: the job now runs in another process, later, with its arguments serialised.
    """
    if not isinstance(call.func, cst.Attribute) or not is_dropped(call, fix_context):
        return None
    first = {"submit": 1, "run_in_executor": 2}.get(call.func.attr.value)
    if first is None or len(call.args) < first or any(arg.star or arg.keyword is not None for arg in call.args[:first]):
        return None
    func = call.args[first - 1].value
    method = durable_method(func, fix_context)
    if method is None:
        return None
    return Fix.unsafe(title, {call: durable_call(func, method, call.args[first:])})


def started_thread_on_durable(thread_call: cst.Call, fix_context, title: str) -> Optional[Fix]:
    """`fn.delay(a)` for the statement `Thread(target=fn, args=(a,)).start()`. Unsafe."""
    start = _dropped_start(thread_call, fix_context)
    if start is None:
        return None
    parts = thread_job_parts(thread_call)
    if parts is None:
        return None
    func, args = parts
    method = durable_method(func, fix_context)
    if method is None:
        return None
    return Fix.unsafe(title, {start: durable_call(func, method, args)})


def to_thread_on_durable(call: cst.Call, fix_context, title: str) -> Optional[Fix]:
    """`fn.delay(a)` for the statement `create_task(asyncio.to_thread(fn, a))`. Unsafe.

    The only asyncio shape a durable queue can take: a coroutine function cannot be a Celery
    or Dramatiq task, but the sync function `to_thread` runs can.
    """
    if getattr(fix_context, "durable_target", None) not in DURABLE_METHODS or not is_dropped(call, fix_context):
        return None
    parts = coroutine_call_parts(call)
    if parts is None:
        return None
    runner, args = parts
    if not args or args[0].star or args[0].keyword is not None:
        return None
    from libcst.metadata import QualifiedNameProvider

    names = fix_context.wrapper.resolve(QualifiedNameProvider).get(runner, set())
    names = names() if callable(names) else names  # newer libcst resolves it lazily
    if {name.name for name in names} != {"asyncio.to_thread"}:
        return None
    func = args[0].value
    method = durable_method(func, fix_context)
    if method is None:
        return None
    return Fix.unsafe(title, {call: durable_call(func, method, args[1:])})


def can_await_here(node: cst.CSTNode, fix_context) -> bool:
    """Whether `await` may be written at `node`: in an `async def`, outside a lambda, a class
    body and a generator expression (an `await` there turns it into an async generator, which
    `any()`, `list()` or a `for` loop can no longer consume)."""
    current = fix_context.parent(node)
    while current is not None:
        if isinstance(current, cst.GeneratorExp):
            return False
        if isinstance(current, cst.FunctionDef):
            return current.asynchronous is not None
        if isinstance(current, (cst.Lambda, cst.ClassDef)):
            return False
        current = fix_context.parent(current)
    return False


def callback_on_background(api_call: cst.Call, callback: cst.Arg, fix_context, title: str) -> Optional[Fix]:
    """`loop.call_soon(background.spawn, fn, x)` for `loop.call_soon(fn, x)`. Unsafe.

    The loop calls `background.spawn(fn, x)` inside the running loop, which starts `fn(x)` as
    a tracked job, where before it built a coroutine and dropped it.
    """
    local = runtime_name("background", fix_context)
    if local is None:
        return None
    spawn = cst.Arg(
        value=cst.Attribute(value=cst.Name(local), attr=cst.Name("spawn")),
        comma=cst.Comma(whitespace_after=cst.SimpleWhitespace(" ")),
    )
    args = []
    for arg in api_call.args:
        if arg is callback:
            args.append(spawn)
        args.append(arg)
    return Fix.unsafe(title, {api_call: api_call.with_changes(args=args)}, imports=_imports(fix_context, "background", local))


def track_fixes(node: cst.CSTNode, fix_context, title: str) -> List[Fix]:
    """The one fix of rules whose remedy is `track(<the call>)`: safe, or none for other nodes."""
    if not isinstance(node, cst.Call):
        return []
    fix = track(node, fix_context, title)
    return [fix] if fix is not None else []
