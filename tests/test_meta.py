"""The project's own consistency: registry, modules, docs and fixtures agree."""

from __future__ import annotations

import inspect
import re
import shutil
import subprocess
import sys

import pytest

from helpers import FIXTURES, ROOT
from ffscan.report.rule_docs import rendered_docs
from ffscan.rules import all_rule_infos, all_rules

DOCS_DIR = ROOT / "rules"

SECTIONS = ["## What it does", "## Why is this bad?", "## Example", "## Fix", "## Fix safety"]
OPTIONAL = ["## Known limits", "## Options", "## References"]
RULES = list(all_rules().values())


def test_registry_codes_equal_rule_modules():
    modules = {p.stem[:5].upper() for p in (ROOT / "ffscan" / "rules").glob("ff[0-9][0-9][0-9]_*.py")}
    assert set(all_rules()) == modules


def test_every_rule_has_a_generated_doc_and_nothing_else_is_there():
    docs = {p.stem for p in DOCS_DIR.glob("FF*.md")}
    assert docs == set(all_rules())


def test_generated_docs_are_current():
    docs = rendered_docs(all_rule_infos().values())
    stale = [name for name, text in docs.items() if (DOCS_DIR / name).read_text(encoding="utf-8") != text]
    assert stale == [], "run `python tools/write_rule_docs.py`"


def test_every_rule_has_a_fixture_folder_and_every_folder_a_rule():
    folders = {p.name for p in FIXTURES.iterdir() if p.is_dir() and re.fullmatch(r"FF\d{3}", p.name)}
    assert folders == set(all_rules())


def test_a_fixture_folder_without_bad_py_names_the_test_that_covers_its_rule():
    for folder in sorted(p for p in FIXTURES.glob("FF[0-9][0-9][0-9]") if not (p / "bad.py").exists()):
        readme = (folder / "README.md").read_text(encoding="utf-8")
        test_file = re.search(r"`(tests/[\w/]+\.py)`", readme).group(1)
        assert folder.name in (ROOT / test_file).read_text(encoding="utf-8"), (folder.name, test_file)


@pytest.mark.parametrize("rule", RULES, ids=lambda r: r.code)
def test_docstring_sections_present_and_in_order(rule):
    doc = inspect.cleandoc(rule.__doc__ or "")
    headings = [line.strip() for line in doc.splitlines() if line.startswith("## ")]
    required = [h for h in headings if h not in OPTIONAL]
    assert required == SECTIONS, headings
    assert all(h in SECTIONS + OPTIONAL for h in headings), headings


@pytest.mark.parametrize("rule", RULES, ids=lambda r: r.code)
def test_rule_identity_follows_the_conventions(rule):
    module = rule.__module__.rsplit(".", 1)[1]
    assert module == f"ff{rule.code[2:]}_{rule.name.replace('-', '_')}"
    assert rule.__name__ == "".join(part.capitalize() for part in rule.name.split("-")) or rule.code.startswith("FF0")
    assert rule.message and not rule.message.endswith(".")
    assert rule.risk
    if rule.fix_applicability is not None:
        assert rule.fix_title
    if not rule.default_on:
        assert rule.off_reason, f"{rule.code} is off by default: say why (measured precision)"


@pytest.mark.parametrize("rule", RULES, ids=lambda r: r.code)
def test_every_rule_carries_its_ticket_wording(rule):
    # The ticket report words every issue from these; it keeps no table of its own.
    one, many = rule.subject
    assert one and many and one != many, rule.subject
    for phrase in (one, many, rule.loss):
        assert phrase == phrase.strip() and not phrase.endswith(".") and phrase[:1] == phrase[:1].lower(), phrase
    assert rule.risk
    assert bool(rule.impacts) is not rule.code.startswith("FF0")  # a file not analysed has no production impact
    info = all_rule_infos()[rule.code]
    assert (info.subject, info.loss, info.impacts, info.risk) == (rule.subject, rule.loss, rule.impacts, rule.risk)


def test_importing_ffscan_pulls_in_no_heavy_dependency():
    code = (
        "import sys, ffscan, ffscan.engine, ffscan.rules, ffscan.config, ffscan.cli;"
        "from ffscan.rules import all_rules; all_rules();"
        "print(sorted(m for m in ('libcst', 'networkx', 'rich') if m in sys.modules))"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "[]"


def test_a_check_reported_in_a_machine_format_loads_no_terminal_library_and_no_pool():
    # CI and pre-commit run `ffscan check --format concise|json|sarif` on a few files: rich and
    # the process pool are imported only when a run shows a bar, prints text or needs workers.
    code = (
        "import sys; from ffscan.cli import main;"
        f"main(['check', {str(FIXTURES / 'demo')!r}, '--format', 'concise', '--no-cache', '--exit-zero']);"
        "print(sorted(m for m in ('rich', 'concurrent.futures.process') if m in sys.modules), file=sys.stderr)"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stderr.strip().splitlines()[-1] == "[]" and "FF201" in done.stdout


def test_the_ticket_report_keeps_no_wording_of_its_own_per_rule():
    # Its per-rule table drifted once (a rule went missing); the wording now lives on the rules.
    sources = sorted((ROOT / "ffscan" / "report" / "ticket").glob("*.py"))
    assert [p.name for p in sources] == ["__init__.py", "edits.py", "frames.py", "grouping.py", "markdown.py", "options.py", "split.py"]
    assert [p.name for p in sources if re.search(r"\bFF\d{3}\b", p.read_text(encoding="utf-8"))] == []


def test_the_runtime_fixes_vendor_gives_no_finding_under_every_rule(tmp_path):
    # `ffscan fix --vendor` copies ffscan/runtime into the user's package: its own code must not
    # become a finding there.
    shutil.copytree(ROOT / "ffscan" / "runtime", tmp_path / "app" / "_tracked")
    done = subprocess.run(
        [sys.executable, "-m", "ffscan", "check", "app", "--select", "ALL", "--no-cache", "--format", "concise", "--no-color"],
        capture_output=True, text=True, cwd=tmp_path,
    )
    assert (done.returncode, done.stdout.strip()) == (0, "All checks passed!")
