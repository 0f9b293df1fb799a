from __future__ import annotations

import ast
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
    sources = sorted(RUNTIME.glob("*.py"))
    assert [path.name for path in sources] == [
        "__init__.py",
        "backoff.py",
        "default.py",
        "errors.py",
        "job.py",
        "journal.py",
        "queue.py",
        "stats.py",
        "track.py",
    ]
    for path in sources:
        ast.parse(path.read_text(encoding="utf-8"), filename=str(path), feature_version=(3, 9))
