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
