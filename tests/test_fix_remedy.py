"""Which remedy a fix chooses: short units of work go on the bounded queue; work that waits on
others (loops, readers, waits on what it did not make) keeps its own task with `track(...)`.

A shared queue with 16 slots stalls a server when connection readers hold the slots: the
fix must never put long-lived work there, and its title says which remedy it chose and why.
"""

from __future__ import annotations

import textwrap

import pytest

from ffscan.cli import main
from ffscan.config import FixSettings, Settings
from ffscan.engine import analyse
from ffscan.engine.fixing import fix_text, run_fix
from ffscan.engine.runner import check_source
from ffscan.engine.sources import decode_source
from helpers import ALL_CODES, ROOT, check_text


def fix_of(code: str, unsafe: bool = True, settings: Settings = None, codes=ALL_CODES):
    source = decode_source(textwrap.dedent(code).encode("utf-8"), "example.py")
    return fix_text(source, settings or Settings(root=ROOT), codes, "example", unsafe=unsafe)


def titles(code: str, settings: Settings = None) -> dict:
    """Line -> the title of each fix the fix run applied there."""
    outcome = fix_of(code, settings=settings)
    return {finding.start.line: fix.title for finding, fix in outcome.applied}


HANDLER = '''
import asyncio


async def send_email(user_id: int):
    await asyncio.sleep(0.01)


async def ws_reader(ws):
    async for message in ws:
        print(message)


async def on_connect(ws, user_id, callback):
    asyncio.create_task(send_email(user_id))
    asyncio.create_task(ws_reader(ws))
    asyncio.create_task(callback(user_id))


class Protocol(asyncio.Protocol):
    def data_received(self, data):
        asyncio.create_task(self.handle(data))

    async def handle(self, data):
        await asyncio.sleep(0)
'''


def test_short_work_goes_on_the_queue_and_long_or_unknown_work_keeps_its_task():
    outcome = fix_of(HANDLER)
    body = outcome.fixed.split("async def on_connect", 1)[1]
    assert body.splitlines()[1:4] == [
        "    background.spawn(send_email, user_id)",
        "    track(asyncio.create_task(ws_reader(ws)))",
        "    track(asyncio.create_task(callback(user_id)))",
    ]
    assert "        track(asyncio.create_task(self.handle(data)))" in outcome.fixed.splitlines()


def test_the_title_says_which_remedy_and_why():
    assert titles(HANDLER) == {
        15: "Run it on the tracked queue `background`: `send_email` is a short unit of work (it neither loops nor waits on what it did not make)",
        16: "Wrap the task in `track(...)`, off the bounded queue: `ws_reader` reads `ws` as it arrives (`async for` at line 10)",
        17: "Wrap the task in `track(...)`, off the bounded queue: ffscan cannot read `callback`, which may wait on others",
        22: "Wrap the task in `track(...)`, off the bounded queue: `self.handle` starts once per connection event, from `data_received`",
    }


def test_without_unsafe_fixes_short_work_is_tracked_with_the_plain_title():
    outcome = fix_of(HANDLER, unsafe=False)
    assert {f.start.line: fix.title for f, fix in outcome.applied}[15] == "Wrap the task in `track(...)`"
    assert "background" not in outcome.fixed


FANOUT = '''
import asyncio
import threading

import aiohttp
import requests


async def push(session: aiohttp.ClientSession, user_id):
    await session.post("https://push.example", json={"user": user_id})


async def follow(session: aiohttp.ClientSession, user_id):
    while True:
        await session.post("https://push.example", json={"user": user_id})


def poll(url):
    while True:
        requests.get(url, timeout=3)


async def notify_all(session, user_ids):
    for user_id in user_ids:
        asyncio.create_task(push(session, user_id))
    for user_id in user_ids:
        asyncio.create_task(follow(session, user_id))


def watch(urls):
    for url in urls:
        threading.Thread(target=poll, args=(url,)).start()
'''


def test_fanout_of_long_lived_work_gets_no_bounded_queue():
    outcome = fix_of(FANOUT, codes={"FF501"})
    lines = outcome.fixed.splitlines()
    assert "        background.spawn(push, session, user_id)" in lines
    assert "        asyncio.create_task(follow(session, user_id))" in lines
    assert "        threading.Thread(target=poll, args=(url,)).start()" in lines
    left = sorted((f.start.line, why) for f, why in outcome.left if f.code == "FF501")
    assert left == [(29, "no fix for this shape"), (34, "no fix for this shape")]  # lines of the fixed text


CALLBACKS = '''
import asyncio


async def flush():
    await asyncio.sleep(0)


async def heartbeat():
    while True:
        await asyncio.sleep(30)


def install(loop):
    loop.call_soon(flush)
    loop.call_later(5, heartbeat)
'''


def test_a_long_lived_callback_is_not_started_on_the_queue():
    outcome = fix_of(CALLBACKS)
    lines = outcome.fixed.splitlines()
    assert "    loop.call_soon(background.spawn, flush)" in lines
    assert "    loop.call_later(5, heartbeat)" in lines


# ---- another module's function: the index reads its summary -------------------------------

JOBS_MODULE = '''
import asyncio


async def send_welcome(user_id: int) -> None:
    await asyncio.sleep(0.01)


async def follow_feed(ws) -> None:
    async for event in ws:
        print(event)
'''

APP_MODULE = '''
import asyncio

from shop.jobs import follow_feed, send_welcome


async def on_signup(user_id: int, ws) -> None:
    asyncio.create_task(send_welcome(user_id))
    asyncio.create_task(follow_feed(ws))
'''


@pytest.fixture
def shop(tmp_path, monkeypatch):
    (tmp_path / "shop").mkdir()
    (tmp_path / "shop" / "__init__.py").write_text("")
    (tmp_path / "shop" / "jobs.py").write_text(JOBS_MODULE.lstrip())
    (tmp_path / "shop" / "app.py").write_text(APP_MODULE.lstrip())
    (tmp_path / "pyproject.toml").write_text('[project]\nname = "shop"\ndependencies = ["ffscan"]\n\n[tool.ffscan]\n')
    monkeypatch.chdir(tmp_path)
    return tmp_path


def test_another_modules_function_is_judged_by_its_summary(shop):
    run = run_fix(["shop"], Settings(root=shop, config_path=shop / "pyproject.toml"), unsafe=True, write=False)
    (app,) = [outcome for outcome in run.files if outcome.path == "shop/app.py"]
    assert app.fixed.splitlines()[-2:] == ["    background.spawn(send_welcome, user_id)", "    track(asyncio.create_task(follow_feed(ws)))"]
    assert sorted(fix.title for _, fix in app.applied) == [
        "Run it on the tracked queue `background`: `send_welcome` is a short unit of work (it neither loops nor waits on what it did not make)",
        "Wrap the task in `track(...)`, off the bounded queue: `follow_feed` reads `ws` as it arrives (`async for` at line 9)",
    ]


def test_one_choice_stands_for_another_modules_function(shop):
    result = analyse(["shop"], Settings(root=shop, config_path=shop / "pyproject.toml"), reuse_run=False).result
    fixes = {f.start.line: [(fix.applicability.value, fix.requires) for fix in f.fixes] for f in result.findings}
    assert fixes == {7: [("unsafe", None), ("safe", None)], 8: [("safe", None)]}


def test_a_module_alone_keeps_the_question_for_the_whole_program():
    text = APP_MODULE.lstrip()
    checked = check_source(decode_source(text.encode("utf-8"), "shop/app.py"), Settings(root=ROOT), ALL_CODES, "shop.app")
    # The coroutines are another module's, so whether they suspend (else nothing is reported)
    # is a question for the whole program too.
    assert checked.findings == []
    kinds = [[fix.requires[2] for fix in d.finding.fixes] for d in checked.deferred]
    assert kinds == [["short", "short", "long", "unknown"], ["short", "short", "long", "unknown"]]


def test_fixed_alone_another_modules_function_is_unknown():
    outcome = fix_of(APP_MODULE)
    assert outcome.fixed.splitlines()[-2:] == ["    track(asyncio.create_task(send_welcome(user_id)))", "    track(asyncio.create_task(follow_feed(ws)))"]


# ---- `[tool.ffscan.fix] queue`: fixes spawn onto a named queue --------------------------------

NAMED = '''
import asyncio
import threading

import requests


async def send_email(user_id: int):
    await asyncio.sleep(0.01)


def post(url):
    requests.post(url, timeout=3)


async def on_signup(user_id, loop):
    asyncio.create_task(send_email(user_id))
    loop.call_soon(send_email, user_id)


def crawl(urls):
    for url in urls:
        threading.Thread(target=post, args=(url,)).start()
'''


def test_fixes_spawn_onto_the_configured_queue():
    settings = Settings(root=ROOT, fix=FixSettings(queue="emails"))
    outcome = fix_of(NAMED, settings=settings)
    lines = outcome.fixed.splitlines()
    assert "from ffscan.runtime import queue" in lines
    assert '    queue("emails").spawn(send_email, user_id)' in lines
    assert '    loop.call_soon(queue("emails").spawn, send_email, user_id)' in lines
    assert '        queue("emails").submit(post, url)' in lines
    assert "background" not in outcome.fixed
    assert {f.start.line: fix.title for f, fix in outcome.applied}[17].startswith("Run it on the tracked queue `emails`:")


def test_a_module_that_uses_the_name_queue_gets_no_queue_fix():
    settings = Settings(root=ROOT, fix=FixSettings(queue="emails"))
    code = NAMED + "\n\ndef other():\n    queue = []\n    return queue\n"
    outcome = fix_of(code, settings=settings)
    assert "queue(" not in outcome.fixed
    assert "    track(asyncio.create_task(send_email(user_id)))" in outcome.fixed.splitlines()


def test_the_cli_names_the_queue_from_pyproject(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "pyproject.toml").write_text(
        '[project]\nname = "app"\ndependencies = ["ffscan"]\n\n[tool.ffscan]\n\n'
        '[tool.ffscan.fix]\nqueue = "emails"\n\n[tool.ffscan.queues.emails]\nmax-concurrency = 4\n'
    )
    (tmp_path / "app.py").write_text(NAMED.lstrip())
    assert main(["fix", "--unsafe-fixes", "app.py"]) == 0
    assert '    queue("emails").spawn(send_email, user_id)\n' in (tmp_path / "app.py").read_text()


# ---- a fix never hides a finding: work on the runtime is still background work ---------------

SWALLOWED = '''
import asyncio
import logging

log = logging.getLogger(__name__)


async def refresh_recommendations(user_id: int) -> None:
    try:
        await asyncio.sleep(0.1)
    except Exception:
        log.exception("background recommendation error")


async def follow(ws) -> None:
    try:
        async for event in ws:
            await save(event)
    except Exception:
        log.exception("feed error")


async def save(event) -> None:
    await asyncio.sleep(0)


async def create_order(request, ws):
    asyncio.create_task(refresh_recommendations(request["user_id"]))
    asyncio.create_task(follow(ws))
'''


@pytest.mark.parametrize("queue", [None, "emails"])
def test_the_swallowed_error_is_still_reported_after_the_rewrite(queue):
    settings = Settings(root=ROOT, fix=FixSettings(queue=queue))
    before = check_text(SWALLOWED, settings=settings)
    outcome = fix_of(SWALLOWED, settings=settings)
    spawn = '    queue("emails").spawn(' if queue else "    background.spawn("
    assert f"{spawn}refresh_recommendations, request[\"user_id\"])" in outcome.fixed.splitlines()
    assert "    track(asyncio.create_task(follow(ws)))" in outcome.fixed.splitlines()
    after = check_text(outcome.fixed, settings=settings)
    swallowed = lambda result: sorted((f.source_lines[0].strip(), f.code) for f in result.findings if f.code == "FF401")
    assert swallowed(before) == [("except Exception:", "FF401"), ("except Exception:", "FF401")]
    assert swallowed(after) == swallowed(before)


def test_show_fixes_lists_each_remedy_and_why(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "pyproject.toml").write_text('[project]\nname = "app"\ndependencies = ["ffscan"]\n\n[tool.ffscan]\n')
    (tmp_path / "app.py").write_text(HANDLER.lstrip())
    assert main(["fix", "--unsafe-fixes", "--diff", "--show-fixes", "app.py"]) == 1
    err = capsys.readouterr().err.splitlines()
    assert err[:2] == [
        "app.py:14:5: FF201 would fix: Run it on the tracked queue `background`: `send_email` is a short unit of work "
        "(it neither loops nor waits on what it did not make)",
        "app.py:15:5: FF201 would fix: Wrap the task in `track(...)`, off the bounded queue: `ws_reader` reads `ws` "
        "as it arrives (`async for` at line 9)",
    ]
    assert len(err) == 5 and err[-1].startswith("Would fix 4 findings in 1 file")


@pytest.mark.parametrize("queue", [None, "emails"])
def test_the_demo_jobs_swallowed_error_is_reported_after_ffscan_fix(tmp_path, monkeypatch, capsys, queue):
    """The shape issue 9 found: after the rewrite, FF401 on `refresh_recommendations` (it only
    logs what it catches) vanished although the job's code was unchanged."""
    import shutil

    from helpers import FIXTURES

    shutil.copytree(FIXTURES / "demo", tmp_path / "demo")
    monkeypatch.chdir(tmp_path / "demo")
    if queue:
        with open("pyproject.toml", "a") as config:
            config.write(f'\n[tool.ffscan.fix]\nqueue = "{queue}"\n\n[tool.ffscan.queues.{queue}]\nmax-concurrency = 4\n')
    swallowed = lambda: [line for line in capsys.readouterr().out.splitlines() if " FF401 " in line]
    main(["check", "--no-cache", "--select", "FF401", "--format", "concise", "shop"])
    before = swallowed()
    assert main(["fix", "--no-cache", "--unsafe-fixes", "shop"]) == 1  # FF401 and FF502 have no fix
    fixed = (tmp_path / "demo" / "shop" / "orders.py").read_text() + (tmp_path / "demo" / "shop" / "recommendations.py").read_text()
    spawn = f'queue("{queue}").spawn(' if queue else "background.spawn("
    assert f"    {spawn}refresh_recommendations, request[\"user_id\"])" in fixed
    assert "    track(loop.create_task(refresh_recommendations(user_id)))" in fixed
    capsys.readouterr()
    main(["check", "--no-cache", "--select", "FF401", "--format", "concise", "shop"])
    after = swallowed()
    message = lambda line: line.split(": ", 1)[1].split(" (runs in", 1)[0]  # the import added moves the line
    assert [message(line) for line in after] == [message(line) for line in before] == [
        "FF401 Broad `except Exception` in background function `refresh_recommendations` only logs; the failure "
        "never reaches a caller, a retry or an alert"
    ]
    assert [line.split(":", 1)[0] for line in after] == ["shop/recommendations.py"]
