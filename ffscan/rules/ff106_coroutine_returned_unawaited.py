"""FF106 coroutine-returned-unawaited: an `async def` that returns a coroutine it never awaits."""

from __future__ import annotations

import ast
from typing import Iterator

from ffscan.model import Applicability, Impact
from ffscan.rules import fixes
from ffscan.rules.base import Rule
from ffscan.semantic.coroutines import coroutine_call, coroutine_query, expects_warning, spelled
from ffscan.semantic.stdlib import ASYNC_PRESERVING_DECORATORS, COROUTINE_WORDS

# Return annotations that say the function hands back an awaitable on purpose.
_AWAITABLE_TYPES = ("Awaitable", "Coroutine", "Future", "Task")


class CoroutineReturnedUnawaited(Rule):
    """## What it does
    Finds `return f(...)` inside an `async def`, where the call certainly makes a coroutine
    (see FF101): the function's caller awaits it and gets that coroutine object back instead
    of the result. Not reported when the function's return annotation says it returns an
    awaitable (`-> Awaitable[...]`, `-> Coroutine[...]`), when a decorator the model does not
    know may change what it returns, or when some caller in the program awaits the result a
    second time (`await (await f())`, `create_task(await f())`): a deliberate pass-through.

    ## Why is this bad?
    `await get_user(id)` on `async def get_user(id): return db.fetch_user(id)` gives the caller
    a coroutine, not a user: the query never runs, the caller's next line fails far from the
    cause ("'coroutine' object has no attribute 'name'"), or, worse, tests the coroutine for
    truth and takes the wrong branch. Python warns "coroutine ... was never awaited" only when
    the object is garbage-collected.

    ## Example
    ```python
    async def load_profile(user_id):
        return fetch_profile(user_id)  # `fetch_profile` is an `async def`
    ```

    ## Fix
    ```python
    async def load_profile(user_id):
        return await fetch_profile(user_id)
    ```
    Or, when the function only picks which coroutine to run, make it a plain `def`.

    ## Fix safety
    Unsafe: `ffscan fix --unsafe-fixes` writes `await` after `return`. The coroutine now runs
    inside the function, and the caller gets its result and sees what it raises instead of a
    coroutine object: that is what `await load_profile(...)` meant, but code that relied on
    receiving the coroutine changes.

    ## Known limits
    Only the returned call itself (or a branch of a conditional expression) is checked, not a
    name bound to a coroutine and returned later. Callers that await twice are recognised only
    when they write it in one expression, or bind the first result to a name they await.
    """

    code = "FF106"
    name = "coroutine-returned-unawaited"
    subject = ("coroutine returned unawaited", "coroutines returned unawaited")
    loss = "coroutine work never runs"
    triggers = COROUTINE_WORDS
    message = (
        "`async def {function}` returns the coroutine from `{callee}` without awaiting it; "
        "its caller's `await` gets a coroutine object and the work never runs"
    )
    fix_title = "Await the coroutine before returning it"
    fix_applicability = Applicability.UNSAFE
    impacts = (Impact.NO_TRACKING, Impact.NO_ALERTING)
    risk = (
        "The caller awaits and receives a coroutine object instead of the result: the work never "
        "happens, and the caller's next step fails far from the cause or takes the wrong branch."
    )

    def visit_Return(self, node: ast.Return) -> None:
        function = self.names.enclosing_function(node)
        if not isinstance(function, ast.AsyncFunctionDef) or node.value is None:
            return
        if self._returns_awaitable_on_purpose(function) or expects_warning(self.semantic, node):
            return
        qualified = self.names.qualified_def(function)
        for call in _returned_calls(node.value):
            callee = coroutine_call(self.semantic, call)
            coroutine = None
            if callee is None:
                coroutine = coroutine_query(self.semantic, call)
                if coroutine is None:
                    continue
                callee = spelled(call.func)
            # A caller that awaits the result again shows a deliberate pass-through.
            query: tuple = ("single-awaited", qualified)
            if coroutine is not None:
                query = ("all", coroutine, query)
            fix = fixes.await_fix(self.semantic, call, "Await the coroutine before returning it")
            self.report_if(call, query, fixes=[fix], callee=callee, function=function.name)

    def _returns_awaitable_on_purpose(self, function: ast.AsyncFunctionDef) -> bool:
        for decorator in function.decorator_list:
            target = decorator.func if isinstance(decorator, ast.Call) else decorator
            if self.names.qualified(target) not in ASYNC_PRESERVING_DECORATORS:
                return True  # may await what it returns, or return something else
        annotation = function.returns
        if annotation is None:
            return False
        text = annotation.value if isinstance(annotation, ast.Constant) and isinstance(annotation.value, str) else ast.unparse(annotation)
        return any(word in text for word in _AWAITABLE_TYPES)


def _returned_calls(value: ast.expr) -> Iterator[ast.Call]:
    if isinstance(value, ast.Call):
        yield value
    elif isinstance(value, ast.IfExp):
        yield from _returned_calls(value.body)
        yield from _returned_calls(value.orelse)
