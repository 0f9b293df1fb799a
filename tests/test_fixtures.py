"""Every fixture folder: `bad.py` findings equal its `# expect:` lines; `good.py` is silent."""

from __future__ import annotations

import sys

import pytest

from ffscan.config import Settings, load_settings
from ffscan.model import RunResult
from ffscan.report import concise
from helpers import MISSING_COLON, FIXTURES, ROOT, check_text, describe_mismatch, expected, found, snapshot

# A folder without bad.py documents where its rule is tested instead (see its README.md).
RULE_DIRS = sorted(p for p in FIXTURES.iterdir() if p.is_dir() and p.name.startswith("FF") and (p / "bad.py").exists())


def folder_settings(folder) -> Settings:
    """Settings from the folder's own ffscan.toml, if it has one (e.g. a tiny max-file-size)."""
    config = folder / "ffscan.toml"
    return load_settings(config, ROOT) if config.exists() else Settings(root=ROOT)


@pytest.mark.parametrize("folder", RULE_DIRS, ids=lambda p: p.name)
def test_bad_fixture_findings_equal_expect_annotations(folder):
    text = (folder / "bad.py").read_text(encoding="utf-8")
    want = expected(text)
    got = found(text, path=f"fixtures/{folder.name}/bad.py", settings=folder_settings(folder))
    assert got == want, "\n" + describe_mismatch(want, got)


@pytest.mark.parametrize("folder", RULE_DIRS, ids=lambda p: p.name)
def test_bad_fixture_exercises_its_own_rule(folder):
    text = (folder / "bad.py").read_text(encoding="utf-8")
    assert any(code == folder.name for _, code in expected(text)), f"{folder.name}/bad.py has no expect: {folder.name}"


@pytest.mark.parametrize("folder", RULE_DIRS, ids=lambda p: p.name)
def test_good_fixture_is_silent_under_all_rules(folder):
    text = (folder / "good.py").read_text(encoding="utf-8")
    result = check_text(text, path=f"fixtures/{folder.name}/good.py", settings=folder_settings(folder))
    assert [(f.start.line, f.code, f.message) for f in result.findings] == []
    assert result.errors == []


@pytest.mark.parametrize("folder", RULE_DIRS, ids=lambda p: p.name)
def test_concise_report_of_bad_equals_its_snapshot(request, folder):
    # report.txt pins each finding's column and wording; it changes only with --update-fixtures.
    text = (folder / "bad.py").read_text(encoding="utf-8")
    result = check_text(text, path=f"fixtures/{folder.name}/bad.py", settings=folder_settings(folder))
    report = "\n".join(concise.finding_lines(RunResult(findings=result.findings))) + "\n"
    if sys.version_info < (3, 10):  # the snapshot holds the 3.10+ parser's words for a missing colon
        report = report.replace(f"File does not parse: {MISSING_COLON}", "File does not parse: expected ':'")
    snapshot(request, folder / "report.txt", report)
