"""`ffscan spawners`: the project functions inferred to start tasks, and what they do with them."""

from __future__ import annotations

import json
import shutil

from ffscan.cli import main
from helpers import FIXTURES

PROJECT = FIXTURES / "project_spawners"


def test_every_helper_is_listed_with_what_it_does_and_the_evidence(monkeypatch, capsys):
    monkeypatch.chdir(PROJECT)
    assert main(["spawners", "."]) == 0
    assert capsys.readouterr().out.splitlines() == [
        "svc.tasks.fire(coro) drops the task it starts (the task can vanish; reported there) [svc/tasks.py:22, via `asyncio.create_task`]",
        "svc.tasks.launch(coro) returns the task it starts: callers must keep it [svc/tasks.py:40, via `start`]",
        "svc.tasks.named(coro) returns the task it starts: callers must keep it [svc/tasks.py:27, via `asyncio.create_task`]",
        "svc.tasks.registered(coro) keeps the task it starts: callers need not [svc/tasks.py:33, via `asyncio.create_task`]",
        "svc.tasks.spawn(coro) keeps the task it starts: callers need not [svc/tasks.py:15, via `asyncio.create_task`]",
        "svc.tasks.start(coro) returns the task it starts: callers must keep it [svc/tasks.py:10, via `asyncio.AbstractEventLoop.create_task`]",
    ]


def test_a_configured_tracked_spawner_is_shown_as_keeping(tmp_path, monkeypatch, capsys):
    project = tmp_path / "project"
    shutil.copytree(PROJECT, project)
    (project / "ffscan.toml").write_text('select = ["FF2"]\ntracked-spawners = ["svc.tasks.start"]\n', encoding="utf-8")
    monkeypatch.chdir(project)
    assert main(["spawners", ".", "--format", "json"]) == 0
    rows = {row["function"]: row for row in json.loads(capsys.readouterr().out)}
    assert (rows["svc.tasks.start"]["behaviour"], rows["svc.tasks.start"]["configured"]) == ("keeps", True)
    assert (rows["svc.tasks.named"]["behaviour"], rows["svc.tasks.named"]["configured"]) == ("returns", False)
