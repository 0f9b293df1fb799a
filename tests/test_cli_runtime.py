"""`ffscan vendor-runtime` and `ffscan jobs`: the runtime as a project sees it from the CLI."""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys

from ffscan.cli import main

DROPPED = "import asyncio\n\n\nasync def job():\n    await asyncio.sleep(0)\n\n\nasync def handler():\n    asyncio.create_task(job())\n"


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
    assert "write it with `ffscan vendor-runtime src/myapp/_missing`" in capsys.readouterr().err


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
    header = next(i for i, line in enumerate(lines) if line.startswith("id "))
    assert lines[header].split() == ["id", "name", "status", "attempts", "created", "took", "last", "error"]
    assert sorted(line.split()[2] for line in lines[header + 1 : header + 3]) == ["failed", "succeeded"]
    assert all(line == line.rstrip() for line in lines)
    assert not set(out) & set("┃│━┏┓┡┩└┘─")


def test_jobs_on_a_missing_journal_exits_2(tmp_path, capsys):
    assert main(["jobs", str(tmp_path / "none.db")]) == 2
    assert "no job journal" in capsys.readouterr().err


def _journal_with_two_queues(path):
    from ffscan.runtime import SQLiteJournal, TrackedQueue

    journal = SQLiteJournal(path)
    emails = TrackedQueue("emails", journal=journal, on_error=lambda job, exc: None)
    thumbs = TrackedQueue("thumbnails", journal=journal, on_error=lambda job, exc: None)

    def bounce(address):
        raise ConnectionError(f"550 {address}")

    emails.submit(len, "ok").result(timeout=5)
    emails.submit(bounce, "ann@example.com").exception(timeout=5)
    for n in range(3):
        thumbs.submit(abs, n).result(timeout=5)
    emails.shutdown()
    thumbs.shutdown()
    journal.close()


def test_jobs_json_has_counts_and_throughput_per_queue(tmp_path, capsys):
    _journal_with_two_queues(tmp_path / "j.db")
    assert main(["jobs", str(tmp_path / "j.db"), "--format", "json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert sorted(report["queues"]) == ["emails", "thumbnails"]
    emails, thumbs = report["queues"]["emails"], report["queues"]["thumbnails"]
    assert (emails["by_status"]["succeeded"], emails["by_status"]["failed"], emails["per_minute"]) == (1, 1, 2.0)
    assert (thumbs["by_status"]["succeeded"], thumbs["per_minute"]) == (3, 3.0)
    assert [row["last_error"] for row in report["summary"]["failures"]] == ["ConnectionError('550 ann@example.com')"]


def _queue_rows(out):
    """The queue table's rows, drawn with a box (a terminal) or in plain columns (a pipe)."""
    boxed = [[cell.strip() for cell in line.split("│")[1:-1]] for line in out.splitlines() if line.startswith("│ ")]
    plain = [line.split() for line in out.splitlines() if not line.startswith("│")]
    return [row for row in boxed + plain if row and row[0] in ("emails", "thumbnails")]


def test_jobs_text_shows_queues_and_recent_failures(tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("COLUMNS", "200")
    _journal_with_two_queues(tmp_path / "j.db")
    assert main(["jobs", str(tmp_path / "j.db"), "--no-color"]) == 0
    out = capsys.readouterr().out
    assert _queue_rows(out) == [
        ["emails", "0", "0", "0", "1", "1", "0", "0", "2.0"],
        ["thumbnails", "0", "0", "0", "3", "0", "0", "0", "3.0"],
    ]
    assert out.splitlines()[4].split() == ["when", "queue", "job", "attempts", "error"]  # piped: plain
    assert "ConnectionError('550 ann@example.com')" in out
    assert "5 jobs: succeeded 4, failed 1" in out
    monkeypatch.setattr("ffscan.cli.is_terminal", lambda stream: True)
    assert main(["jobs", str(tmp_path / "j.db"), "--no-color"]) == 0
    boxed = capsys.readouterr().out
    assert "recent failures" in boxed and _queue_rows(boxed) == _queue_rows(out)


def test_jobs_watch_redraws_until_interrupted_and_exits_0(tmp_path, capsys, monkeypatch):
    from ffscan.report import jobs as report

    monkeypatch.setenv("COLUMNS", "200")
    _journal_with_two_queues(tmp_path / "j.db")
    naps = []

    def sleep(seconds):
        naps.append(seconds)
        if len(naps) == 2:
            raise KeyboardInterrupt

    monkeypatch.setattr(report.time, "sleep", sleep)
    assert main(["jobs", str(tmp_path / "j.db"), "--watch", "--interval", "0.5", "--no-color"]) == 0
    assert naps == [0.5, 0.5]
    assert _queue_rows(capsys.readouterr().out)[:2] == [
        ["emails", "0", "0", "0", "1", "1", "0", "0", "2.0"],
        ["thumbnails", "0", "0", "0", "3", "0", "0", "0", "3.0"],
    ]
    assert main(["jobs", str(tmp_path / "j.db"), "--watch", "--format", "json"]) == 2
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
