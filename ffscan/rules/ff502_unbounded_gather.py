"""FF502 unbounded-gather: `gather` (or `wait`, `as_completed`) over one job per item of input
that grows from outside."""

from __future__ import annotations

import ast
from typing import List, NamedTuple, Optional

from ffscan.model import Impact
from ffscan.rules.base import Rule
from ffscan.semantic.fanout import (
    COMBINATORS,
    bounded_in_loop,
    input_of,
    is_pooled,
    loop_targets,
    makes_new_work,
    spawn_of,
)
from ffscan.semantic.names import Binding
from ffscan.semantic.spelling import spelled


class _FanOut(NamedTuple):
    iterable: ast.expr
    source: str
    work: ast.expr  # the callable run per item


class UnboundedGather(Rule):
    """## What it does
    Finds `asyncio.gather(...)`, `asyncio.wait(...)` and `asyncio.as_completed(...)` over one
    job per item of input whose size is set outside the function (as FF501 reads it: a
    parameter, an awaited result, a directory listing, rows of a query, a literal of more than
    `fanout-threshold` items): `gather(*[work(x) for x in xs])`, a generator or a set,
    `gather(*map(work, xs))`, and a name bound to such a comprehension or filled with one
    coroutine per item by a `for` loop (`coros.append(work(x))`, `coros[key] = work(x)`, then
    `gather(*coros)` or `gather(*coros.values())`), when each job's work reaches another
    service with no semaphore or limiter acquired on the way (known through the semantic
    model and the catalogue of libraries, across modules). The message names the input and
    the path to the I/O.

    ## Why is this bad?
    `gather` runs every awaitable at once. Its concurrency is the size of the input: a guild's
    500 channels become 500 simultaneous permission updates against a rate-limited API, a
    batch of 50,000 ids becomes 50,000 simultaneous requests, connection pools run dry, and
    every pending coroutine and response is held in memory until the last one finishes.

    ## Example
    ```python
    async def fetch_profiles(client: httpx.AsyncClient, user_ids):
        return await asyncio.gather(*[fetch_profile(client, uid) for uid in user_ids])
    ```

    ## Fix
    ```python
    PROFILE_LIMIT = asyncio.Semaphore(20)

    async def fetch_profile_limited(client, uid):
        async with PROFILE_LIMIT:
            return await fetch_profile(client, uid)

    async def fetch_profiles(client, user_ids):
        return await asyncio.gather(*[fetch_profile_limited(client, uid) for uid in user_ids])
    ```
    Or gather in chunks (`for batch in itertools.batched(user_ids, 20)`).

    ## Fix safety
    No automatic fix: the right limit depends on the downstream service, and the results must
    stay in order, so a person writes the semaphore.

    ## Options
    `fanout-threshold` (default 8): a `range(N)` or a literal list of at most N items is fine.

    ## Known limits
    Off by default: 2 real of 6 read on 34 real projects (not real: a consumer's partitions, a
    project's few work pools, a batch of cache updates through a session whose connector
    caps connections, the few web pages an assistant chose to read), which a parameter does not tell apart from large input. Tasks created in the filling loop already run when they are gathered:
    FF501 reports their spawn. Lists filled in `async for` or `while` loops, or built in
    another function, are not reported.
    """

    code = "FF502"
    name = "unbounded-gather"
    subject = ("unbounded gather", "unbounded gathers")
    triggers = ("gather", "as_completed", "wait")
    follows_background = True  # the per-item work is often defined in another module
    message = "`{combinator}` runs one job per item of `{iterable}` ({source}) at once, with no semaphore around each job: {effect}"
    fix_title = "Bound the concurrency with a semaphore around each job"
    impacts = (Impact.NO_BACKPRESSURE,)
    default_on = False
    off_reason = (
        "6 real of 13 read on 48 projects and the trees of 53 upstream bugs: a parameter does not tell "
        "a consumer's partitions, a cluster's API groups or a project's few work pools from large input"
    )
    risk = (
        "A large input becomes unbounded concurrent requests to a downstream service: connection "
        "pools run dry, rate limits trip, and memory grows with the input."
    )

    def visit_Call(self, node: ast.Call) -> None:
        combinator = self.names.qualified(node.func)
        if combinator not in COMBINATORS:
            return
        gathers = combinator.endswith("gather")
        for position, arg in enumerate(node.args):
            if isinstance(arg, ast.Starred):
                value = arg.value
            elif not gathers and position == 0:
                value = arg  # `asyncio.wait([...])`, `as_completed(coros)`
            else:
                continue
            found = self._fanout(value, node)
            if found is None:
                continue
            work = self.semantic.refs.ref_of(found.work, self.names.scope_of(node))
            if work[0] != "unknown":
                self.report_if(
                    node, ("io-work", work, "running"),
                    combinator=combinator.replace(".tasks.", "."), iterable=spelled(found.iterable, fallback="input"),
                    source=found.source,
                )
            return

    def _fanout(self, value: ast.expr, at: ast.AST) -> Optional[_FanOut]:
        """The input and the per-item work behind a combinator's argument."""
        if isinstance(value, (ast.ListComp, ast.GeneratorExp, ast.SetComp)):
            return self._comprehension(value, at, inline=True)
        if isinstance(value, ast.Call):
            func = value.func
            if self.names.qualified(func) == "builtins.map" and len(value.args) >= 2:
                for iterable in value.args[1:]:
                    source = input_of(self.semantic, iterable, at)
                    if source is not None:
                        return _FanOut(iterable, source, value.args[0])
                return None
            if isinstance(func, ast.Attribute) and func.attr == "values" and isinstance(func.value, ast.Name) and not value.args:
                return self._filled_in_loop(func.value.id, at)  # `gather(*requests.values())`
            return None
        if isinstance(value, ast.Name):
            found = self.names.binding(value.id, at)
            if found is not None and found.kind == Binding.VALUE and isinstance(found.node, (ast.ListComp, ast.GeneratorExp, ast.SetComp)):
                return self._comprehension(found.node, at, inline=False)
            return self._filled_in_loop(value.id, at)
        return None

    def _comprehension(self, comp: ast.expr, at: ast.AST, inline: bool) -> Optional[_FanOut]:
        generator = comp.generators[0]  # type: ignore[attr-defined]
        source = "a stream" if generator.is_async else input_of(self.semantic, generator.iter, at)
        if source is None:
            return None
        element = comp.elt  # type: ignore[attr-defined]
        if not inline and isinstance(element, ast.Call) and spawn_of(self.semantic, element) is not None:
            return None  # tasks made before the call run already: FF501 reports their spawn
        if not makes_new_work(self.semantic, element, loop_targets(generator)):
            return None
        work = self._work(element)
        return _FanOut(generator.iter, source, work) if work is not None else None

    def _work(self, element: ast.expr) -> Optional[ast.expr]:
        """The callable an item runs: `fetch` of `fetch(x)` or of `create_task(fetch(x))`."""
        if not isinstance(element, ast.Call):
            return None
        spawn = spawn_of(self.semantic, element)
        if spawn is not None:
            return spawn.work
        if is_pooled(self.semantic, element):
            return None  # a shared thread pool bounds it
        return element.func

    def _filled_in_loop(self, name: str, at: ast.AST) -> Optional[_FanOut]:
        """A collection filled with one coroutine per item in a `for` loop. Tasks made there
        already run: FF501 reports their spawn."""
        function = self.names.enclosing_function(at)
        if function is None:
            return None
        for loop in _loops(function):
            source = input_of(self.semantic, loop.iter, loop)
            if source is None:
                continue
            targets = loop_targets(loop)
            for item in _added(loop, name):
                if isinstance(item, ast.Call) and spawn_of(self.semantic, item) is not None:
                    return None
                if makes_new_work(self.semantic, item, targets) and not bounded_in_loop(self.semantic, loop, item):
                    work = self._work(item)
                    if work is not None:
                        return _FanOut(loop.iter, source, work)
        return None


def _loops(function: ast.AST) -> List[ast.For]:
    return [n for n in ast.walk(function) if isinstance(n, ast.For)]


def _added(loop: ast.For, name: str) -> List[ast.expr]:
    """What the loop's body puts into `name`: `name.append(x)`, `name.add(x)`, `name[k] = x`."""
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
            elif (
                isinstance(node, ast.Assign)
                and len(node.targets) == 1
                and isinstance(node.targets[0], ast.Subscript)
                and isinstance(node.targets[0].value, ast.Name)
                and node.targets[0].value.id == name
            ):
                found.append(node.value)
    return found
