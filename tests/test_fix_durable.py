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
from helpers import ALL_CODES, FIXTURES

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
        elif "enqueue(...)" in line or "enqueue(send_receipt" in line:
            assert line.strip().startswith("enqueue(send_receipt, order_id)"), line
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
    assert "    send_receipt.delay(order_id)  # registered: send_receipt.delay(order_id)\n" in out
    assert "    track(executor.submit(make_thumbnail, image))" in out


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


OTHER_LIBRARIES = '''from concurrent.futures import ThreadPoolExecutor

from huey import RedisHuey
from prefect import task
from rocketry import Rocketry

executor = ThreadPoolExecutor()
huey = RedisHuey("shop")
app = Rocketry()


@huey.task()
def resize(path: str):
    open(path).close()


@app.task("daily")
def nightly(day: str):
    print(day)


@task
def report(day: str):
    print(day)


def on_upload(path: str, day: str):
    executor.submit(resize, path)
    executor.submit(nightly, day)
    executor.submit(report, day)
'''


@pytest.mark.parametrize("queue", sorted(QUEUES))
def test_other_libraries_tasks_are_never_enqueued(queue):
    outcome = fixed(OTHER_LIBRARIES, queue)
    assert outcome.fixed.splitlines()[-3:] == [
        "    track(executor.submit(resize, path))",
        "    track(executor.submit(nightly, day))",
        "    track(executor.submit(report, day))",
    ]


ASYNC_PRODUCER = '''import asyncio

from celery import Celery

app = Celery("shop")


@app.task
def send_receipt(order_id, note=""):
    print(order_id, note)


async def checkout(order_id: int, order, count: "int | None", tags: "list[str]"):
    loop = asyncio.get_running_loop()
    loop.run_in_executor(None, send_receipt, order_id)
    loop.run_in_executor(None, send_receipt, f"order-{order_id}")
    loop.run_in_executor(None, send_receipt, [1, 2.5, "x", None, True])
    loop.run_in_executor(None, send_receipt, count)
    loop.run_in_executor(None, send_receipt, {"id": 1})
    for tag in tags:
        loop.run_in_executor(None, send_receipt, tag)
    loop.run_in_executor(None, send_receipt, order)
    loop.run_in_executor(None, send_receipt, order.id)
    loop.run_in_executor(None, send_receipt, b"bytes")
    loop.run_in_executor(None, send_receipt, {1: "x"})
'''


def test_async_code_enqueues_off_the_loop_and_only_known_json():
    outcome = fixed(ASYNC_PRODUCER, "celery")
    body = outcome.fixed.split("loop = asyncio.get_running_loop()\n", 1)[1].splitlines()
    assert body == [
        "    enqueue(send_receipt, order_id)",
        '    enqueue(send_receipt, f"order-{order_id}")',
        '    enqueue(send_receipt, [1, 2.5, "x", None, True])',
        "    enqueue(send_receipt, count)",
        '    enqueue(send_receipt, {"id": 1})',
        "    for tag in tags:",
        "        enqueue(send_receipt, tag)",
        "    track(loop.run_in_executor(None, send_receipt, order))",
        "    track(loop.run_in_executor(None, send_receipt, order.id))",
        '    track(loop.run_in_executor(None, send_receipt, b"bytes"))',
        '    track(loop.run_in_executor(None, send_receipt, {1: "x"}))',
    ]
    assert "from ffscan.runtime import enqueue, track" in outcome.fixed.splitlines()
    assert ".delay(" not in outcome.fixed


def write_project(root, files: dict) -> Settings:
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    (root / "pyproject.toml").write_text(
        '[project]\nname = "shop"\ndependencies = ["ffscan"]\n\n[tool.ffscan]\nselect = ["FF302", "FF307"]\n\n'
        '[tool.ffscan.fix]\ndurable-target = "celery"\n'
    )
    return Settings(root=root, config_path=root / "pyproject.toml", select=("FF302", "FF307"), fix=FixSettings(durable_target="celery"))


IMPORTED_APPS = {
    "shop/__init__.py": "from .celery_app import app\n",
    "shop/celery_app.py": 'from celery import Celery\n\napp = Celery("shop")\n',
    "shop/scheduler.py": "from rocketry import Rocketry\n\napp = Rocketry()\n",
    "shop/queue.py": 'from huey import RedisHuey\n\nhuey = RedisHuey("shop")\n',
    "shop/tasks.py": '''from concurrent.futures import ThreadPoolExecutor

from shop import app as reexported
from shop.celery_app import app
from shop.queue import huey
from shop.scheduler import app as rocket

executor = ThreadPoolExecutor()


@app.task
def send_receipt(order_id: int):
    print(order_id)


@reexported.task(name="resize")
def resize(path: str):
    print(path)


@rocket.task("daily")
def nightly(day: str):
    print(day)


@huey.task()
def thumbnail(path: str):
    print(path)


def on_order(order_id: int, path: str, day: str):
    executor.submit(send_receipt, order_id)
    executor.submit(resize, path)
    executor.submit(nightly, day)
    executor.submit(thumbnail, path)
''',
}


def test_an_app_imported_from_another_module_is_matched_by_what_it_is(tmp_path, monkeypatch):
    from ffscan.engine.fixing import run_fix

    monkeypatch.chdir(tmp_path)
    settings = write_project(tmp_path, IMPORTED_APPS)
    run = run_fix(["shop"], settings, unsafe=True, write=False)
    (tasks,) = [outcome for outcome in run.files if outcome.path == "shop/tasks.py"]
    assert tasks.error is None, tasks.error
    assert tasks.fixed.splitlines()[-4:] == [
        "    send_receipt.delay(order_id)",
        "    resize.delay(path)",
        "    track(executor.submit(nightly, day))",
        "    track(executor.submit(thumbnail, path))",
    ]


def test_fixed_alone_an_imported_app_is_not_known_to_be_celery():
    text = IMPORTED_APPS["shop/tasks.py"]
    outcome = fix_text(decode_source(text.encode("utf-8"), "shop/tasks.py"), Settings(root=FIXTURES, fix=FixSettings(durable_target="celery")), ALL_CODES, "shop.tasks", unsafe=True)
    assert ".delay(" not in outcome.fixed


LOOP_CALLBACK = '''import asyncio

from celery import shared_task


@shared_task
def send_receipt(order_id):
    print(order_id)


class Protocol(asyncio.Protocol):
    def data_received(self, data):
        loop = asyncio.get_running_loop()
        loop.run_in_executor(None, send_receipt, 7)
        asyncio.create_task(asyncio.to_thread(send_receipt, 8))
'''


def test_a_sync_callback_on_the_event_loop_enqueues_too():
    outcome = fixed(LOOP_CALLBACK, "celery")
    assert outcome.fixed.splitlines()[-2:] == ["        enqueue(send_receipt, 7)", "        enqueue(send_receipt, 8)"]
