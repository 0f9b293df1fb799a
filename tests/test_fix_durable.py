"""`[tool.ffscan.fix] durable-target`: unsafe fixes move work onto a task the project registered.

`fixtures/fix_durable/<queue>_in.py` -> `<queue>_out.py` is `ffscan fix --unsafe-fixes` with
`durable-target = "<queue>"`, byte for byte (snapshots change only through
`pytest --update-fixtures`). Calls of registered sync tasks become `fn.delay(...)` (Celery) or
`fn.send(...)` (Dramatiq); everything else keeps the tracked runtime's fix.
"""

from __future__ import annotations

import ast

import pytest

from ffscan.cli import main
from ffscan.config import FixSettings, Settings
from ffscan.engine.sources import decode_source
from ffscan.engine.fixing import fix_text
from ffscan.model import Applicability
from helpers import ALL_CODES, FIXTURES, ROOT

CASES = FIXTURES / "fix_durable"
QUEUES = {"celery": "delay", "dramatiq": "send"}


def fixed(text: str, target, unsafe: bool = True):
    settings = Settings(root=FIXTURES, fix=FixSettings(durable_target=target))
    return fix_text(decode_source(text.encode("utf-8"), "example.py"), settings, ALL_CODES, "example", unsafe=unsafe)


def imports(text: str) -> set:
    return {ast.unparse(node) for node in ast.walk(ast.parse(text)) if isinstance(node, (ast.Import, ast.ImportFrom))}


@pytest.mark.parametrize("queue", sorted(QUEUES))
def test_snapshot(request, queue):
    source = (CASES / f"{queue}_in.py").read_text(encoding="utf-8")
    outcome = fixed(source, queue)
    assert outcome.error is None, outcome.error
    expected = CASES / f"{queue}_out.py"
    if request.config.getoption("--update-fixtures"):
        expected.write_text(outcome.fixed, encoding="utf-8")
    assert expected.read_text(encoding="utf-8") == outcome.fixed
    compile(outcome.fixed, expected.name, "exec")
    assert fixed(outcome.fixed, queue).fixed == outcome.fixed, "fixing twice changes the file again"


@pytest.mark.parametrize("queue", sorted(QUEUES))
def test_registered_calls_move_and_others_stay_on_the_tracked_runtime(queue):
    out = (CASES / f"{queue}_out.py").read_text(encoding="utf-8")
    method = QUEUES[queue]
    for line in out.splitlines():
        if "registered: " in line or "of a task: ." in line or "of an actor: ." in line:
            assert f".{method}(" in line and "executor" not in line and "Thread" not in line, line
        elif ": track(...)" in line:
            assert line.strip().startswith("track(executor.submit("), line
        elif "tracked queue" in line or "background.submit" in line:
            assert "background." in line, line
    other = QUEUES["dramatiq" if queue == "celery" else "celery"]
    assert f".{other}(" not in out


@pytest.mark.parametrize("queue", sorted(QUEUES))
def test_no_queue_import_is_added(queue):
    source = (CASES / f"{queue}_in.py").read_text(encoding="utf-8")
    out = (CASES / f"{queue}_out.py").read_text(encoding="utf-8")
    assert {i for i in imports(out) - imports(source) if "ffscan.runtime" not in i} == set()


@pytest.mark.parametrize("queue", sorted(QUEUES))
def test_without_the_setting_nothing_moves_to_the_queue(queue):
    source = (CASES / f"{queue}_in.py").read_text(encoding="utf-8")
    outcome = fixed(source, None)
    assert outcome.error is None and outcome.changed
    assert all(f".{QUEUES[queue]}(" not in line.split("#")[0] for line in outcome.fixed.splitlines())


@pytest.mark.parametrize("queue", sorted(QUEUES))
def test_the_move_is_unsafe_only(queue):
    source = (CASES / f"{queue}_in.py").read_text(encoding="utf-8")
    outcome = fixed(source, queue, unsafe=False)
    assert all(fix.applicability is Applicability.SAFE for _, fix in outcome.applied)
    assert all(f".{QUEUES[queue]}(" not in line.split("#")[0] for line in outcome.fixed.splitlines())


ASYNC_TASK = '''import asyncio

from celery import shared_task


@shared_task
async def notify(order_id):
    await asyncio.sleep(0)


async def on_paid(order):
    asyncio.create_task(notify(order.id))
'''


def test_an_async_def_is_never_moved():
    outcome = fixed(ASYNC_TASK, "celery")
    assert ".delay(" not in outcome.fixed
    assert "background.spawn(notify, order.id)" in outcome.fixed


def test_cli_reads_the_target_from_ffscan_toml(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "ffscan.toml").write_text('select = ["FF302"]\n\n[fix]\ndurable-target = "celery"\n')
    source = (CASES / "celery_in.py").read_text(encoding="utf-8")
    (tmp_path / "tasks.py").write_text(source)
    assert main(["fix", "--unsafe-fixes", "tasks.py"]) == 0
    out = (tmp_path / "tasks.py").read_text()
    assert "    send_receipt.delay(order.id)  # registered: send_receipt.delay(order.id)\n" in out
    assert "    track(executor.submit(make_thumbnail, order.image))" in out


HUEY = '''from concurrent.futures import ThreadPoolExecutor

from huey import SqliteHuey

huey = SqliteHuey("shop")
executor = ThreadPoolExecutor()


@huey.task()
def resize(path):
    open(path).close()


def on_upload(path):
    executor.submit(resize, path)
'''


def test_a_huey_task_is_not_taken_for_a_celery_one():
    outcome = fixed(HUEY, "celery")
    assert "    track(executor.submit(resize, path))\n" in outcome.fixed


REBOUND = '''from concurrent.futures import ThreadPoolExecutor

from celery import shared_task

executor = ThreadPoolExecutor()


@shared_task
def resize(path):
    open(path).close()


resize = resize.s


def on_upload(path):
    executor.submit(resize, path)
'''


def test_a_name_bound_twice_at_module_level_is_not_moved():
    outcome = fixed(REBOUND, "celery")
    assert ".delay(" not in outcome.fixed and "track(executor.submit(resize, path))" in outcome.fixed


@pytest.mark.parametrize("queue", sorted(QUEUES))
def test_safe_then_unsafe_ends_where_unsafe_alone_ends(queue):
    source = (CASES / f"{queue}_in.py").read_text(encoding="utf-8")
    safe = fixed(source, queue, unsafe=False)
    assert safe.changed
    assert fixed(safe.fixed, queue).fixed == fixed(source, queue).fixed
