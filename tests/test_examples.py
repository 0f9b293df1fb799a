"""examples/: the fixed variant is what `ffscan fix` writes, and every variant's demo runs."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from ffscan.cli import main

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"


def run_demo(folder: str, *extra_env: tuple[str, str]) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONPATH": str(EXAMPLES.parent), **dict(extra_env)}
    return subprocess.run(
        [sys.executable, "app.py", "--demo", "6"], cwd=EXAMPLES / folder, env=env, capture_output=True, text=True, timeout=60
    )


def test_the_fixed_example_is_ffscan_fix_of_the_bug_example(tmp_path, capsys):
    copy = tmp_path / "app.py"
    copy.write_bytes((EXAMPLES / "signup_bug" / "app.py").read_bytes())
    assert main(["fix", "--unsafe-fixes", str(copy)]) == 0
    assert capsys.readouterr().err == "Fixed 2 findings in 1 file, which adds `from ffscan.runtime import background` to 1 file.\n"
    assert copy.read_bytes() == (EXAMPLES / "signup_fixed" / "app.py").read_bytes()


def test_the_bug_and_fixed_demos_answer_every_signup():
    for folder in ("signup_bug", "signup_fixed"):
        done = run_demo(folder)
        assert done.returncode == 0, done.stderr
        assert done.stdout.splitlines()[0] == "6 signups answered"
    assert "Task exception was never retrieved" not in run_demo("signup_fixed").stderr


def test_the_celery_example_runs_its_jobs_in_process_with_the_local_engine():
    done = run_demo("signup_celery", ("SIGNUP_ENGINE", "local"))
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines() == ["6 signups answered", "12 jobs done, 0 failed, of 12 (local engine)"]
