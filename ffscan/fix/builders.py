"""libcst node builders shared by the rules' fixes: the shapes the tracked runtime needs."""

from __future__ import annotations

from typing import Optional, Tuple

import libcst as cst

from ffscan.model import Fix


def track(expr: cst.BaseExpression, runtime: str, title: str) -> Fix:
    """`track(<expr>)`: same object, kept alive until done, its failure reported. Safe."""
    wrapped = cst.Call(func=cst.Name("track"), args=[cst.Arg(value=expr)])
    return Fix.safe(title, {expr: wrapped}, imports=[(runtime, "track")])


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


def spawn_on_background(call: cst.Call, runtime: str, title: str, method: str = "spawn") -> Optional[Fix]:
    """`background.spawn(fn, *args)` for `create_task(fn(*args))`. Unsafe: timing and retries."""
    parts = coroutine_call_parts(call)
    if parts is None:
        return None
    func, args = parts
    first = cst.Arg(value=func, comma=cst.Comma(whitespace_after=cst.SimpleWhitespace(" "))) if args else cst.Arg(value=func)
    spawned = cst.Call(
        func=cst.Attribute(value=cst.Name("background"), attr=cst.Name(method)),
        args=[first, *args],
    )
    return Fix.unsafe(title, {call: spawned}, imports=[(runtime, "background")])


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


def queue_call(method: str, func: cst.BaseExpression, args: Tuple[cst.Arg, ...]) -> cst.Call:
    """`background.<method>(func, *args)`."""
    first = cst.Arg(value=func, comma=cst.Comma(whitespace_after=cst.SimpleWhitespace(" "))) if args else cst.Arg(value=func)
    return cst.Call(func=cst.Attribute(value=cst.Name("background"), attr=cst.Name(method)), args=[first, *args])


def started_thread_on_background(thread_call: cst.Call, fix_context, title: str) -> Optional[Fix]:
    """`background.submit(f, a)` for the statement `Thread(target=f, args=(a,)).start()`. Unsafe."""
    attribute = fix_context.parent(thread_call)
    if not (isinstance(attribute, cst.Attribute) and attribute.value is thread_call and attribute.attr.value == "start"):
        return None
    start = fix_context.parent(attribute)
    if not (isinstance(start, cst.Call) and not start.args and is_dropped(start, fix_context)):
        return None
    parts = thread_job_parts(thread_call)
    if parts is None:
        return None
    func, args = parts
    return Fix.unsafe(title, {start: queue_call("submit", func, args)}, imports=[(fix_context.runtime, "background")])


def await_expr(expr: cst.BaseExpression) -> cst.Await:
    return cst.Await(expression=expr)
