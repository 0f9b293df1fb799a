"""Every fixture folder: `bad.py` findings equal its `# expect:` lines; `good.py` is silent."""

from __future__ import annotations

import pytest

from helpers import FIXTURES, check_text, describe_mismatch, expected, found

RULE_DIRS = sorted(p for p in FIXTURES.iterdir() if p.is_dir() and p.name.startswith("FF"))


@pytest.mark.parametrize("folder", RULE_DIRS, ids=lambda p: p.name)
def test_bad_fixture_findings_equal_expect_annotations(folder):
    text = (folder / "bad.py").read_text(encoding="utf-8")
    want, got = expected(text), found(text, path=f"fixtures/{folder.name}/bad.py")
    assert got == want, "\n" + describe_mismatch(want, got)


@pytest.mark.parametrize("folder", RULE_DIRS, ids=lambda p: p.name)
def test_bad_fixture_exercises_its_own_rule(folder):
    text = (folder / "bad.py").read_text(encoding="utf-8")
    assert any(code == folder.name for _, code in expected(text)), f"{folder.name}/bad.py has no expect: {folder.name}"


@pytest.mark.parametrize("folder", RULE_DIRS, ids=lambda p: p.name)
def test_good_fixture_is_silent_under_all_rules(folder):
    text = (folder / "good.py").read_text(encoding="utf-8")
    result = check_text(text, path=f"fixtures/{folder.name}/good.py")
    assert [(f.start.line, f.code, f.message) for f in result.findings] == []
    assert result.errors == []
