"""The `ffscan` pre-commit hook, run for real with `pre-commit try-repo` on throwaway repos.

The hook installs ffscan from a snapshot of this checkout into its own virtualenv (pip, through
the configured package index), which takes about a minute the first time; both cases share it.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

yaml = pytest.importorskip("yaml", reason="PyYAML comes with pre-commit (the `test` extra)")

ROOT = Path(__file__).resolve().parent.parent
DROPPED = "import asyncio\n\n\nasync def handler(job):\n    asyncio.create_task(job())\n"
KEPT = "import asyncio\n\n\nasync def handler(job):\n    await asyncio.create_task(job())\n"

def _pre_commit() -> str:
    beside = Path(sys.executable).with_name("pre-commit")
    return str(beside) if beside.exists() else (shutil.which("pre-commit") or "")


def _git(cwd: Path, *args: str) -> None:
    subprocess.run(
        ["git", "-c", "user.name=ffscan", "-c", "user.email=ffscan@example.invalid", "-c", "commit.gpgsign=false", *args],
        cwd=cwd,
        check=True,
        capture_output=True,
    )


def test_hook_manifest_matches_what_the_cli_needs():
    hooks = yaml.safe_load((ROOT / ".pre-commit-hooks.yaml").read_text(encoding="utf-8"))
    assert [(h["id"], h["entry"], h["language"]) for h in hooks] == [
        # pre-commit names files explicitly: --force-exclude keeps the configured excludes (as Ruff's hook)
        ("ffscan", "ffscan check --force-exclude", "python"),
        ("ffscan-fix", "ffscan fix --force-exclude", "python"),
    ]
    assert all(h["types_or"] == ["python", "pyi"] and h["require_serial"] is True for h in hooks)


@pytest.fixture(scope="module")
def hook_source(tmp_path_factory):
    """A committed snapshot of this checkout's tracked files (working-tree versions) to try."""
    if shutil.which("git") is None:
        pytest.skip("git is not installed")
    if not _pre_commit():
        pytest.skip("pre-commit is not installed (it is in the `test` extra)")
    listed = subprocess.run(["git", "ls-files", "-z"], cwd=ROOT, capture_output=True, check=True).stdout
    source = tmp_path_factory.mktemp("hook-source")
    for name in filter(None, listed.decode().split("\0")):
        origin = ROOT / name
        if origin.is_file() and not origin.is_symlink():
            target = source / name
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(origin, target)
    _git(source, "init", "-q")
    _git(source, "add", "-A")
    _git(source, "commit", "-q", "-m", "snapshot")
    return source, tmp_path_factory.mktemp("pre-commit-home")


def _try_repo(hook_source, files: dict, tmp_path: Path, hook: str = "ffscan") -> subprocess.CompletedProcess:
    source, home = hook_source
    repo = tmp_path / "repo"
    repo.mkdir()
    _git(repo, "init", "-q")
    for name, text in files.items():
        (repo / name).write_text(text, encoding="utf-8")
    _git(repo, "add", "-A")
    env = {k: v for k, v in os.environ.items() if k not in ("FORCE_COLOR", "PRE_COMMIT_COLOR")}
    env["PRE_COMMIT_HOME"] = str(home)
    return subprocess.run(
        [_pre_commit(), "try-repo", str(source), hook, "--all-files", "--color", "never"],
        cwd=repo,
        capture_output=True,
        text=True,
        env=env,
        timeout=600,
    )


@pytest.mark.slow  # about a minute: the hook's first run builds its virtualenv
def test_hook_fails_on_a_dropped_task(hook_source, tmp_path):
    done = _try_repo(hook_source, {"app.py": DROPPED, "ok.py": KEPT, "README.md": "create_task\n"}, tmp_path)
    output = done.stdout + done.stderr
    assert done.returncode == 1, output
    assert "- exit code: 1" in output  # ffscan found something; 2 would be an error
    assert "app.py:5:5: FF201" in output
    assert "ok.py:" not in output


@pytest.mark.slow
def test_hook_passes_on_a_clean_repo(hook_source, tmp_path):
    done = _try_repo(hook_source, {"ok.py": KEPT, "stub.pyi": "def f() -> int: ...\n"}, tmp_path)
    output = done.stdout + done.stderr
    assert done.returncode == 0, output
    assert "ffscan" in output and "Passed" in output


@pytest.mark.slow
def test_fix_hook_rewrites_a_dropped_task_and_stops_the_commit(hook_source, tmp_path):
    done = _try_repo(hook_source, {"app.py": DROPPED, "ok.py": KEPT}, tmp_path, hook="ffscan-fix")
    output = done.stdout + done.stderr
    assert done.returncode == 1, output
    assert "files were modified by this hook" in output
    fixed = (tmp_path / "repo" / "app.py").read_text(encoding="utf-8")
    assert "from ffscan.runtime import track" in fixed
    assert (tmp_path / "repo" / "ok.py").read_text(encoding="utf-8") == KEPT
