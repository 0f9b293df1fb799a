"""Fix builders shared by the rules: the shapes the tracked runtime needs, as text edits.

Every builder reads the same `ast` the rule checked and returns a `Fix` (or None when the
shape cannot be rewritten without changing more than it should). Nothing here edits a file:
`ffscan.fix` applies, verifies and writes.
"""

from __future__ import annotations

import ast
import json
import re
from typing import Callable, Dict, List, NamedTuple, Optional, Sequence, Tuple

from ffscan.model import Edit, Fix
from ffscan.semantic.lifetime import work_lifetime
from ffscan.semantic.model import SemanticModel
from ffscan.semantic.names import CELERY_APPS, FUNCTION_TYPES, Binding
from ffscan.semantic.spelling import last_name, spelled
from ffscan.semantic.values import UNKNOWN_REF, Ref

# Keywords of `TrackedQueue.spawn`/`submit` themselves: a job argument spelled the same would
# be taken by the queue (a test keeps this list equal to the runtime's signatures).
QUEUE_KEYWORDS = frozenset({"key", "priority", "name"})

# How each durable queue enqueues a registered task: `fn.delay(*args)`, `fn.send(*args)`.
DURABLE_METHODS = {"celery": "delay", "dramatiq": "send"}


# ---- names the rewrite may use ------------------------------------------------------------


def runtime_name(semantic: SemanticModel, name: str) -> Optional[str]:
    """The local name that means the runtime's `name` here, or None when that name is taken.

    An existing `from <runtime> import track as t` gives `t`; otherwise `track`, unless the
    module already uses `track` for something else (a function of its own, a loop variable),
    where the import would change what that name means.
    """
    known = semantic.cache.setdefault("fix_runtime_names", {})
    if name not in known:
        known[name] = _runtime_name(semantic, name)
    return known[name]


def _runtime_name(semantic: SemanticModel, name: str) -> Optional[str]:
    if name not in semantic.text or not re.search(rf"\b{re.escape(name)}\b", semantic.text):
        return name  # the word is nowhere in the module: free, and not imported yet
    used, imported = _module_names(semantic)
    if name in imported:
        return imported[name]
    return None if name in used else name


def runtime_imports(semantic: SemanticModel, name: str, local: str) -> Tuple[Tuple[str, str], ...]:
    """`from <runtime> import name`, unless an alias of it is imported already."""
    return ((semantic.settings.fix.runtime_module, name),) if local == name else ()


def _module_names(semantic: SemanticModel) -> Tuple[frozenset, Dict[str, str]]:
    """Every name the module binds or reads, and the runtime names it imports (name -> local)."""
    cached = semantic.cache.get("fix_module_names")
    if cached is not None:
        return cached["names"]
    runtime = semantic.settings.fix.runtime_module
    used: set = set()
    imported: Dict[str, str] = {}
    for node in ast.walk(semantic.tree):
        if isinstance(node, ast.Name):
            used.add(node.id)
        elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            used.add(node.name)
        elif isinstance(node, ast.arg):
            used.add(node.arg)
        elif isinstance(node, (ast.Global, ast.Nonlocal)):
            used.update(node.names)
        elif isinstance(node, ast.ExceptHandler) and node.name:
            used.add(node.name)
        elif isinstance(node, ast.ImportFrom) and not node.level and node.module == runtime:
            for alias in node.names:
                imported.setdefault(alias.name, alias.asname or alias.name)
        elif isinstance(node, (ast.Import, ast.ImportFrom)):
            for alias in node.names:
                used.add(alias.asname or alias.name.split(".")[0])
        elif isinstance(node, _MATCH_CAPTURES) and getattr(node, "name", None):
            used.add(node.name)  # type: ignore[attr-defined]
    found = (frozenset(used), imported)
    semantic.cache["fix_module_names"] = {"names": found}
    return found


# `case [*rest]` and `case Point() as p` bind names too (Python 3.10+).
_MATCH_CAPTURES = tuple(getattr(ast, name) for name in ("MatchAs", "MatchStar") if hasattr(ast, name))


# ---- where the node sits ------------------------------------------------------------------


def in_async_function(semantic: SemanticModel, node: ast.AST) -> bool:
    """Whether `node` runs in the body of an `async def` (a lambda or class ends the search)."""
    for ancestor in semantic.ancestors(node):
        if isinstance(ancestor, FUNCTION_TYPES):
            return isinstance(ancestor, ast.AsyncFunctionDef)
        if isinstance(ancestor, (ast.Lambda, ast.ClassDef)):
            return False
    return False


def can_await_here(semantic: SemanticModel, node: ast.AST) -> bool:
    """Whether `await` may be written at `node`: in an `async def`, outside a lambda, a class
    body and a generator expression (an `await` there turns it into an async generator, which
    `any()`, `list()` or a `for` loop can no longer consume)."""
    for ancestor in semantic.ancestors(node):
        if isinstance(ancestor, ast.GeneratorExp):
            return False
        if isinstance(ancestor, FUNCTION_TYPES):
            return isinstance(ancestor, ast.AsyncFunctionDef)
        if isinstance(ancestor, (ast.Lambda, ast.ClassDef)):
            return False
    return False


def is_dropped(semantic: SemanticModel, node: ast.AST) -> bool:
    """Whether `node` is a whole expression statement."""
    return isinstance(semantic.parent(node), ast.Expr)


# ---- edits ----------------------------------------------------------------------------------


def wrap(semantic: SemanticModel, node: ast.AST, name: str) -> Tuple[Edit, Edit]:
    """`name(<node>)`, keeping the node's own text (comments included) inside."""
    return Edit.insertion(semantic.start(node), f"{name}("), Edit.insertion(semantic.end(node), ")")


def replace(semantic: SemanticModel, node: ast.AST, content: str) -> Edit:
    return Edit.replacement(semantic.start(node), semantic.end(node), content)


def await_edits(semantic: SemanticModel, node: ast.expr) -> Tuple[Edit, ...]:
    """`await <node>`, in parentheses where the next operation would otherwise be awaited
    instead (`(await f()).x`, `(await f())[0]`, `(await f())()`)."""
    parent = semantic.parent(node)
    if isinstance(parent, (ast.Attribute, ast.Subscript)) and parent.value is node:
        return Edit.insertion(semantic.start(node), "(await "), Edit.insertion(semantic.end(node), ")")
    if isinstance(parent, ast.Call) and parent.func is node:
        return Edit.insertion(semantic.start(node), "(await "), Edit.insertion(semantic.end(node), ")")
    return (Edit.insertion(semantic.start(node), "await "),)


def await_fix(semantic: SemanticModel, call: ast.expr, title: str) -> Fix:
    """`await <call>`: unsafe where `await` may be written, display-only elsewhere (there the
    cure, a kept task or a synchronous version, is a design decision)."""
    edits = await_edits(semantic, call)
    if can_await_here(semantic, call):
        return Fix.unsafe(title, *edits)
    return Fix.display_only("Await the coroutine from an `async def` caller", *edits)


def track(semantic: SemanticModel, node: ast.expr, title: str) -> Optional[Fix]:
    """`track(<node>)`: same object, kept alive until done, its failure reported. Safe."""
    local = runtime_name(semantic, "track")
    if local is None:
        return None
    return Fix.safe(title, *wrap(semantic, node, local), imports=runtime_imports(semantic, "track", local))


def call_arguments_text(semantic: SemanticModel, call: ast.Call) -> str:
    """The source between a call's parentheses, exactly as written (comments included)."""
    after_func = semantic.text[semantic.offset(semantic.end(call.func)) : semantic.offset(semantic.end(call))]
    opened = after_func.index("(")
    return after_func[opened + 1 : -1]


def arguments_text(semantic: SemanticModel, nodes: Sequence[ast.AST]) -> str:
    """`a, *b, k=1` from argument nodes (expressions and keywords), in source order."""
    ordered = sorted(nodes, key=lambda n: (n.lineno, n.col_offset))  # type: ignore[attr-defined]
    return ", ".join(semantic.segment(n) for n in ordered)


def _joined(first: str, rest: str) -> str:
    """`first, rest` for an argument list, keeping the rest's own layout when it has one."""
    if not rest.strip():
        return first
    return f"{first},{rest}" if rest[:1].isspace() else f"{first}, {rest}"


def coroutine_call_parts(call: ast.Call) -> Optional[ast.Call]:
    """For `spawner(fn(a, b=1))`: the inner call, when nothing else is passed to the spawner
    and no argument of it would collide with the queue's own keywords."""
    if len(call.args) != 1 or call.keywords or isinstance(call.args[0], ast.Starred):
        return None
    inner = call.args[0]
    if not isinstance(inner, ast.Call):
        return None
    if any(keyword.arg in QUEUE_KEYWORDS for keyword in inner.keywords):
        return None
    return inner


# ---- which remedy: a slot on the bounded queue, or a task of its own --------------------------

# asyncio.Protocol callbacks: a task started from one runs once per connection event, and
# belongs to that connection (its frames in order, for as long as it lives).
PROTOCOL_CALLBACKS = frozenset(
    {
        "connection_made", "connection_lost", "data_received", "eof_received", "datagram_received",
        "error_received", "buffer_updated", "pause_writing", "resume_writing",
    }
)
KEEP_TITLE = "Wrap the task in `track(...)`"


class Work(NamedTuple):
    """What the work a fix would move is. `kind`: "short" (a unit of work: an e-mail, a cache
    refresh, a webhook), "long" (it waits on others; `why` says how), "unknown", or "ask": a
    function of another module, whose summary the index reads (`ref`)."""

    kind: str
    name: str  # the function, as written at the call
    why: str = ""
    ref: Ref = UNKNOWN_REF


def work_of(semantic: SemanticModel, func: ast.expr, site: ast.AST, coroutine: bool) -> Work:
    """What the function `func` does when `site` starts it (as a task when `coroutine`, else on
    a thread): read from its body when this module defines it, else asked of the index."""
    if isinstance(func, ast.Call) and semantic.names.qualified(func.func) == "functools.partial" and func.args:
        func = func.args[0]  # `partial(fn, x)` runs `fn`
    name = spelled(func)
    callback = _protocol_callback(semantic, site)
    if callback is not None:
        return Work("long", name, f"starts once per connection event, from `{callback}`")
    function = semantic.names.function_def(func)
    if function is not None:
        if isinstance(function, ast.AsyncFunctionDef) != coroutine:
            return Work("unknown", name)  # a factory of coroutines, or a coroutine function on a thread
        lifetime = work_lifetime(semantic, function)
        return Work("long", name, lifetime.why) if lifetime.long else Work("short", name)
    if isinstance(func, (ast.Name, ast.Attribute)):
        ref = semantic.refs.ref_of(func, semantic.names.scope_of(func))
        if ref != UNKNOWN_REF:
            return Work("ask", name, ref=ref)
    return Work("unknown", name)


def _protocol_callback(semantic: SemanticModel, site: ast.AST) -> Optional[str]:
    function = semantic.names.enclosing_function(site)
    if function is not None and function.name in PROTOCOL_CALLBACKS and semantic.names.enclosing_class(function) is not None:
        return function.name
    return None


def remedies(
    work: Work,
    on_queue: Callable[[str], Optional[Fix]],
    queue_title: str,
    kept: Optional[Callable[[str], Optional[Fix]]] = None,
    kept_title: str = KEEP_TITLE,
) -> List[Fix]:
    """The fixes for work that could go on the bounded queue, best first, each titled with the
    remedy and why: the queue only for short work; long-lived or unknown work keeps its own
    task (`kept`, when there is such a fix), since a slot it holds while it waits stalls every
    other job of the queue. For another module's function, every choice is offered needing the
    index's answer, and exactly one of them stands."""
    if work.kind == "ask":
        # Every title is formatted once with the answer's fields: braces of code are doubled.
        name, queue_title, kept_title = (_braces(text) for text in (f"`{work.name}`", queue_title, kept_title))
    else:
        name = f"`{work.name}`"
    short = f"{queue_title}: {name} is a short unit of work (it neither loops nor waits on what it did not make)"
    unknown = f"{kept_title}, off the bounded queue: ffscan cannot read {name}, which may wait on others"
    keep = kept or (lambda title: None)
    if work.kind == "short":
        return first(on_queue(short), keep(kept_title))
    if work.kind == "long":
        return first(keep(f"{kept_title}, off the bounded queue: {name} {work.why}"))
    if work.kind == "unknown":
        return first(keep(unknown))
    choices = [
        ("short", on_queue(short)),
        ("short", keep(kept_title)),
        ("long", keep(f"{kept_title}, off the bounded queue: {name} {{why}}")),
        ("unknown", keep(unknown)),
    ]
    return [fix.needing(("work-is", work.ref, kind)) for kind, fix in choices if fix is not None]


def _braces(text: str) -> str:
    """`text` as it reads after `str.format` (titles needing an answer are formatted once)."""
    return text.replace("{", "{{").replace("}", "}}")


def queue_target(semantic: SemanticModel) -> Optional[Tuple[str, Tuple[Tuple[str, str], ...], str]]:
    """Where fixes spawn onto: (the expression, the imports it needs, the queue's name).

    `background` by default; `queue("emails")` with `[tool.ffscan.fix] queue = "emails"`.
    None where the module already uses the runtime's name for something else.
    """
    chosen = semantic.settings.fix.queue or "background"
    runtime = "background" if chosen == "background" else "queue"
    local = runtime_name(semantic, runtime)
    if local is None:
        return None
    expression = local if runtime == "background" else f"{local}({json.dumps(chosen)})"
    return expression, runtime_imports(semantic, runtime, local), chosen


def spawn_on_queue(semantic: SemanticModel, call: ast.Call, title: str) -> Optional[Fix]:
    """`background.spawn(fn, *args)` for `create_task(fn(*args))`. Unsafe: timing and retries."""
    inner = coroutine_call_parts(call)
    target = queue_target(semantic)
    if inner is None or target is None:
        return None
    expression, imports, _ = target
    content = f"{expression}.spawn({_joined(semantic.segment(inner.func), call_arguments_text(semantic, inner))})"
    return Fix.unsafe(title, replace(semantic, call, content), imports=imports)


def queued_work(semantic: SemanticModel, call: ast.Call) -> Optional[Work]:
    """What `create_task(fn(*args))` runs, for the choice of remedy: `fn`'s work, or for
    `create_task(asyncio.to_thread(fn, *args))` the work of the plain function `fn`."""
    inner = coroutine_call_parts(call)
    if inner is None:
        return None
    if semantic.names.qualified(inner.func) == "asyncio.to_thread":
        if not inner.args or isinstance(inner.args[0], ast.Starred):
            return None
        return work_of(semantic, inner.args[0], call, coroutine=False)
    return work_of(semantic, inner.func, call, coroutine=True)


def queue_title(semantic: SemanticModel, verb: str = "Run it") -> str:
    """`Run it on the tracked queue `background``, naming the queue fixes spawn onto."""
    return f"{verb} on the tracked queue `{semantic.settings.fix.queue or 'background'}`"


def keyword(call: ast.Call, name: str) -> Optional[ast.keyword]:
    for item in call.keywords:
        if item.arg == name:
            return item
    return None


def thread_job_parts(thread_call: ast.Call) -> Optional[Tuple[ast.expr, Tuple[ast.expr, ...]]]:
    """For `Thread(target=f, args=(a, b))` (optionally `daemon=...`): (`f`, the args `a, b`).

    Only that exact shape: a name, a group, positional arguments or other keywords would be
    lost or mean something else on a pool thread.
    """
    if thread_call.args or any(item.arg is None for item in thread_call.keywords):
        return None
    names = {item.arg for item in thread_call.keywords}
    if "target" not in names or not names <= {"target", "args", "daemon"}:
        return None
    target = keyword(thread_call, "target").value  # type: ignore[union-attr]
    if isinstance(target, ast.Lambda):
        return None  # `submit(lambda: ...)` works, but keep the person's shape readable
    args_keyword = keyword(thread_call, "args")
    arguments: Tuple[ast.expr, ...] = ()
    if args_keyword is not None:
        value = args_keyword.value
        if not isinstance(value, (ast.Tuple, ast.List)) or any(isinstance(e, ast.Starred) for e in value.elts):
            return None
        arguments = tuple(value.elts)
    return target, arguments


def dropped_start(semantic: SemanticModel, thread_call: ast.Call) -> Optional[ast.Call]:
    """The `.start()` call of the statement `Thread(...).start()`, given its `Thread(...)`."""
    attribute = semantic.parent(thread_call)
    if not (isinstance(attribute, ast.Attribute) and attribute.value is thread_call and attribute.attr == "start"):
        return None
    start = semantic.parent(attribute)
    if isinstance(start, ast.Call) and not start.args and not start.keywords and is_dropped(semantic, start):
        return start
    return None


def started_thread_on_queue(semantic: SemanticModel, thread_call: ast.Call, title: str) -> Optional[Fix]:
    """`background.submit(f, a)` for the statement `Thread(target=f, args=(a,)).start()`. Unsafe."""
    start = dropped_start(semantic, thread_call)
    parts = thread_job_parts(thread_call)
    target = queue_target(semantic)
    if start is None or parts is None or target is None:
        return None
    func, args = parts
    expression, imports, _ = target
    content = f"{expression}.submit({_joined(semantic.segment(func), arguments_text(semantic, args))})"
    return Fix.unsafe(title, replace(semantic, start, content), imports=imports)


def callback_on_queue(semantic: SemanticModel, callback: ast.expr, title: str) -> Optional[Fix]:
    """`loop.call_soon(background.spawn, fn, x)` for `loop.call_soon(fn, x)`. Unsafe.

    The loop calls `background.spawn(fn, x)` inside the running loop, which starts `fn(x)` as
    a tracked job, where before it built a coroutine and dropped it.
    """
    target = queue_target(semantic)
    if target is None:
        return None
    expression, imports, _ = target
    edit = Edit.insertion(semantic.start(callback), f"{expression}.spawn, ")
    return Fix.unsafe(title, edit, imports=imports)


# ---- a durable queue the project already uses (`[tool.ffscan.fix] durable-target`) ----------


class DurableTask(NamedTuple):
    """A task registered with the configured durable queue: how it is enqueued (`delay`,
    `send`), and the question the index must answer yes to when its app is imported from
    another module (None when this module tells)."""

    method: str
    requires: Optional[tuple] = None


def durable_task(semantic: SemanticModel, func: ast.expr) -> Optional[DurableTask]:
    """The durable task `func` names: a module-level sync def whose outermost decorator
    registers it with the configured queue, known from what the decorator resolves to (a
    local `app = Celery(...)`, `celery.shared_task`, `dramatiq.actor`, or `@app.task` of an
    app another module of the project makes with `Celery(...)`). None otherwise: a parameter
    or local of the same name, a rebinding, an import, a method, another library's `@x.task`
    (huey, rocketry, prefect): the task object is not certain."""
    target = semantic.settings.fix.durable_target
    if target not in DURABLE_METHODS or not isinstance(func, ast.Name):
        return None
    names = semantic.names
    function = names.function_def(func)
    if not isinstance(function, ast.FunctionDef) or names.scope_of(function) is not names.module_scope:
        return None
    if names.is_registered_task(function, target):
        return DurableTask(DURABLE_METHODS[target])
    app = _imported_app(semantic, function) if target == "celery" else None
    if app is None:
        return None
    return DurableTask(DURABLE_METHODS[target], ("made-by", app, tuple(sorted(CELERY_APPS))))


def _imported_app(semantic: SemanticModel, function: ast.FunctionDef) -> Optional[Ref]:
    """For `@app.task` / `@app.task(...)` where `app` is imported: the reference to that name."""
    decorator = function.decorator_list[0] if function.decorator_list else None
    target = decorator.func if isinstance(decorator, ast.Call) else decorator
    if not (isinstance(target, ast.Attribute) and target.attr == "task" and isinstance(target.value, ast.Name)):
        return None
    binding = semantic.names.lookup(target.value.id, semantic.names.module_scope)
    if not binding or len(binding) != 1 or binding[0].kind != Binding.IMPORT or not binding[0].target:
        return None
    return ("global", binding[0].target)


def durable_call(
    semantic: SemanticModel,
    node: ast.AST,
    func: ast.expr,
    task: DurableTask,
    args: Sequence[ast.AST],
    title: str,
    on_loop: bool = False,
) -> Optional[Fix]:
    """`func.<method>(*args)` in place of `node`, or `enqueue(func, *args)` on an event loop
    (in `async def` code, or where `on_loop` says the original call was a loop's own API).
    Unsafe: the job now runs in another process, later, with its arguments serialised.

    `.delay()`/`.send()` is a synchronous call to the broker: on an event loop it stalls every
    other request while the broker answers, and raises into the handler when it is down. There
    the runtime's `enqueue()` makes that call on a worker thread, retried and never raising
    into the caller. None when an argument is not known to serialise (JSON, the brokers'
    default): a value of unknown type would raise in the caller, where the original call ran
    it in process.
    """
    if not all(is_serialisable(semantic, a.value if isinstance(a, ast.keyword) else a, node) for a in args):
        return None
    if on_loop or in_async_function(semantic, node):
        local = runtime_name(semantic, "enqueue")
        if local is None:
            return None
        content = f"{local}({_joined(semantic.segment(func), arguments_text(semantic, args))})"
        fix = Fix.unsafe(title, replace(semantic, node, content), imports=runtime_imports(semantic, "enqueue", local))
    else:
        fix = Fix.unsafe(title, replace(semantic, node, f"{semantic.segment(func)}.{task.method}({arguments_text(semantic, args)})"))
    return fix.needing(task.requires) if task.requires is not None else fix


# ---- is a value known to serialise? -----------------------------------------------------------

_SERIALISABLE_ANNOTATIONS = frozenset({"int", "str", "float", "bool", "None"})
_SERIALISING_CALLS = frozenset({"builtins.int", "builtins.str", "builtins.float", "builtins.bool", "builtins.len", "builtins.round"})
_COLLECTIONS = frozenset({"list", "List", "Sequence", "Iterable", "Collection", "set", "Set", "frozenset", "FrozenSet", "tuple", "Tuple"})


def is_serialisable(semantic: SemanticModel, expr: ast.expr, at: ast.AST, depth: int = 0) -> bool:
    """Whether `expr` certainly gives a JSON value: a literal (numbers, strings, booleans, None,
    and lists, tuples and string-keyed dicts of them), `int(...)`/`str(...)`-like calls, a
    parameter annotated `int`, `str`, `float` or `bool` (or `Optional` of one), an element of
    a parameter annotated as a collection of those, or a local bound once to one of these.
    A parameter of unknown type, an attribute (`order.id`), anything else: not known."""
    if depth > 4:
        return False
    if isinstance(expr, ast.Constant):
        return expr.value is None or isinstance(expr.value, (str, int, float, bool))
    if isinstance(expr, ast.JoinedStr):
        return True
    if isinstance(expr, ast.UnaryOp) and isinstance(expr.op, (ast.USub, ast.UAdd)):
        return isinstance(expr.operand, ast.Constant) and isinstance(expr.operand.value, (int, float))
    if isinstance(expr, (ast.List, ast.Tuple)):
        return all(is_serialisable(semantic, e, at, depth + 1) for e in expr.elts)
    if isinstance(expr, ast.Dict):
        return all(isinstance(k, ast.Constant) and isinstance(k.value, str) for k in expr.keys) and all(
            is_serialisable(semantic, v, at, depth + 1) for v in expr.values
        )
    if isinstance(expr, ast.Call):
        return semantic.names.qualified(expr.func) in _SERIALISING_CALLS
    if isinstance(expr, ast.Name):
        return _serialisable_name(semantic, expr, at, depth)
    return False


def _serialisable_name(semantic: SemanticModel, name: ast.Name, at: ast.AST, depth: int) -> bool:
    binding = semantic.names.binding(name.id, at)
    if binding is None:
        return False
    if binding.kind == Binding.PARAM:
        return _primitive_annotation(getattr(binding.node, "annotation", None))
    if binding.kind == Binding.VALUE and isinstance(binding.node, ast.expr):
        return is_serialisable(semantic, binding.node, at, depth + 1)
    if binding.kind == Binding.OTHER:
        # `for url in urls` over a parameter annotated `list[str]`
        for ancestor in semantic.ancestors(at):
            if isinstance(ancestor, ast.For) and isinstance(ancestor.target, ast.Name) and ancestor.target.id == name.id:
                iterable = ancestor.iter
                if not isinstance(iterable, ast.Name):
                    return False
                found = semantic.names.binding(iterable.id, ancestor)
                if found is None or found.kind != Binding.PARAM:
                    return False
                return _primitive_elements(getattr(found.node, "annotation", None))
            if isinstance(ancestor, FUNCTION_TYPES):
                break
    return False


def _annotation_expr(annotation: Optional[ast.expr]) -> Optional[ast.expr]:
    if isinstance(annotation, ast.Constant) and isinstance(annotation.value, str):
        try:
            return ast.parse(annotation.value, mode="eval").body
        except SyntaxError:  # a string annotation that is no expression: nothing known
            return None
    return annotation


def _primitive_annotation(annotation: Optional[ast.expr]) -> bool:
    annotation = _annotation_expr(annotation)
    if isinstance(annotation, ast.Name):
        return annotation.id in _SERIALISABLE_ANNOTATIONS
    if isinstance(annotation, ast.Constant):
        return annotation.value is None
    if isinstance(annotation, ast.BinOp) and isinstance(annotation.op, ast.BitOr):
        return _primitive_annotation(annotation.left) and _primitive_annotation(annotation.right)
    if isinstance(annotation, ast.Subscript) and last_name(annotation.value) in ("Optional", "Union"):
        inner = annotation.slice
        options = inner.elts if isinstance(inner, ast.Tuple) else [inner]
        return all(_primitive_annotation(option) for option in options)
    return False


def _primitive_elements(annotation: Optional[ast.expr]) -> bool:
    annotation = _annotation_expr(annotation)
    if not (isinstance(annotation, ast.Subscript) and last_name(annotation.value) in _COLLECTIONS):
        return False
    inner = annotation.slice
    options = [e for e in inner.elts if not (isinstance(e, ast.Constant) and e.value is Ellipsis)] if isinstance(inner, ast.Tuple) else [inner]
    return bool(options) and all(_primitive_annotation(option) for option in options)


def submitted_on_durable(semantic: SemanticModel, call: ast.Call, title: str) -> Optional[Fix]:
    """`fn.delay(a)` for the statement `executor.submit(fn, a)` or `loop.run_in_executor(ex, fn, a)`."""
    if not isinstance(call.func, ast.Attribute) or not is_dropped(semantic, call):
        return None
    first = {"submit": 1, "run_in_executor": 2}.get(call.func.attr)
    if first is None or len(call.args) < first or any(isinstance(a, ast.Starred) for a in call.args[:first]):
        return None
    func = call.args[first - 1]
    task = durable_task(semantic, func)
    if task is None:
        return None
    # `loop.run_in_executor` runs on the loop's thread, in a sync callback as in `async def`.
    on_loop = call.func.attr == "run_in_executor"
    return durable_call(semantic, call, func, task, [*call.args[first:], *call.keywords], title, on_loop)


def keep_future(semantic: SemanticModel, call: ast.Call) -> List[Fix]:
    """The fixes for a dropped executor future, best first: the durable queue when the
    callable is a registered task, else `track(...)` around the future."""
    durable = submitted_on_durable(semantic, call, "Enqueue the registered task on the durable queue")
    return first(durable, track(semantic, call, "Wrap the future in `track(...)`"))


def started_thread_on_durable(semantic: SemanticModel, thread_call: ast.Call, title: str) -> Optional[Fix]:
    """`fn.delay(a)` for the statement `Thread(target=fn, args=(a,)).start()`."""
    start = dropped_start(semantic, thread_call)
    parts = thread_job_parts(thread_call)
    if start is None or parts is None:
        return None
    func, args = parts
    task = durable_task(semantic, func)
    if task is None:
        return None
    return durable_call(semantic, start, func, task, args, title)


def to_thread_on_durable(semantic: SemanticModel, call: ast.Call, title: str) -> Optional[Fix]:
    """`fn.delay(a)` for the statement `create_task(asyncio.to_thread(fn, a))`.

    The only asyncio shape a durable queue can take: a coroutine function cannot be a Celery
    or Dramatiq task, but the sync function `to_thread` runs can.
    """
    if semantic.settings.fix.durable_target not in DURABLE_METHODS or not is_dropped(semantic, call):
        return None
    inner = coroutine_call_parts(call)
    if inner is None or semantic.names.qualified(inner.func) != "asyncio.to_thread":
        return None
    if not inner.args or isinstance(inner.args[0], ast.Starred):
        return None
    func = inner.args[0]
    task = durable_task(semantic, func)
    if task is None:
        return None
    return durable_call(semantic, call, func, task, [*inner.args[1:], *inner.keywords], title, on_loop=True)


def bounded_spawn(semantic: SemanticModel, node: ast.Call, spawner: str) -> List[Fix]:
    """A spawn per item moved onto a queue whose workers bound it: the durable queue for a
    registered task, else the queue the remedy for the work chooses (FF501, FF503)."""
    title = queue_title(semantic) + ", which bounds concurrency"
    durable_title = "Enqueue the registered task on the durable queue, whose workers bound concurrency"
    if spawner == "threading.Thread":
        durable = started_thread_on_durable(semantic, node, durable_title)
        parts = thread_job_parts(node)
        if parts is None:
            return first(durable)
        work = work_of(semantic, parts[0], node, coroutine=False)
        return first(durable, *remedies(work, lambda t: started_thread_on_queue(semantic, node, t), title))
    if spawner in ("asyncio.create_task", "asyncio.ensure_future") and is_dropped(semantic, node) and in_async_function(semantic, node):
        durable = to_thread_on_durable(semantic, node, durable_title)
        work = queued_work(semantic, node)
        if work is None:
            return first(durable)
        return first(durable, *remedies(work, lambda t: spawn_on_queue(semantic, node, t), title))
    return []


def first(*fixes: Optional[Fix]) -> List[Fix]:
    """The fixes that could be built, in the order given (best first)."""
    return [fix for fix in fixes if fix is not None]
