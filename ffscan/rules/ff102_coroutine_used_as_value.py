"""FF102 coroutine-used-as-value: a coroutine tested, compared, formatted or iterated."""

from __future__ import annotations

import ast
from typing import Optional

from ffscan.model import Applicability, Impact
from ffscan.rules import fixes
from ffscan.rules.base import Rule
from ffscan.semantic.coroutines import coroutine_call, expects_warning
from ffscan.semantic.stdlib import COROUTINE_WORDS

# Builtins that read a value's truth, text, size or items instead of awaiting it.
_VALUE_BUILTINS = frozenset(
    f"builtins.{name}"
    for name in (
        "bool", "str", "len", "format", "int", "float", "list", "tuple", "set", "frozenset",
        "sorted", "sum", "any", "all", "min", "max", "enumerate", "dict",
    )
)

# Parents that can use a call's value as one; anything else is not looked at further.
_CANDIDATE_PARENTS = (
    ast.BoolOp, ast.UnaryOp, ast.If, ast.While, ast.Assert, ast.IfExp, ast.Compare,
    ast.FormattedValue, ast.For, ast.AsyncFor, ast.comprehension, ast.Call, ast.BinOp,
)


class CoroutineUsedAsValue(Rule):
    """## What it does
    Finds a call that certainly makes a coroutine (see FF101) used where the awaited result was
    meant: the condition of an `if`, `while`, `assert` or conditional expression, an operand of
    `not`, `and`, `or` or a comparison, a value in an f-string, `str.format` or `%`-formatting,
    the iterable of a `for` loop or comprehension, a comprehension's `if`, or the argument of a
    builtin that reads truth, text, size or items (`bool()`, `str()`, `len()`, `list()`,
    `sorted()`, `any()`, ...).

    ## Why is this bad?
    A coroutine object is always true and never equal to the result it would produce, so the
    branch is decided before the function runs, and then the function never runs at all: the
    coroutine is dropped unawaited. `if await is_allowed(user)` written as `if
    is_allowed(user)` lets everyone in. Iterating it or taking its length raises `TypeError`
    far from the missing `await`. In a test, `assert client.is_ready()` passes whatever the
    client does.

    ## Example
    ```python
    async def is_banned(user):
        return await db.fetchval("SELECT banned FROM users WHERE id = $1", user.id)

    async def post_message(user, text):
        if not is_banned(user):
            await publish(text)
    ```

    ## Fix
    ```python
    async def post_message(user, text):
        if not await is_banned(user):
            await publish(text)
    ```

    ## Fix safety
    Unsafe, and offered only inside an `async def` (not in a lambda, a class body or a generator
    expression, where an `await` would make an async generator that `any()` or `list()` cannot
    read): `ffscan fix --unsafe-fixes` writes `await` in front of the call, in place. The
    condition now waits for the function and uses its real result, so the other branch may
    run, the function's work now happens, and what it raises reaches the caller. Outside
    `async def` the `await` is display-only: the caller has to become async or the function
    sync, a design decision.

    ## Known limits
    The same certainty limits as FF101. A coroutine passed to any other function (`print`,
    a logger, a user function) is assumed to be used on purpose.

    ## References
    - mypy issue 16921 and pyright issues 7853 and 9579: neither reports a coroutine used as a
      condition.
    """

    code = "FF102"
    name = "coroutine-used-as-value"
    subject = ("coroutine used as a value", "coroutines used as values")
    loss = "coroutine work never runs"
    triggers = COROUTINE_WORDS
    message = "Coroutine from `{callee}` is used in {where} without `await`; its body never runs"
    fix_title = "Await the coroutine before using its result"
    fix_applicability = Applicability.UNSAFE
    impacts = (Impact.NO_TRACKING, Impact.NO_ALERTING)
    risk = (
        "The condition or value is decided by a coroutine object instead of the function's result, "
        "so the code takes the wrong branch and the function's work never happens."
    )

    def visit_Call(self, node: ast.Call) -> None:
        if not isinstance(self.semantic.parent(node), _CANDIDATE_PARENTS):
            return
        where = self._value_use(node)
        if where is None:
            return
        callee = coroutine_call(self.semantic, node)
        if callee is not None and not expects_warning(self.semantic, node):
            fix = fixes.await_fix(self.semantic, node, "Await the coroutine and use its result")
            self.report(node, fixes=[fix], callee=callee, where=where)

    def _value_use(self, call: ast.Call) -> Optional[str]:
        """How the value of `call` is used as a value, or None when it is not."""
        semantic = self.semantic
        child: ast.AST = call
        parent = semantic.parent(call)
        while isinstance(parent, ast.BoolOp):
            if child is not parent.values[-1]:
                return "`and`/`or`"
            # The last operand is the BoolOp's own value: its fate decides.
            child, parent = parent, semantic.parent(parent)
        if parent is None:
            return None
        if isinstance(parent, ast.UnaryOp):
            return "`not`" if isinstance(parent.op, ast.Not) else None
        if isinstance(parent, (ast.If, ast.While, ast.Assert, ast.IfExp)):
            if child is not parent.test:
                return None
            return {ast.If: "an `if` condition", ast.While: "a `while` condition", ast.Assert: "an `assert`"}.get(
                type(parent), "a conditional expression"
            )
        if isinstance(parent, ast.Compare):
            return "a comparison"
        if isinstance(parent, ast.FormattedValue):
            return "an f-string" if child is parent.value else None
        if isinstance(parent, (ast.For, ast.AsyncFor)):
            return "a `for` loop" if child is parent.iter else None
        if isinstance(parent, ast.comprehension):
            return "a comprehension" if child is parent.iter or child in parent.ifs else None
        if isinstance(parent, ast.BinOp):
            if isinstance(parent.op, ast.Mod) and child is parent.right and _is_text(parent.left):
                return "`%`-formatting"
            return None
        if isinstance(parent, ast.Call) and child in parent.args:
            func = parent.func
            if isinstance(func, ast.Attribute) and func.attr == "format" and _is_text(func.value):
                return "`str.format`"
            qualified = self.names.qualified(func)
            if qualified in _VALUE_BUILTINS:
                return f"`{qualified[len('builtins.'):]}()`"
        return None


def _is_text(expr: ast.expr) -> bool:
    return isinstance(expr, ast.Constant) and isinstance(expr.value, str)
