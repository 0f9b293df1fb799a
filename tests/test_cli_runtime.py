"""`ffscan vendor-runtime` and `ffscan jobs`: the runtime as a project sees it from the CLI."""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys

from ffscan.cli import main

DROPPED = "import asyncio\n\n\nasync def job():\n    pass\n\n\nasync def handler():\n    asyncio.create_task(job())\n"


def test_vendored_runtime_imports_without_ffscan_and_fixes_target_it(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    assert main(["vendor-runtime", "myapp/_tracked.py"]) == 0
    assert 'runtime-module = "myapp._tracked"' in capsys.readouterr().out
    (tmp_path / "myapp" / "__init__.py").write_text("")
    # The copy works where ffscan is not importable at all.
    probe = "import sys; sys.modules['ffscan'] = None; import myapp._tracked as t; print(t.track.__name__, type(t.background).__name__)"
    done = subprocess.run([sys.executable, "-c", probe], cwd=tmp_path, capture_output=True, text=True, check=True)
    assert done.stdout.split()[0] == "track"
    (tmp_path / "pyproject.toml").write_text('[tool.ffscan.fix]\nruntime-module = "myapp._tracked"\n')
    (tmp_path / "myapp" / "handlers.py").write_text(DROPPED)
    assert main(["fix", "myapp/handlers.py"]) == 0
    fixed = (tmp_path / "myapp" / "handlers.py").read_text()
    assert "from myapp._tracked import track" in fixed
    assert "    track(asyncio.create_task(job()))\n" in fixed


def test_vendor_runtime_refuses_to_overwrite_without_force(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    assert main(["vendor-runtime", "vendored"]) == 0
    assert main(["vendor-runtime", "vendored"]) == 2
    assert "exists; use --force" in capsys.readouterr().err
    assert main(["vendor-runtime", "vendored", "--force"]) == 0


def test_fix_refuses_a_runtime_module_the_project_cannot_import(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "pyproject.toml").write_text('[tool.ffscan.fix]\nruntime-module = "myapp._missing"\n')
    (tmp_path / "app.py").write_text(DROPPED)
    assert main(["fix", "app.py"]) == 2
    assert "`myapp._missing`, which cannot be imported" in capsys.readouterr().err
    assert (tmp_path / "app.py").read_text() == DROPPED
    (tmp_path / "src" / "myapp").mkdir(parents=True)  # a src layout: the command to run says so
    assert main(["fix", "app.py"]) == 2
    assert "write it with `ffscan vendor-runtime src/myapp/_missing` or install ffscan" in capsys.readouterr().err


def test_jobs_lists_a_journal_with_counts_per_status(tmp_path, capsys):
    from ffscan.runtime import SQLiteJournal, TrackedQueue

    async def ok():
        return 1

    async def fails():
        raise ValueError("boom")

    async def run():
        queue = TrackedQueue(name="jobs-test", journal=SQLiteJournal(tmp_path / "j.db"), on_error=lambda job, exc: None)
        queue.spawn(ok)
        queue.spawn(fails)
        await queue.drain()
        await queue.aclose()

    asyncio.run(run())
    assert main(["jobs", str(tmp_path / "j.db"), "--format", "json"]) == 0
    report = json.loads(capsys.readouterr().out)
    names = sorted((row["name"].rsplit(".", 1)[-1], row["status"]) for row in report["jobs"])
    assert names == [("fails", "failed"), ("ok", "succeeded")]
    assert report["summary"]["total"] == 2
    assert main(["jobs", str(tmp_path / "j.db"), "--no-color"]) == 0
    out = capsys.readouterr().out
    assert "2 jobs: succeeded 1, failed 1" in out
    # piped: plain columns, no box and no padding at the ends of lines
    lines = out.splitlines()
    assert lines[0].split() == ["id", "name", "status", "attempts", "created", "took", "last", "error"]
    assert sorted(line.split()[2] for line in lines[1:3]) == ["failed", "succeeded"]
    assert all(line == line.rstrip() for line in lines)
    assert not set(out) & set("┃│━┏┓┡┩└┘─")


def test_jobs_on_a_missing_journal_exits_2(tmp_path, capsys):
    assert main(["jobs", str(tmp_path / "none.db")]) == 2
    assert "no job journal" in capsys.readouterr().err


def test_vendor_runtime_names_the_importable_module_in_a_src_layout(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "src" / "myapp").mkdir(parents=True)
    (tmp_path / "src" / "myapp" / "__init__.py").write_text("")
    assert main(["vendor-runtime", "src/myapp/_tracked"]) == 0
    assert capsys.readouterr().out.endswith('runtime-module = "myapp._tracked"\n')
    # a namespace package (no __init__.py) under src/: the src/ folder is still no package
    assert main(["vendor-runtime", "src/other/_tracked"]) == 0
    assert capsys.readouterr().out.endswith('runtime-module = "other._tracked"\n')
    # and the fixes can import it from there
    (tmp_path / "pyproject.toml").write_text('[tool.ffscan.fix]\nruntime-module = "myapp._tracked"\n')
    (tmp_path / "src" / "myapp" / "handlers.py").write_text(DROPPED)
    assert main(["fix", "src/myapp/handlers.py"]) == 0
    assert "from myapp._tracked import track" in (tmp_path / "src" / "myapp" / "handlers.py").read_text()
