"""References and values: the small language the semantic model reasons in.

A *reference* says how an expression was built, in terms that another module can finish
evaluating: `self.session.transport.send` inside `class Api` of `app.client` is

    ("attr", ("attr", ("attr", ("instance", ("def", "app.client.Api")), "session"), "transport"), "send")

References are plain tuples of strings, so module summaries pickle and cache cheaply:

    ("def", qualified)         a function or class defined in a summarised module
    ("global", dotted)         a name reached by import: a module, or a name inside one
    ("attr", base, name)       an attribute of what `base` is
    ("call", callee)           what calling `callee` returns
    ("instance", cls)          an instance of the class `cls` is (annotations, `self`)
    ("super", qualified)       `super()` in a method of the class `qualified`
    ("item", base, index)      element `index` of the tuple `base` is
    ("await", awaitable)       what awaiting it gives (an `async def`'s return annotation)
    ("type", kind)             a typing construct: "awaitable", "coroutine", "async-callable"
    ("unknown",)               anything else

A *value* is what a reference evaluates to: a module, a function, a class, an instance of a
class, a coroutine, a task, or unknown. Evaluation never guesses: where any step is
uncertain, the value is UNKNOWN, and no finding is made from it.
"""

from __future__ import annotations

from typing import NamedTuple, Optional, Tuple

Ref = tuple

UNKNOWN_REF: Ref = ("unknown",)


def def_ref(qualified: str) -> Ref:
    return ("def", qualified)


def global_ref(dotted: str) -> Ref:
    return ("global", dotted)


def attr_ref(base: Ref, name: str) -> Ref:
    return UNKNOWN_REF if base == UNKNOWN_REF else ("attr", base, name)


def call_ref(callee: Ref) -> Ref:
    return UNKNOWN_REF if callee == UNKNOWN_REF else ("call", callee)


def instance_ref(cls: Ref) -> Ref:
    return UNKNOWN_REF if cls == UNKNOWN_REF else ("instance", cls)


def item_ref(base: Ref, index: int) -> Ref:
    return UNKNOWN_REF if base == UNKNOWN_REF else ("item", base, index)


def spelled_ref(ref: Ref) -> str:
    """A short readable form of a reference, for messages: `Client.session.get`,
    `make_client().fetch`, `open` for the builtin."""
    kind = ref[0]
    if kind == "def":
        return ref[1].rsplit(".", 1)[-1]
    if kind == "global":
        return ref[1][len("builtins."):] if ref[1].startswith("builtins.") else ref[1]
    if kind == "attr":
        return f"{spelled_ref(ref[1])}.{ref[2]}"
    if kind == "call":
        return f"{spelled_ref(ref[1])}()"
    if kind == "await":
        return f"(await {spelled_ref(ref[1])})"
    if kind == "any" and ref[1]:
        return spelled_ref(ref[1][0])
    if kind == "instance":
        return spelled_ref(ref[1])
    if kind == "super":
        return "super()"
    return "?"


# ---- values -------------------------------------------------------------------------------


class Value(NamedTuple):
    """What a reference evaluates to.

    kind: "module", "function", "class", "instance", "coroutine", "task", "awaitable",
    "async-callable", "tuple", "unknown", or "deferred" (another module must decide).
    `name` is the qualified name of the module, function or class (for an instance: its
    class; for a coroutine or task: the function that made it). `bound` is True for a method
    reached through an instance. `items` holds a tuple's element references.
    """

    kind: str
    name: str = ""
    bound: bool = False
    items: Tuple[Ref, ...] = ()

    @property
    def certain(self) -> bool:
        return self.kind not in ("unknown", "deferred")


UNKNOWN = Value("unknown")
DEFERRED = Value("deferred")


def module_value(name: str) -> Value:
    return Value("module", name)


def function_value(name: str, bound: bool = False) -> Value:
    return Value("function", name, bound)


def class_value(name: str) -> Value:
    return Value("class", name)


def instance_value(cls: str) -> Value:
    return Value("instance", cls)


def coroutine_value(origin: str) -> Value:
    return Value("coroutine", origin)


def task_value(origin: str) -> Value:
    return Value("task", origin)


def only(values: Tuple[Value, ...]) -> Optional[Value]:
    """The one value when every candidate agrees, else None."""
    if not values:
        return None
    first = values[0]
    return first if all(v == first for v in values[1:]) else None
