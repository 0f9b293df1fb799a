"""Whole-program fixtures: every `fixtures/project_*/` package, checked as one project.

The multiset of (file, line, code) found equals the `# expect:` annotations of all its files,
and checking one file alone with the others' summaries cached (what pre-commit does) finds
that file's share exactly.
"""

from __future__ import annotations

from collections import Counter

import pytest

from ffscan.config import load_settings
from ffscan.engine import run_check
from ffscan.rules import rule_names
from helpers import FIXTURES, expected

PROJECTS = sorted(p for p in FIXTURES.glob("project_*") if p.is_dir())


def annotations(folder) -> Counter:
    found: Counter = Counter()
    for path in sorted(folder.rglob("*.py")):
        relative = path.relative_to(folder).as_posix()
        for (line, code), count in expected(path.read_text(encoding="utf-8")).items():
            found[(relative, line, code)] += count
    return found


def check(folder, paths=(".",), jobs=1):
    settings = load_settings(folder / "ffscan.toml", folder, rule_names())
    return run_check(list(paths), settings, jobs=jobs)


def describe(want: Counter, got: Counter) -> str:
    lines = [f"missing: {p}:{line} {code}" for (p, line, code) in sorted((want - got).elements())]
    lines += [f"unexpected: {p}:{line} {code}" for (p, line, code) in sorted((got - want).elements())]
    return "\n".join(lines)


@pytest.mark.parametrize("folder", PROJECTS, ids=lambda p: p.name)
def test_project_findings_equal_expect_annotations(folder, monkeypatch):
    monkeypatch.chdir(folder)
    result = check(folder)
    assert result.errors == []
    got = Counter((f.path, f.start.line, f.code) for f in result.findings)
    want = annotations(folder)
    assert got == want, "\n" + describe(want, got)


@pytest.mark.parametrize("folder", PROJECTS, ids=lambda p: p.name)
def test_a_pool_gives_the_same_findings(folder, monkeypatch):
    monkeypatch.chdir(folder)
    alone = check(folder, jobs=1).findings  # a small run: undecided candidates kept as findings
    # A run as large as the pool's keeps them as questions, and checks again the files the
    # whole program says yes to: in the pool and in one process, it finds the same.
    monkeypatch.setattr("ffscan.engine.POOL_THRESHOLD", 1)
    assert check(folder, jobs=2).findings == alone
    assert check(folder, jobs=1).findings == alone
