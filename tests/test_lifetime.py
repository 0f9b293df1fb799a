"""How long a function's work lasts (semantic/lifetime.py): a short unit of work, or work
that waits on others, with the reason; and what the module summary records of it."""

from __future__ import annotations

import ast
import textwrap

from ffscan.config import Settings
from ffscan.engine.runner import check_source
from ffscan.engine.sources import decode_source
from ffscan.semantic.index import ProjectIndex
from ffscan.semantic.lifetime import work_lifetime
from ffscan.semantic.model import SemanticModel
from helpers import ALL_CODES, ROOT


def lifetimes(code: str) -> dict:
    """Function name -> why its work is long-lived ("" for short), read before any pass."""
    text = textwrap.dedent(code)
    tree = ast.parse(text)
    semantic = SemanticModel(tree, text, Settings(), "example")
    return {n.name: work_lifetime(semantic, n).why for n in ast.walk(tree) if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef))}


LONG_LIVED = '''
import asyncio
import threading
from typing import Literal, overload

JOBS = asyncio.Queue()


async def forever():
    while True:
        await asyncio.sleep(5)


async def ws_reader(ws):
    async for message in ws:
        print(message)


async def waits_for_future(future):
    return await future


async def consumer():
    await JOBS.get()


async def reads_a_peer(reader):
    await reader.readline()


async def delayed(delay):
    await asyncio.sleep(delay)


class Connection:
    async def until_closed(self):
        while not self.closed:
            await self.ping()

    async def waits_for_event(self):
        await self.stopped.wait()

    async def holds_a_lock(self):
        async with self.lock:
            pass

    async def through_a_helper(self):
        await self.holds_a_lock()

    async def looked_up(self, key):
        request = self.requests.get(key)
        await request.wait()

    async def under_a_timeout(self):
        await asyncio.wait_for(self.looked_up(1), timeout=5)

    @overload
    async def chunk(self, wait: Literal[True]) -> list: ...

    @overload
    async def chunk(self, wait: Literal[False]) -> asyncio.Future: ...

    async def chunk(self, wait=True):
        return await self.requests[0].wait()

    async def chunk_and_dispatch(self):
        await asyncio.wait_for(self.chunk(True), timeout=5)

    async def keepalive(self):
        waiter = asyncio.get_running_loop().create_future()
        self.pings.append(waiter)
        await waiter


def thread_loop(inbox):
    while True:
        inbox.get()


async def gathers(event, other):
    await asyncio.gather(other.add(1), event.wait())


async def broadcasts(websocket, message):
    await websocket.send(message)
'''


def test_each_way_of_waiting_on_others_makes_work_long_lived_with_its_reason():
    assert lifetimes(LONG_LIVED) == {
        "forever": "loops forever (`while True:` at line 10)",
        "ws_reader": "reads `ws` as it arrives (`async for` at line 15)",
        "waits_for_future": "awaits `future`, which it did not make (line 20)",
        "consumer": "waits on `JOBS`, which it did not make (`JOBS.get()` at line 24)",
        "reads_a_peer": "waits on `reader`, which it did not make (`reader.readline()` at line 28)",
        "delayed": "sleeps `delay` seconds (line 32)",
        "until_closed": "waits in a loop (`while not self.closed:` at line 37)",
        "waits_for_event": "waits on `self.stopped`, which it did not make (`self.stopped.wait()` at line 41)",
        "holds_a_lock": "waits for `self.lock`, which other work holds too (line 44)",
        "through_a_helper": "awaits `self.holds_a_lock()`, which waits for `self.lock`, which other work holds too (line 44)",
        "looked_up": "waits on `request`, which it did not make (`request.wait()` at line 52)",
        "under_a_timeout": "awaits `self.looked_up()`, which waits on `request`, which it did not make (`request.wait()` at line 52)",
        "chunk": "waits on `self.requests[0]`, which it did not make (`self.requests[0].wait()` at line 64)",
        "chunk_and_dispatch": "awaits `self.chunk()`, which waits on `self.requests[0]`, which it did not make (`self.requests[0].wait()` at line 64)",
        "keepalive": "awaits the future `waiter`, which another party sets (line 72)",
        "thread_loop": "loops forever (`while True:` at line 76)",
        "gathers": "waits on `event`, which it did not make (`event.wait()` at line 81)",
        "broadcasts": "waits on `websocket`, which it did not make (`websocket.send(message)` at line 85)",
    }


SHORT = '''
import asyncio
import contextvars

REQUEST_ID = contextvars.ContextVar("request_id")


async def send_email(session, user_id: int):
    await asyncio.sleep(0.2)
    async with session.post("https://mail.example", json={"user": user_id}) as response:
        await response.read()
    print(REQUEST_ID.get())


async def refresh_cache(self, key):
    value = await self.store.get(key)
    queue = asyncio.Queue()
    await queue.put(value)
    await queue.get()
    for attempt in range(3):
        await self.session.post("https://hook.example")
    await asyncio.wait_for(self.session.post("https://hook.example"), timeout=5)
    task = asyncio.create_task(self.store.get(key))
    await task


def resize(path):
    with open(path) as handle:
        handle.read()
'''


def test_short_units_of_work_are_short():
    assert lifetimes(SHORT) == {"send_email": "", "refresh_cache": "", "resize": ""}



def summary_of(code: str, module: str = "example", path: str = ""):
    text = textwrap.dedent(code)
    source = decode_source(text.encode("utf-8"), path or f"{module.replace('.', '/')}.py")
    return check_source(source, Settings(root=ROOT), ALL_CODES, module).summary


def test_the_summary_records_the_lifetime_of_coroutine_functions_only():
    summary = summary_of(LONG_LIVED)
    facts = summary.functions
    assert facts["example.ws_reader"].lifetime == "reads `ws` as it arrives (`async for` at line 15)"
    assert facts["example.Connection.through_a_helper"].lifetime == lifetimes(LONG_LIVED)["through_a_helper"]
    assert facts["example.thread_loop"].lifetime is None  # a plain def: not followed across modules
    assert summary_of(SHORT).functions["example.send_email"].lifetime == ""


def test_the_pass_and_a_walk_read_the_same_lifetimes():
    """A function the engine's pass has reached reads its recorded nodes; one it has not
    (a fix asking about a def further down the file) is walked: the answers agree."""
    summary = summary_of(LONG_LIVED)
    walked = lifetimes(LONG_LIVED)
    recorded = {name.rsplit(".", 1)[-1]: facts.lifetime for name, facts in summary.functions.items() if facts.lifetime is not None}
    assert recorded == {name: why for name, why in walked.items() if name != "thread_loop"}


def test_the_index_answers_what_work_a_function_of_another_module_does():
    index = ProjectIndex([summary_of(LONG_LIVED, "jobs"), summary_of(SHORT, "mail")])
    assert index.answer(("work-is", ("global", "mail.send_email"), "short")) == {}
    assert index.answer(("work-is", ("global", "mail.send_email"), "long")) is None
    assert index.answer(("work-is", ("global", "jobs.forever"), "long")) == {"why": "loops forever (`while True:` at line 10)"}
    assert index.answer(("work-is", ("global", "jobs.thread_loop"), "unknown")) == {}
    assert index.answer(("work-is", ("global", "aiohttp.ClientSession.get"), "unknown")) == {}
    alone = ProjectIndex([summary_of(SHORT, "mail")], final=False)
    assert alone.answer(("work-is", ("global", "jobs.forever"), "long")) == {"deferred": True}


def test_the_index_answers_which_class_made_a_module_level_name():
    apps = summary_of('from celery import Celery\n\napp = Celery("shop")\nother = make()\n', "shop.celery_app")
    package = summary_of("from .celery_app import app\n", "shop", "shop/__init__.py")
    index = ProjectIndex([apps, package])
    celery = ("celery.Celery",)
    assert index.answer(("made-by", ("global", "shop.celery_app.app"), celery)) == {}
    assert index.answer(("made-by", ("global", "shop.app"), celery)) == {}  # re-exported
    assert index.answer(("made-by", ("global", "shop.celery_app.other"), celery)) is None
    assert index.answer(("made-by", ("global", "shop.celery_app.app"), ("rocketry.Rocketry",))) is None
    alone = ProjectIndex([package], final=False)
    assert alone.answer(("made-by", ("global", "shop.celery_app.app"), celery)) == {"deferred": True}
