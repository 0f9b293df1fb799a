from __future__ import annotations

import ast
import os
import shutil
import subprocess
import sys
from pathlib import Path

RUNTIME = Path(__file__).resolve().parents[2] / "ffscan" / "runtime"


def test_importing_the_runtime_loads_no_heavy_dependency():
    probe = (
        "import sys, ffscan.runtime; "
        "print(sorted(m for m in sys.modules if m.split('.')[0] in {'libcst', 'rich', 'networkx'}))"
    )
    output = subprocess.run(
        [sys.executable, "-c", probe],
        capture_output=True,
        text=True,
        timeout=20,
        cwd=RUNTIME.parents[1],
        check=True,
    ).stdout
    assert output.strip() == "[]"


def test_runtime_sources_parse_as_python_3_9():
    sources = sorted(RUNTIME.rglob("*.py"))
    assert [path.relative_to(RUNTIME).as_posix() for path in sources] == [
        "__init__.py",
        "admission.py",
        "backends/__init__.py",
        "backends/celery.py",
        "backoff.py",
        "bookkeeping.py",
        "clock.py",
        "default.py",
        "enqueue.py",
        "errors.py",
        "execution.py",
        "intake.py",
        "job.py",
        "journal.py",
        "journal_rows.py",
        "journal_writer.py",
        "options.py",
        "pyproject.py",
        "queue.py",
        "ratelimit.py",
        "registry.py",
        "scheduling.py",
        "shutdown.py",
        "stats.py",
        "track.py",
    ]
    for path in sources:
        ast.parse(path.read_text(encoding="utf-8"), filename=str(path), feature_version=(3, 9))


def test_a_copy_of_the_package_works_under_another_name_without_ffscan(tmp_path):
    shutil.copytree(RUNTIME, tmp_path / "tracked_work", ignore=shutil.ignore_patterns("__pycache__"))
    probe = (
        "import sys, tracked_work; "
        "job = tracked_work.background.submit(sum, [1, 2, 3]); "
        "print(job.result(timeout=5), 'ffscan' in sys.modules)"
    )
    output = subprocess.run(
        [sys.executable, "-c", probe],
        capture_output=True,
        text=True,
        timeout=20,
        cwd=tmp_path,
        env={**os.environ, "PYTHONPATH": str(tmp_path)},
        check=True,
    ).stdout
    assert output.split() == ["6", "False"]


def test_importing_the_runtime_loads_no_engine():
    probe = (
        "import sys, ffscan.runtime, ffscan.runtime.backends; "
        "print(sorted(m for m in sys.modules if m.split('.')[0] in {'celery', 'kombu', 'redis', 'tomli'}))"
    )
    output = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, timeout=20, cwd=RUNTIME.parents[1], check=True
    ).stdout
    assert output.strip() == "[]"
