"""FF502 unbounded-gather: `asyncio.gather` over one coroutine per item of unbounded input."""

from __future__ import annotations

import ast
from typing import List, Optional, Tuple

from ffscan.model import Impact
from ffscan.rules.base import Rule
from ffscan.semantic.fanout import (
    GATHERERS,
    does_io,
    is_pooled,
    is_unbounded_input,
    limiter_in_sight,
    loop_targets,
    makes_new_work,
    paced,
    work_functions,
)
from ffscan.semantic.names import Binding
from ffscan.semantic.spelling import spelled


class UnboundedGather(Rule):
    """## What it does
    Finds `asyncio.gather(*[work(x) for x in xs])`, `gather(*(work(x) for x in xs))`,
    `gather(*map(work, xs))` and `gather(*tasks)` where `tasks` was filled by a `for` loop (or a
    comprehension) with one job per item of input of unknown size (from a parameter or an
    awaited result, or a literal bigger than `fanout-threshold`), with no semaphore, limiter or
    job scheduler in sight (in the function, or in the coroutine function run per item).

    ## Why is this bad?
    `gather` runs every awaitable at once. Its concurrency is the size of the input: a batch of
    50,000 ids becomes 50,000 simultaneous requests to the downstream service, exhausting
    connection pools and tripping rate limits, and every pending coroutine and response is held
    in memory until the last one finishes.

    ## Example
    ```python
    async def fetch_profiles(user_ids):
        return await asyncio.gather(*[fetch_profile(uid) for uid in user_ids])
    ```

    ## Fix
    ```python
    PROFILE_LIMIT = asyncio.Semaphore(20)

    async def fetch_profile_limited(uid):
        async with PROFILE_LIMIT:
            return await fetch_profile(uid)

    async def fetch_profiles(user_ids):
        return await asyncio.gather(*[fetch_profile_limited(uid) for uid in user_ids])
    ```

    ## Fix safety
    No automatic fix: the right limit depends on the downstream service, and the results must
    stay in order, so a person writes the semaphore.

    ## Options
    `fanout-threshold` (default 8): a `range(N)` or a literal list of at most N items is fine.

    ## Known limits
    Lists filled in `async for` or `while` loops, or in loops that await, are not reported;
    neither are lists built in another function.
    """

    code = "FF502"
    name = "unbounded-gather"
    subject = ("unbounded gather", "unbounded gathers")
    triggers = ("gather",)
    message = "`asyncio.gather` runs one job per item of `{iterable}` at once, with no limit"
    fix_title = "Bound the concurrency with a semaphore around each job"
    impacts = (Impact.NO_BACKPRESSURE,)
    default_on = False
    off_reason = (
        "9 findings on ten real projects before requiring I/O per item and no thread pool, 0 real and 3 unclear; 1 after, unclear (a handful of work pools); peers read 0 real and 3 unclear of 20"
    )
    risk = (
        "A large input becomes unbounded concurrent requests to a downstream service: connection "
        "pools run dry, rate limits trip, and memory grows with the input."
    )

    def visit_Call(self, node: ast.Call) -> None:
        if self.names.qualified(node.func) not in GATHERERS:
            return
        for arg in node.args:
            if isinstance(arg, ast.Starred):
                found = self._fanout(arg.value, node)
                if found is not None:
                    iterable, work = found
                    function = self.names.enclosing_function(node)
                    if is_pooled(self.semantic, work) or not does_io(self.semantic, work):
                        return  # a thread pool bounds it, or no request per item goes anywhere
                    if not limiter_in_sight(self.semantic, function, *work_functions(self.semantic, work)):
                        self.report(node, iterable=spelled(iterable, fallback="input"))
                    return

    def _fanout(self, value: ast.expr, at: ast.AST) -> Optional[Tuple[ast.expr, ast.AST]]:
        """The unbounded iterable and the per-item work behind a starred gather argument."""
        if isinstance(value, (ast.ListComp, ast.GeneratorExp, ast.SetComp)):
            return self._comprehension(value, at)
        if isinstance(value, ast.Call) and self.names.qualified(value.func) == "builtins.map" and len(value.args) >= 2:
            if any(is_unbounded_input(self.semantic, a, at) for a in value.args[1:]):
                return value.args[1], value.args[0]
            return None
        if isinstance(value, ast.Name):
            found = self.names.binding(value.id, at)
            if found is not None and found.kind == Binding.VALUE and isinstance(found.node, (ast.ListComp, ast.GeneratorExp, ast.SetComp)):
                return self._comprehension(found.node, at)
            return self._filled_in_loop(value.id, at)
        return None

    def _comprehension(self, comp: ast.expr, at: ast.AST) -> Optional[Tuple[ast.expr, ast.AST]]:
        generator = comp.generators[0]  # type: ignore[attr-defined]
        if generator.is_async or not is_unbounded_input(self.semantic, generator.iter, at):
            return None
        element = comp.elt  # type: ignore[attr-defined]
        if not makes_new_work(self.semantic, element, loop_targets(generator)):
            return None
        return generator.iter, element

    def _filled_in_loop(self, name: str, at: ast.AST) -> Optional[Tuple[ast.expr, ast.AST]]:
        function = self.names.enclosing_function(at)
        if function is None:
            return None
        for loop in _loops(function):
            if paced(loop) or not is_unbounded_input(self.semantic, loop.iter, at):
                continue
            targets = loop_targets(loop)
            for item in _appended(loop, name):
                if makes_new_work(self.semantic, item, targets):
                    return loop.iter, item
        return None


def _loops(function: ast.AST) -> List[ast.For]:
    return [n for n in ast.walk(function) if isinstance(n, ast.For)]


def _appended(loop: ast.For, name: str) -> List[ast.expr]:
    found = []
    for statement in loop.body:
        for node in ast.walk(statement):
            if (
                isinstance(node, ast.Call)
                and isinstance(node.func, ast.Attribute)
                and node.func.attr in ("append", "add")
                and isinstance(node.func.value, ast.Name)
                and node.func.value.id == name
                and node.args
            ):
                found.append(node.args[0])
    return found


