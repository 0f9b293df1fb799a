"""FF503 unbounded-stream-fanout: one task or thread per message of a stream, none held back."""

from __future__ import annotations

import ast
from typing import List

from ffscan.model import Applicability, Fix, Impact
from ffscan.rules import fixes
from ffscan.rules.base import Rule
from ffscan.semantic.fanout import enclosing_loop, per_item_spawn
from ffscan.semantic.stdlib import SPAWN_WORDS


class UnboundedStreamFanout(Rule):
    """## What it does
    Finds one task or thread started per message of a stream: inside `async for`, or inside a
    `while` loop whose round binds the event it hands on (`conn = await server.accept()`),
    when nothing in the loop is acquired before the spawn (`await semaphore.acquire()`),
    nothing waits while `len(pending)` is over a limit, no `asyncio.sleep` paces the rounds,
    and the work reaches another service (network, database, files, a subprocess), as the
    semantic model and the catalogue of libraries know it, across modules.

    A semaphore acquired *inside* the spawned work does not count: it bounds how many run, not
    how many are made. The message says so when the work has one.

    ## Why is this bad?
    A stream does not end. When messages arrive faster than their work finishes, tasks pile up
    without limit: each holds its message and its coroutine frame, and each waits on the
    semaphore or the downstream service. Memory grows until the process is killed, and the
    backlog is lost with it. Reading the next message only once a slot is free pushes back on
    the sender instead.

    ## Example
    ```python
    async def consume(session, messages):
        async for message in messages:
            asyncio.create_task(send_push_limited(session, message))  # limited inside
    ```

    ## Fix
    ```python
    async def consume(session, messages):
        slots = asyncio.Semaphore(20)
        async for message in messages:
            await slots.acquire()  # wait for a slot before reading on
            task = asyncio.create_task(send_push(session, message))
            task.add_done_callback(lambda _: slots.release())
    ```
    Or a fixed number of workers reading a bounded `asyncio.Queue` that the stream fills.
    Where the task or thread is dropped anyway, `ffscan fix --unsafe-fixes` moves it onto the
    tracked queue, whose `max_pending` makes a full queue raise `QueueFull` instead of growing.

    ## Fix safety
    Unsafe, for the shapes and reasons given in FF501: the job may start later, is retried if
    configured, and a full queue raises `QueueFull`.

    ## Known limits
    Off by default: no finding on the 34 real projects measured, so its precision is not known.
    A stream read in a `for` loop over a generator is judged by FF501 as a finite input.
    """

    code = "FF503"
    name = "unbounded-stream-fanout"
    subject = ("unbounded stream fan-out", "unbounded stream fan-outs")
    triggers = (*SPAWN_WORDS, "start_soon")
    follows_background = True  # the per-message work is often defined in another module
    message = "`{spawner}` starts one {unit} per {per} of `{iterable}` ({source}) and nothing bounds how many are created: {effect}"
    fix_title = "Bound the concurrency before the spawn: a semaphore acquired first, or a bounded queue"
    fix_applicability = Applicability.UNSAFE
    impacts = (Impact.NO_BACKPRESSURE,)
    default_on = False
    off_reason = (
        "No finding on 48 projects (the ten of the corpus and 38 applications: crawlers, research "
        "agents, trading bots, a wallet, a node, an NVR, bots, services; "
        "benchmarks/real-world/applications.md) nor on the trees of 53 upstream bugs: precision unmeasured"
    )
    risk = (
        "When messages arrive faster than their work finishes, tasks pile up without limit until "
        "memory runs out; the backlog dies with the process."
    )

    def __init__(self, semantic, sink) -> None:
        super().__init__(semantic, sink)
        self._candidates: list = []

    def visit_Call(self, node: ast.Call) -> None:
        loop = enclosing_loop(self.semantic, node)
        if loop is not None:
            self._candidates.append((node, loop))

    def leave_Module(self, module: ast.Module) -> None:
        for node, loop in self._candidates:
            found = per_item_spawn(self.semantic, node, loop)
            if found is None or not found.stream or found.spawn.new_pool:
                continue
            work = self.semantic.refs.ref_of(found.spawn.work, self.names.scope_of(node))
            if work[0] != "unknown":
                self.report_if(node, ("io-work", work, "created"), fixes=self._fixes(node, found.spawn.api), **found.fields)

    def _fixes(self, node: ast.Call, spawner: str) -> List[Fix]:
        return fixes.bounded_spawn(self.semantic, node, spawner)
