"""FF101 unawaited-coroutine: a coroutine made and thrown away by an expression statement."""

from __future__ import annotations

import ast
from functools import partial
from typing import Iterator, List

from ffscan.model import Applicability, Fix, Impact
from ffscan.rules import fixes as fixes_
from ffscan.rules.base import Rule
from ffscan.semantic.coroutines import (
    coroutine_call,
    coroutine_query,
    expects_warning,
    spelled,
)
from ffscan.semantic.model import SemanticModel
from ffscan.semantic.stdlib import COROUTINE_WORDS


class UnawaitedCoroutine(Rule):
    """## What it does
    Finds calls that certainly make a coroutine and whose result is thrown away: an expression
    statement, a branch of a conditional expression used as a statement, or the element of a
    list or set comprehension used as a statement. A call certainly makes a coroutine when it
    calls an `async def` of the same module (by name, through `self`/`cls`/`super()`, or on an
    instance of a local class) that no decorator turns into something else, a coroutine
    function of the standard library (`asyncio.sleep`, `asyncio.wait_for`, `asyncio.to_thread`,
    ...), a coroutine method of an event loop (`loop.sock_sendall`, `loop.getaddrinfo`, ...),
    or a name listed in the `coroutine-functions` option.

    ## Why is this bad?
    Calling an `async def` only builds a coroutine object; its body runs when something awaits
    it or wraps it in a task. Dropped at once, the coroutine is garbage-collected without
    running a single line: the message is not sent, the row is not written, the lock is not
    released. Python only prints "RuntimeWarning: coroutine ... was never awaited" to stderr,
    which production logging rarely captures, and a test with this mistake passes while
    checking nothing.

    ## Example
    ```python
    async def close_session(session):
        await session.flush()

    async def logout(request):
        close_session(request.session)
        return redirect("/")
    ```

    ## Fix
    ```python
    async def logout(request):
        await close_session(request.session)
        return redirect("/")
    ```
    From synchronous code that cannot await, hand the coroutine to the running loop and keep
    the task (`asyncio.get_running_loop().create_task(...)` stored in a set), or call a
    synchronous version of the function.

    ## Fix safety
    Unsafe, and offered only for a coroutine call that is a whole statement inside `async def`:
    `ffscan fix --unsafe-fixes` writes `await` in front of it. The body now runs, and the
    caller waits for it and sees what it raises: that changes timing and errors, which is
    why it is not safe (mypy and pyright only report this shape, and Ruff's RUF006-style fixes
    are marked unsafe for the same reason). Outside `async def` the `await` is display-only:
    there the cure (a task kept on the running loop, or a synchronous version) is a design
    decision.

    ## Known limits
    Only calls whose target is certain are checked. The whole-program model follows the call
    across modules (re-exports included), into methods of classes defined anywhere in the
    checked tree (through bases, `super()`, and attributes assigned in any method or
    annotated on the class), and into third-party packages summarised in ffscan's catalogue or
    found in the project's environment (see docs/semantic-model.md). An unannotated parameter,
    a name bound in ways that disagree, and `getattr` or `__getattr__` make the target unknown,
    and nothing is reported; list further coroutine functions in `coroutine-functions`.
    Calling an async generator function (an `async def` with `yield`) is not
    reported: it returns an async iterator, not a coroutine. Code inside `with
    self.assertWarns(...)`, `pytest.warns(...)`, `warnings.catch_warnings()`,
    `pytest.raises(...)` and alike is skipped: tests of the "never awaited" warning drop
    coroutines on purpose, and a call expected to raise makes no coroutine. Outside test
    files, a module whose text never says `async` (nor names an event loop's coroutine
    method) is not checked: checking every module costs 18% more instructions on the
    standard library, and on 48 real projects it found nothing beyond what checking every
    test file finds (two synchronous MetaGPT tests that assert `tree(...)`, an `async def`:
    FF102's).

    ## Options
    `coroutine-functions`: qualified names of further coroutine functions, such as
    `["mylib.client.send"]`.

    ## References
    - mypy's `unused-coroutine` and pyright's `reportUnusedCoroutine` find the same statement
      shape from types.
    - https://docs.python.org/3/library/asyncio-dev.html#detect-never-awaited-coroutines
    """

    code = "FF101"
    name = "unawaited-coroutine"
    subject = ("unawaited coroutine", "unawaited coroutines")
    loss = "coroutine work never runs"
    triggers = COROUTINE_WORDS
    every_test_file = True  # `client.close()` in a sync test says no `async`
    message = "Coroutine from `{callee}` is never awaited; its body never runs"
    peer_codes = ("UNUSED-COROUTINE", "REPORTUNUSEDCOROUTINE")  # mypy; pyright
    fix_title = "Await the coroutine"
    fix_applicability = Applicability.UNSAFE
    impacts = (Impact.NO_TRACKING, Impact.NO_ALERTING)
    risk = (
        "The work in the coroutine silently never happens; the only trace is a "
        "'coroutine was never awaited' RuntimeWarning on stderr."
    )

    def visit_Expr(self, node: ast.Expr) -> None:
        calls = list(_dropped_calls(node.value))
        if not calls or expects_warning(self.semantic, node):
            return  # a test checking the "never awaited" warning itself
        for call in calls:
            whole = call is node.value
            callee = coroutine_call(self.semantic, call)
            if callee is not None:
                self.report(call, fixes=_await_fixes(self.semantic, call, whole), callee=callee)
                continue
            query = coroutine_query(self.semantic, call)
            if query is not None:
                fixes = partial(_await_fixes, self.semantic, call, whole)  # made only if the index may confirm
                self.report_if(call, query, fixes=fixes, callee=spelled(call.func))


def _await_fixes(semantic: SemanticModel, call: ast.Call, whole: bool) -> List[Fix]:
    # Only a whole statement can take `await` in place; other shapes keep their help.
    return [fixes_.await_fix(semantic, call, "Await the coroutine")] if whole else []


def _dropped_calls(value: ast.expr) -> Iterator[ast.Call]:
    """The calls whose results the statement `value` throws away."""
    if isinstance(value, ast.Call):
        yield value
    elif isinstance(value, ast.IfExp):
        yield from _dropped_calls(value.body)
        yield from _dropped_calls(value.orelse)
    elif isinstance(value, (ast.Tuple, ast.List, ast.Set)):
        for element in value.elts:
            yield from _dropped_calls(element)
    elif isinstance(value, (ast.ListComp, ast.SetComp)):
        yield from _dropped_calls(value.elt)
    elif isinstance(value, ast.BoolOp):
        # `ready or start()`: the last operand's value is the statement's; the others are
        # tested for truth (FF102).
        yield from _dropped_calls(value.values[-1])
