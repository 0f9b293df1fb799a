"""FF501 unbounded-task-fanout: one task, thread or pool per item of input that grows from outside."""

from __future__ import annotations

import ast
from typing import List

from ffscan.model import Applicability, Fix, Impact
from ffscan.rules import fixes
from ffscan.rules.base import Rule
from ffscan.semantic.fanout import enclosing_loop, per_item_spawn
from ffscan.semantic.stdlib import SPAWN_WORDS


class UnboundedTaskFanout(Rule):
    """## What it does
    Finds one task (`asyncio.create_task`, `ensure_future`, `loop.create_task`,
    `TaskGroup.create_task`, a task group's `start_soon`), one thread
    (`threading.Thread(...).start()`, `_thread.start_new_thread`) or one new executor
    (`loop.run_in_executor(ProcessPoolExecutor(), ...)`, `submit` on a pool made inside the
    loop) started per item of a `for` loop or a comprehension, when all of these hold:

    - the input's size is set outside the function: a parameter (of a private function: what
      its callers in the module pass, unless every one passes a literal), an awaited result
      (not of a def of the same module), a directory listing (`os.listdir`, `glob`,
      `Path.iterdir`), rows of a query (`fetchall()`, `all()`), the contents of a file, or a
      literal of more than `fanout-threshold` items; not `self` state, a chunk
      (`items[i:i + n]`, `batched(items, n)`) or `range(CONST)`;
    - the loop does not bound it: no `acquire()` before the spawn, no wait while
      `len(pending)` is over a limit, no `asyncio.sleep` between rounds, and no unit awaited or
      joined before the next starts;
    - each unit's work reaches another service (network, database, files, a subprocess),
      known through the semantic model and the catalogue of libraries (not from how a
      receiver is spelled), across modules, with no semaphore or limiter acquired on the way
      (a limiter inside the work bounds how many run, which over a finite input is the usual
      fix). A new executor per item is reported whatever its work.

    The message names the input, the missing bound, and the path to the I/O.

    ## Why is this bad?
    Every item starts its work at once. A request with 10 items makes 10 concurrent calls to
    the downstream service; one with 50,000 makes 50,000: connection pools run dry, the service
    rate-limits or falls over, open files run out, and memory grows with the input until the
    process is killed. Nothing pushes back on the caller. A process pool made per item starts
    its worker processes per item.

    ## Example
    ```python
    async def notify_all(session: aiohttp.ClientSession, user_ids):
        async with asyncio.TaskGroup() as tg:
            for user_id in user_ids:
                tg.create_task(send_push(session, user_id))
    ```

    ## Fix
    ```python
    PUSH_LIMIT = asyncio.Semaphore(20)

    async def send_push_limited(session, user_id):
        async with PUSH_LIMIT:
            await send_push(session, user_id)

    async def notify_all(session, user_ids):
        async with asyncio.TaskGroup() as tg:
            for user_id in user_ids:
                tg.create_task(send_push_limited(session, user_id))
    ```
    Or hand the items to a fixed number of workers reading a bounded `asyncio.Queue`, or make
    one executor before the loop. Where the task or thread is dropped anyway,
    `ffscan fix --unsafe-fixes` moves it onto the tracked queue, which runs at most
    `max_concurrency` jobs at once:
    ```python
    for user_id in user_ids:
        background.spawn(send_push, session, user_id)       # was asyncio.create_task(send_push(session, user_id))
    for url in urls:
        background.submit(fetch, url)                       # was threading.Thread(target=fetch, args=(url,)).start()
    ```
    With `durable-target` set in `[tool.ffscan.fix]`, a job whose function is a task registered
    with that queue goes there instead, whose worker count bounds it: `fetch.delay(url)`
    (Celery) or `fetch.send(url)` (Dramatiq), `enqueue(fetch, url)` in `async def` code.

    ## Fix safety
    Unsafe, and only for a dropped `asyncio.create_task(fn(...))`/`asyncio.ensure_future(fn(...))`
    statement inside `async def`, or a dropped `threading.Thread(target=f, args=(...)).start()`:
    the queue may start the job later than before, retries it if configured, and raises
    `QueueFull` when too many are pending. Only for a short unit of work (as FF201 judges it):
    a job that loops, reads a stream, waits on what it did not make or cannot be read would
    hold a slot while it waits, and gets no fix. Tasks that are kept, awaited or gathered, and
    `TaskGroup` children, have no automatic fix: the right limit depends on the downstream
    service. Not offered where the module already uses the name `background` for something
    else. The durable queue's rewrite is unsafe for the same reasons and more: the job runs in a
    worker process with serialised arguments. It is offered only where the function (the
    thread's `target`, or the `fn` of `create_task(asyncio.to_thread(fn, ...))`) is a
    module-level sync `def` registered with that queue by its outermost decorator and its
    arguments are known to serialise; a coroutine function never is.

    ## Options
    `fanout-threshold` (default 8): a `range(N)` or a literal list of at most N items is fine.

    ## Known limits
    Spawns per message of a stream (`async for`, a `while` loop reading events) are FF503's.
    Executor submits to a pool made once are not reported: its `max_workers` bounds their
    concurrency (not their memory); nor is work handed to a shared thread pool
    (`asyncio.to_thread`, `run_in_executor(None, ...)`). Work whose I/O goes through a
    receiver of unknown type (an unannotated parameter `client`) is not known to do I/O and
    is not reported. Work that does not use the loop variable (`for _ in range(n)`: a pool of
    workers) is not reported. Loops over the program's own state (`self._subscribers`) are
    not input, even where that state grows with use.
    """

    code = "FF501"
    name = "unbounded-task-fanout"
    subject = ("unbounded task fan-out", "unbounded task fan-outs")
    triggers = (*SPAWN_WORDS, "start_soon")
    # The per-item work is often defined in another module: every module's summary must hold
    # its calls and limiters.
    follows_background = True
    message = "`{spawner}` starts one {unit} per {per} of `{iterable}` ({source}) and {bound}: {effect}"
    fix_title = "Bound the concurrency: the tracked queue, a semaphore or a fixed pool of workers"
    fix_applicability = Applicability.UNSAFE
    impacts = (Impact.NO_BACKPRESSURE,)
    risk = (
        "A large input starts unbounded concurrent requests to a downstream service: connection "
        "pools run dry, rate limits trip, and memory grows with the input."
    )

    def __init__(self, semantic, sink) -> None:
        super().__init__(semantic, sink)
        self._candidates: list = []

    def visit_Call(self, node: ast.Call) -> None:
        loop = enclosing_loop(self.semantic, node)
        if loop is not None:
            self._candidates.append((node, loop))

    def leave_Module(self, module: ast.Module) -> None:
        # Whether a thread is started can depend on later lines: judge once all were seen.
        for node, loop in self._candidates:
            self._check(node, loop)

    def _check(self, node: ast.Call, loop) -> None:
        found = per_item_spawn(self.semantic, node, loop)
        if found is None or found.stream:
            return  # a stream's spawns are FF503's
        spawn = found.spawn
        if spawn.new_pool:
            grows = "worker processes" if spawn.unit == "process pool" else "worker threads"
            self.report(node, bound="none is reused", effect=f"the {grows} grow with the input", **found.fields)
            return
        work = self.semantic.refs.ref_of(spawn.work, self.names.scope_of(node))
        if work[0] != "unknown":
            self.report_if(
                node, ("io-work", work, "running"), fixes=self._fixes(node, spawn.api),
                bound="nothing bounds how many run at once", **found.fields,
            )

    def _fixes(self, node: ast.Call, spawner: str) -> List[Fix]:
        return fixes.bounded_spawn(self.semantic, node, spawner)
