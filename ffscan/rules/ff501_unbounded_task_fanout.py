"""FF501 unbounded-task-fanout: one task or thread per item of input of unknown size."""

from __future__ import annotations

import ast
from typing import List

from ffscan.model import Applicability, Fix, Impact
from ffscan.rules import fixes
from ffscan.rules.base import Rule
from ffscan.semantic.fanout import (
    collector,
    does_io,
    enclosing_loop,
    gathered_names,
    in_gather,
    is_pooled,
    is_unbounded_input,
    limiter_in_sight,
    loop_targets,
    makes_new_work,
    paced,
    references,
    spawned,
    work_functions,
)
from ffscan.semantic.spelling import spelled
from ffscan.semantic.stdlib import SPAWN_WORDS


class UnboundedTaskFanout(Rule):
    """## What it does
    Finds a task (`asyncio.create_task`, `ensure_future`, `loop.create_task`,
    `TaskGroup.create_task`) or a thread (`threading.Thread(...).start()`,
    `_thread.start_new_thread`) spawned once per item inside a `for` loop or a comprehension
    over input of unknown size: an iterable that comes from a parameter or an awaited result,
    or a literal bigger than `fanout-threshold`, with no semaphore, limiter, bounded queue or job
    scheduler in sight (in the function, or in the coroutine the task runs).

    ## Why is this bad?
    Every item starts its work at once. A request with 10 items makes 10 concurrent calls to
    the downstream service; one with 50,000 makes 50,000: connection pools run dry, the service
    rate-limits or falls over, and memory grows with the input until the process is killed.
    Nothing pushes back on the caller.

    ## Example
    ```python
    async def notify_all(user_ids):
        async with asyncio.TaskGroup() as tg:
            for user_id in user_ids:
                tg.create_task(send_push(user_id))
    ```

    ## Fix
    ```python
    PUSH_LIMIT = asyncio.Semaphore(20)

    async def send_push_limited(user_id):
        async with PUSH_LIMIT:
            await send_push(user_id)

    async def notify_all(user_ids):
        async with asyncio.TaskGroup() as tg:
            for user_id in user_ids:
                tg.create_task(send_push_limited(user_id))
    ```
    Or hand the items to a fixed number of workers reading a bounded `asyncio.Queue`. Where the
    task or thread is dropped anyway, `ffscan fix --unsafe-fixes` moves it onto the tracked
    queue, which runs at most `max_concurrency` jobs at once:
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
    Executor submits are not reported: the pool's `max_workers` bounds their concurrency (not
    their memory). `async for` loops and loops whose body awaits are paced by what they wait
    for and are not reported, nor are `while` loops (their input size is unknowable), though a
    fast stream can still outrun its handlers. Work that
    does not use the loop variable (`for _ in range(n)`: a pool of workers) is not reported.
    """

    code = "FF501"
    name = "unbounded-task-fanout"
    subject = ("unbounded task fan-out", "unbounded task fan-outs")
    triggers = SPAWN_WORDS
    message = "`{spawner}` starts one concurrent job per item of `{iterable}` with no limit on how many run at once"
    fix_title = "Bound the concurrency: the tracked queue, a semaphore or a fixed pool of workers"
    fix_applicability = Applicability.UNSAFE
    impacts = (Impact.NO_BACKPRESSURE,)
    default_on = False
    off_reason = (
        "6 findings on ten real projects before requiring I/O per item and no thread pool, 0 real (fixed small sets, already-running futures, work in asyncio.to_thread); none after"
    )
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
        spawner = spawned(self.semantic, node)
        if spawner is None or isinstance(loop, (ast.AsyncFor, ast.While)):
            return
        if isinstance(loop, ast.comprehension) and in_gather(self.semantic, node):
            return  # FF502 reports the gather
        if not isinstance(loop, ast.comprehension) and paced(loop):
            return
        if not is_unbounded_input(self.semantic, loop.iter, node):
            return
        targets = loop_targets(loop)
        per_item = references(node, targets) if "hread" in spawner else makes_new_work(self.semantic, node, targets)
        if not per_item:
            return  # not new work per item: a pool of workers, or items already running
        function = self.names.enclosing_function(node)
        target = collector(self.semantic, node)
        if function is not None and target is not None and target in gathered_names(self.semantic, function):
            return  # FF502 reports the gather
        if is_pooled(self.semantic, node) or not does_io(self.semantic, node):
            return  # a thread pool bounds it, or no request per item goes anywhere
        if limiter_in_sight(self.semantic, function, *work_functions(self.semantic, node)):
            return
        self.report(node, fixes=self._fixes(node, spawner), spawner=spawner, iterable=spelled(loop.iter, fallback="input"))

    def _fixes(self, node: ast.Call, spawner: str) -> List[Fix]:
        semantic = self.semantic
        title = fixes.queue_title(semantic) + ", which bounds concurrency"
        durable_title = "Enqueue the registered task on the durable queue, whose workers bound concurrency"
        if spawner == "threading.Thread":
            durable = fixes.started_thread_on_durable(semantic, node, durable_title)
            parts = fixes.thread_job_parts(node)
            if parts is None:
                return fixes.first(durable)
            work = fixes.work_of(semantic, parts[0], node, coroutine=False)
            return fixes.first(durable, *fixes.remedies(work, lambda t: fixes.started_thread_on_queue(semantic, node, t), title))
        if (
            spawner in ("asyncio.create_task", "asyncio.ensure_future")
            and fixes.is_dropped(semantic, node)
            and fixes.in_async_function(semantic, node)
        ):
            durable = fixes.to_thread_on_durable(semantic, node, durable_title)
            work = fixes.queued_work(semantic, node)
            if work is None:
                return fixes.first(durable)
            return fixes.first(durable, *fixes.remedies(work, lambda t: fixes.spawn_on_queue(semantic, node, t), title))
        return []
