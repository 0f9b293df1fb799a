"""`ffscan check / rules / rule`: exit codes, rule selection, output options, config errors."""

from __future__ import annotations

import ast
import io
import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

import ffscan.rules
from ffscan.cli import main
from ffscan.model import Impact
from ffscan.rules import all_rules
from ffscan.rules.base import Rule, rule_doc
from helpers import MISSING_COLON, ROOT

DROPPED = "import asyncio\n\n\nasync def handler(job):\n    asyncio.create_task(job())\n"
KEPT = "import asyncio\n\n\nasync def handler(job):\n    await asyncio.create_task(job())\n"
BROKEN = "def handler(job)\n    return job\n"


@pytest.fixture
def project(tmp_path, monkeypatch):
    """A project with its own [tool.ffscan] table (so no config above tmp_path leaks in)."""

    def make(files, config=""):
        (tmp_path / "pyproject.toml").write_text("[tool.ffscan]\n" + config, encoding="utf-8")
        for name, text in files.items():
            path = tmp_path / name
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(text, encoding="utf-8")
        return tmp_path

    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("FORCE_COLOR", raising=False)
    return make


def run(capsys, *args):
    code = main(list(args))
    out, err = capsys.readouterr()
    return code, out, err


def findings(capsys, *args):
    """(exit code, [(path, line, column, code)]) from a JSON run."""
    code, out, _ = run(capsys, "check", "--format", "json", *args)
    document = json.loads(out)
    return code, [(f["path"], f["start"]["line"], f["start"]["column"], f["code"]) for f in document["findings"]]


class Boom(Rule):
    """## What it does
    Reports every call to a function named `boom` (a test rule, off by default).
    """

    code = "FF599"
    name = "boom-call"
    message = "`boom` is called"
    impacts = (Impact.NO_BACKPRESSURE,)
    default_on = False
    off_reason = "a test rule"

    def visit_Call(self, node: ast.Call) -> None:
        if isinstance(node.func, ast.Name) and node.func.id == "boom":
            self.report(node)


@pytest.fixture
def with_boom(monkeypatch):
    registry = dict(all_rules())
    registry[Boom.code] = Boom
    monkeypatch.setattr(ffscan.rules, "_REGISTRY", registry)


# Exit codes


def test_clean_file_exits_0_and_says_so(project, capsys):
    project({"app.py": KEPT})
    assert run(capsys, "check", "--select", "FF201", "--no-color") == (0, "All checks passed!\n", "")


def test_finding_exits_1_and_is_printed_with_its_location(project, capsys):
    project({"app.py": DROPPED})
    code, out, err = run(capsys, "check", "--select", "FF201", "--format", "concise")
    assert code == 1
    assert out.splitlines()[0].startswith("app.py:5:5: FF201 ")
    assert out.splitlines()[-1] == "Found 1 finding in 1 file: 1 fixable with `ffscan fix`."
    assert err == ""


def test_unknown_selector_exits_2_with_a_suggestion(project, capsys):
    project({"app.py": DROPPED})
    code, out, err = run(capsys, "check", "--select", "FF2O1")
    assert (code, out) == (2, "")
    assert err == "ffscan: error: --select: unknown rule code or prefix 'FF2O1'; did you mean `FF201`?\n"


def test_unknown_ignore_selector_exits_2(project, capsys):
    project({"app.py": DROPPED})
    code, _, err = run(capsys, "check", "--ignore", "XY1")
    assert code == 2
    assert err.startswith("ffscan: error: --ignore: unknown rule code or prefix 'XY1'")


def test_bad_option_value_exits_2(project, capsys):
    project({"app.py": DROPPED})
    with pytest.raises(SystemExit) as exit_info:
        main(["check", "--jobs", "0"])
    assert exit_info.value.code == 2
    assert "--jobs/-j: '0' must be 1 or more" in capsys.readouterr().err


def test_exit_zero_reports_findings_but_exits_0(project, capsys):
    project({"app.py": DROPPED})
    code, out, _ = run(capsys, "check", "--select", "FF201", "--format", "concise", "--exit-zero")
    assert code == 0
    assert out.splitlines()[-1] == "Found 1 finding in 1 file: 1 fixable with `ffscan fix`."


def test_missing_path_exits_2_after_checking_the_others(project, capsys):
    project({"app.py": DROPPED})
    code, out, err = run(capsys, "check", "--select", "FF201", "--format", "concise", "app.py", "nowhere.py")
    assert code == 2
    assert out.startswith("app.py:5:5: FF201 ")
    assert err == "ffscan: error: nowhere.py: no such file or directory\n"


def test_no_command_prints_help_and_exits_2(capsys):
    assert main([]) == 2
    assert "check" in capsys.readouterr().err


# Rule selection (Ruff's rules: the most specific selector wins; CLI --select replaces config)


@pytest.fixture
def two_rules(project):
    return project({"dropped.py": DROPPED, "broken.py": BROKEN})


def test_default_selection_has_the_default_on_rules(two_rules, capsys):
    assert findings(capsys)[1] == [("broken.py", 1, 17, "FF001"), ("dropped.py", 5, 5, "FF201")]


@pytest.mark.parametrize(
    "args, codes",
    [
        (["--select", "FF201"], ["FF201"]),
        (["--select", "FF2"], ["FF201"]),
        (["--select", "FF0"], ["FF001"]),
        (["--select", "FF00"], ["FF001"]),
        (["--select", "ALL", "--ignore", "FF0"], ["FF201"]),
        (["--select", "FF0", "--extend-select", "FF201"], ["FF001", "FF201"]),
        (["--select", "FF2", "--ignore", "FF201"], []),
        # A more specific select beats a less specific ignore, whatever the order.
        (["--select", "FF201", "--ignore", "FF2"], ["FF201"]),
        (["--ignore", "FF2", "--extend-select", "FF201"], ["FF001", "FF201"]),
        # Same specificity: ignore wins.
        (["--select", "FF201", "--ignore", "FF201"], []),
        (["--select", "ff201"], ["FF201"]),
        (["--select", "FF001,FF201"], ["FF001", "FF201"]),
    ],
)
def test_select_ignore_and_extend_select_precedence(two_rules, capsys, args, codes):
    assert sorted(code for *_, code in findings(capsys, *args)[1]) == codes


def test_cli_select_replaces_config_select_and_adds_to_config_ignore(project, capsys):
    project({"dropped.py": DROPPED, "broken.py": BROKEN}, 'select = ["FF0"]\n')
    assert [c for *_, c in findings(capsys)[1]] == ["FF001"]
    assert [c for *_, c in findings(capsys, "--select", "FF201")[1]] == ["FF201"]
    assert [c for *_, c in findings(capsys, "--extend-select", "FF201")[1]] == ["FF001", "FF201"]
    assert [c for *_, c in findings(capsys, "--ignore", "FF001")[1]] == []


def test_cli_select_replaces_config_ignore_too(project, capsys):
    # Ruff: a command-line --select starts the selection afresh, config select, extend-select
    # and ignore included; a command-line --ignore or --extend-select adds to the config's.
    project({"dropped.py": DROPPED, "broken.py": BROKEN}, 'ignore = ["FF001"]\n')
    assert [c for *_, c in findings(capsys)[1]] == ["FF201"]
    assert [c for *_, c in findings(capsys, "--select", "FF0,FF201")[1]] == ["FF001", "FF201"]


def test_cli_select_replaces_config_extend_select(project, capsys):
    project({"dropped.py": DROPPED, "broken.py": BROKEN}, 'extend-select = ["FF0"]\n')
    assert [c for *_, c in findings(capsys, "--select", "FF201")[1]] == ["FF201"]


def test_cli_extend_select_beats_a_config_ignore_of_the_same_code(project, capsys):
    project({"dropped.py": DROPPED, "broken.py": BROKEN}, 'ignore = ["FF201"]\n')
    assert [c for *_, c in findings(capsys)[1]] == ["FF001"]
    assert [c for *_, c in findings(capsys, "--extend-select", "FF201")[1]] == ["FF001", "FF201"]


def test_config_ignore_in_an_empty_select_carries_over_to_the_cli_select(project, capsys):
    # Ruff's carry-over: `select = [], ignore = [...]` only subtracts from the next selection.
    project({"dropped.py": DROPPED, "broken.py": BROKEN}, 'select = []\nignore = ["FF001"]\n')
    assert [c for *_, c in findings(capsys)[1]] == []
    assert [c for *_, c in findings(capsys, "--select", "FF0,FF201")[1]] == ["FF201"]


def test_demo_with_cli_select_shows_only_that_rule(monkeypatch, capsys):
    monkeypatch.chdir(ROOT)
    code, found = findings(capsys, "fixtures/demo", "--select", "FF201")
    assert (code, sorted({c for *_, c in found})) == (1, ["FF201"])
    assert len(found) == 4


def test_default_off_rule_runs_only_when_named(project, capsys, with_boom):
    project({"app.py": "boom()\n"})
    assert findings(capsys)[1] == []
    assert findings(capsys, "--select", "FF2")[1] == []
    assert findings(capsys, "--extend-select", "FF599")[1] == [("app.py", 1, 1, "FF599")]
    assert findings(capsys, "--extend-select", "FF5")[1] == [("app.py", 1, 1, "FF599")]
    assert findings(capsys, "--select", "ALL")[1] == [("app.py", 1, 1, "FF599")]


# Output options


def test_statistics_prints_counts_per_rule(project, capsys):
    project({"a.py": DROPPED, "b.py": DROPPED, "broken.py": BROKEN})
    code, out, _ = run(capsys, "check", "--select", "FF001,FF201", "--statistics", "--format", "concise")
    assert code == 1
    assert out == "2\tFF201\tdangling-task\n1\tFF001\tsyntax-error\nFound 3 findings in 3 files: 2 fixable with `ffscan fix`.\n"
    code, out, _ = run(capsys, "check", "--select", "FF001,FF201", "--statistics", "--no-color")
    assert code == 1
    assert [line.split() for line in out.splitlines()] == [
        ["2", "FF201", "dangling-task"],
        ["1", "FF001", "syntax-error"],
        ["Found", "3", "findings", "in", "3", "files:", "2", "fixable", "with", "`ffscan", "fix`."],
    ]


def test_output_file_gets_the_report_and_stdout_stays_empty(project, capsys):
    root = project({"app.py": DROPPED})
    code, out, _ = run(capsys, "check", "--select", "FF201", "--format", "json", "--output-file", "out/report.json")
    assert (code, out) == (1, "")
    document = json.loads((root / "out" / "report.json").read_text(encoding="utf-8"))
    assert [(f["path"], f["code"]) for f in document["findings"]] == [("app.py", "FF201")]
    assert document["summary"]["files_checked"] == 1


def test_unwritable_output_file_exits_2(project, capsys):
    root = project({"app.py": DROPPED})
    (root / "taken").write_text("a file, not a directory", encoding="utf-8")
    code, _, err = run(capsys, "check", "--select", "FF201", "--output-file", "taken/report.txt")
    assert code == 2
    assert err.startswith("ffscan: error: cannot write taken/report.txt")


def test_quiet_prints_findings_without_summary(project, capsys):
    project({"app.py": DROPPED, "ok.py": KEPT})
    code, out, err = run(capsys, "check", "--select", "FF201", "--format", "concise", "-q")
    assert code == 1
    assert [line.split(" ", 2)[:2] for line in out.splitlines()] == [["app.py:5:5:", "FF201"]]
    assert err == ""


def test_quiet_clean_run_prints_nothing(project, capsys):
    project({"ok.py": KEPT})
    assert run(capsys, "check", "--select", "FF201", "-q") == (0, "", "")


def test_verbose_names_the_configuration_and_file_count(project, capsys):
    root = project({"a.py": KEPT, "b.py": KEPT})
    code, _, err = run(capsys, "check", "--select", "FF201", "-v")
    assert code == 0
    assert f"configuration from {root / 'pyproject.toml'}" in err
    assert "ffscan: checked 2 files\n" in err


def test_text_output_has_no_colour_or_progress_off_a_terminal(project, capsys):
    project({"app.py": DROPPED})
    code, out, err = run(capsys, "check", "--select", "FF201")
    assert code == 1
    assert "\x1b[" not in out
    assert err == ""


def test_json_report_counts_files_findings_and_suppressions(project, capsys):
    project({"a.py": DROPPED, "b.py": DROPPED.replace("job())", "job())  # noqa: FF201"), "c.py": KEPT})
    code, out, _ = run(capsys, "check", "--select", "FF201", "--format", "json")
    summary = json.loads(out)["summary"]
    assert code == 1
    assert (summary["findings"], summary["files_checked"], summary["suppressed"]) == (1, 3, 1)
    assert summary["by_code"] == {"FF201": 1}


# Configuration errors


def test_unknown_config_key_names_key_and_file_with_a_suggestion(project, capsys):
    root = project({"app.py": DROPPED}, 'slect = ["FF2"]\n')
    code, out, err = run(capsys, "check")
    assert (code, out) == (2, "")
    assert err == (
        f"ffscan: error: {root / 'pyproject.toml'}: `tool.ffscan.slect` is not a known setting; "
        "did you mean `select`?\n"
    )


def test_wrong_config_type_names_key_and_file(project, capsys):
    root = project({"app.py": DROPPED}, 'fanout-threshold = "8"\n')
    code, _, err = run(capsys, "check")
    assert code == 2
    assert err == (
        f"ffscan: error: {root / 'pyproject.toml'}: `tool.ffscan.fanout-threshold` must be a positive "
        "integer, got '8'\n"
    )


def test_unknown_code_in_config_is_an_error_with_a_suggestion(project, capsys):
    root = project({"app.py": DROPPED}, 'ignore = ["FF2O1"]\n')
    code, _, err = run(capsys, "check")
    assert code == 2
    assert err == (
        f"ffscan: error: {root / 'pyproject.toml'}: `tool.ffscan.ignore`: unknown rule code or prefix "
        "'FF2O1'; did you mean `FF201`?\n"
    )


def test_explicit_config_is_used_instead_of_the_found_one(project, capsys):
    root = project({"app.py": DROPPED, "broken.py": BROKEN}, 'select = ["FF0"]\n')
    (root / "other.toml").write_text('select = ["FF201"]\n', encoding="utf-8")
    assert [c for *_, c in findings(capsys, "--config", "other.toml")[1]] == ["FF201"]


def test_missing_explicit_config_exits_2(project, capsys):
    project({"app.py": DROPPED})
    code, _, err = run(capsys, "check", "--config", "nope.toml")
    assert code == 2
    assert err == "ffscan: error: nope.toml: no such configuration file\n"


# `ffscan rules` and `ffscan rule`


def test_rules_lists_every_registered_rule_with_its_default(capsys):
    code, out, _ = run(capsys, "rules", "--format", "json")
    rows = json.loads(out)
    assert code == 0
    assert [(row["code"], row["name"], row["default"]) for row in rows] == [
        (c, r.name, "on" if r.default_on else "off") for c, r in all_rules().items()
    ]


def test_rules_table_shows_every_code_and_a_default_off_rule(capsys, with_boom):
    code, out, _ = run(capsys, "rules", "--no-color")
    assert code == 0
    lines = out.splitlines()
    for rule_code in all_rules():
        assert sum(rule_code in line for line in lines) == 1, rule_code
    boom_line = next(line for line in lines if "FF599" in line)
    assert " off " in boom_line and "a test rule" in boom_line


def test_rules_piped_is_plain_text_with_whole_names_and_no_padding(capsys, monkeypatch):
    monkeypatch.delenv("FORCE_COLOR", raising=False)
    code, out, _ = run(capsys, "rules")
    assert code == 0
    lines = out.splitlines()
    assert lines[0].split() == ["Code", "Name", "Family", "Fixable", "Default", "Why", "off", "by", "default"]
    for rule_code, rule in all_rules().items():
        (line,) = [line for line in lines if line.startswith(rule_code + " ")]
        assert line.split()[:2] == [rule_code, rule.name]
        assert rule.off_reason in line
    assert all(line == line.rstrip() for line in lines)
    assert not set(out) & set("┃│━┏┓┡┩└┘─")


def test_rules_on_a_terminal_never_breaks_a_name(capsys, monkeypatch):
    monkeypatch.setenv("FORCE_COLOR", "1")
    code, out, _ = run(capsys, "rules")
    plain = re.sub(r"\x1b\[[0-9;]*m", "", out)
    for rule_code, rule in all_rules().items():
        (line,) = [line for line in plain.splitlines() if f" {rule_code} " in line]
        assert f" {rule.name} " in line, line


def test_rule_piped_prints_its_markdown_doc_as_ruff_does(capsys, monkeypatch):
    monkeypatch.delenv("FORCE_COLOR", raising=False)
    code, out, _ = run(capsys, "rule", "FF201")
    assert (code, out) == (0, rule_doc(all_rules()["FF201"]))


def test_rule_on_a_terminal_is_rendered(capsys, monkeypatch):
    monkeypatch.setenv("FORCE_COLOR", "1")
    code, out, _ = run(capsys, "rule", "FF201", "--no-color")
    assert code == 0
    assert "FF201 dangling-task" in out
    assert "Why is this bad?" in out
    assert "##" not in out  # rendered, not raw Markdown


def test_rule_markdown_is_the_docstring(capsys):
    code, out, _ = run(capsys, "rule", "ff201", "--format", "markdown")
    assert (code, out) == (0, rule_doc(all_rules()["FF201"]))


def test_rule_can_be_named_by_its_slug(capsys):
    code, out, _ = run(capsys, "rule", "dangling-task", "--format", "json")
    assert (code, json.loads(out)["code"]) == (0, "FF201")


def test_unknown_rule_exits_2(capsys):
    code, out, err = run(capsys, "rule", "nope")
    assert (code, out) == (2, "")
    assert err.startswith("ffscan: error: unknown rule 'nope'")


# End to end, as a user runs it


def _ffscan(cwd: Path, *args: str) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if k not in ("FORCE_COLOR", "CI")}
    return subprocess.run(
        [sys.executable, "-m", "ffscan", *args], cwd=cwd, capture_output=True, text=True, env=env, timeout=120
    )


def test_end_to_end_exit_codes(project):
    root = project({"src/app.py": DROPPED, "src/ok.py": KEPT})
    found = _ffscan(root, "check", "--select", "FF201", "--format", "concise", "--no-color")
    assert (found.returncode, found.stdout.splitlines()[0][:20]) == (1, "src/app.py:5:5: FF20")
    clean = _ffscan(root, "check", "--select", "FF201", "src/ok.py")
    assert (clean.returncode, clean.stdout) == (0, "All checks passed!\n")
    (root / "pyproject.toml").write_text("[tool.ffscan]\nselect = 3\n", encoding="utf-8")
    broken = _ffscan(root, "check")
    assert broken.returncode == 2
    assert "`tool.ffscan.select` must be a list of strings, got 3" in broken.stderr
    assert "Traceback" not in broken.stderr


def test_end_to_end_version(tmp_path):
    from ffscan import __version__

    done = _ffscan(tmp_path, "--version")
    assert (done.returncode, done.stdout) == (0, f"ffscan {__version__}\n")


def test_a_gitignored_tree_warns_that_nothing_was_checked_unless_told_otherwise(project, capsys):
    root = project({"vendored/app.py": DROPPED, ".gitignore": "vendored/\n"})
    (root / ".git").mkdir()
    code, out, err = run(capsys, "check", "vendored", "--format", "concise")
    assert (code, out) == (0, "All checks passed!\n")
    assert err == "ffscan: warning: no Python files found under the given paths (listed in a .gitignore: see --no-respect-gitignore)\n"
    code, out, err = run(capsys, "check", "vendored", "--format", "concise", "--no-respect-gitignore")
    assert code == 1
    assert out.splitlines()[0].startswith("vendored/app.py:5:5: FF201 ")
    assert "no Python files" not in err


# The fixable counts say what each command does

UNSAFE_ONLY = "import asyncio\n\n\nasync def handler(job):\n    asyncio.create_task(job())\n    asyncio.sleep(1)\n"


def test_fixable_counts_say_what_fix_and_unsafe_fixes_each_do(project, capsys):
    project({"app.py": UNSAFE_ONLY})
    code, out, _ = run(capsys, "check", "--format", "concise")
    assert (code, out.splitlines()[-1]) == (1, "Found 2 findings in 1 file: 1 fixable with `ffscan fix` (1 more with `--unsafe-fixes`).")
    code, out, _ = run(capsys, "check", "--format", "concise", "--unsafe-fixes")
    assert (code, out.splitlines()[-1]) == (1, "Found 2 findings in 1 file: 2 fixable with `ffscan fix --unsafe-fixes`.")
    code, out, _ = run(capsys, "check", "--format", "concise", "--select", "FF101")
    assert out.splitlines()[-1] == "Found 1 finding in 1 file: 0 fixable with `ffscan fix` (1 more with `--unsafe-fixes`)."


def test_check_fix_counts_what_unsafe_fixes_would_still_do(project, capsys):
    project({"app.py": UNSAFE_ONLY})
    code, out, _ = run(capsys, "check", "--fix", "--format", "concise")
    assert code == 1
    assert out.splitlines() == [
        "app.py:8:5: FF101 Coroutine from `asyncio.sleep` is never awaited; its body never runs",
        "Found 2 findings (1 fixed, 1 remaining; 1 fixable with `--unsafe-fixes`).",
    ]


def test_no_rules_selected_is_reported_as_that(project, capsys):
    project({"app.py": DROPPED})
    code, out, err = run(capsys, "check", "--select", "FF2", "--ignore", "FF2", "--format", "concise")
    assert (code, out) == (0, "All checks passed!\n")
    assert err == "ffscan: warning: no rules selected: the selection (select, extend-select, ignore) leaves none on\n"


def test_files_no_selected_rule_applies_to_are_reported_as_that(project, capsys):
    project({"tests/test_app.py": DROPPED})
    code, _, err = run(capsys, "check", "--select", "FF2", "--format", "concise")
    assert code == 0
    assert err == (
        "ffscan: warning: no selected rule applies to the 1 Python file found "
        "(`test-paths` files get only `test-select`; see also `per-file-ignores`)\n"
    )


def test_verbose_prints_the_resolved_rule_set(project, capsys):
    project({"app.py": KEPT}, 'ignore = ["FF0"]\n')
    code, _, err = run(capsys, "check", "--select", "FF20", "--extend-select", "FF101", "-v")
    assert code == 0
    assert f"ffscan: rules: FF101, FF201, FF202, FF203, FF204, FF205, FF206, FF207 (8 of {len(all_rules())})\n" in err


# Flags that do nothing in a combination: errors where Ruff refuses, warnings otherwise


def test_statistics_with_diff_is_an_error(project, capsys):
    project({"app.py": DROPPED})
    with pytest.raises(SystemExit) as exit_info:
        main(["check", "--statistics", "--diff"])
    out, err = capsys.readouterr()
    assert (exit_info.value.code, out) == (2, "")
    assert err.endswith("ffscan: error: argument --diff: not allowed with argument --statistics\n")


@pytest.mark.parametrize("fmt", ["sarif", "github", "ticket"])
def test_statistics_with_a_format_that_cannot_show_them_is_an_error(project, capsys, fmt):
    project({"app.py": DROPPED})
    code, out, err = run(capsys, "check", "--statistics", "--format", fmt)
    assert (code, out) == (2, "")
    assert err == f"ffscan: error: --statistics supports the text, concise and json formats, not {fmt}\n"


def test_statistics_as_json_are_counts_per_rule_as_in_ruff(project, capsys):
    project({"a.py": DROPPED, "b.py": DROPPED, "broken.py": BROKEN})
    code, out, _ = run(capsys, "check", "--select", "FF001,FF201", "--statistics", "--format", "json")
    assert code == 1
    assert json.loads(out) == [
        {"code": "FF201", "name": "dangling-task", "count": 2, "fixable": True, "fixable_count": 2},
        {"code": "FF001", "name": "syntax-error", "count": 1, "fixable": False, "fixable_count": 0},
    ]


def test_quiet_and_verbose_together_is_an_error(project, capsys):
    project({"app.py": DROPPED})
    with pytest.raises(SystemExit) as exit_info:
        main(["check", "-q", "-v"])
    assert exit_info.value.code == 2
    assert "ffscan: error: argument --verbose/-v: not allowed with argument --quiet/-q" in capsys.readouterr().err


@pytest.mark.parametrize(
    "args, warning",
    [
        (["--diff", "--format", "json"], "--format json has no effect with --diff: the diff is printed instead"),
        (["--diff", "-o", "report.txt"], "--output-file has no effect with --diff: the diff goes to stdout"),
        (["--force-write"], "--force-write has no effect without --fix or --add-noqa"),
        (["--fix", "--diff", "--force-write"], "--force-write has no effect with --diff: nothing is written"),
    ],
)
def test_flags_that_do_nothing_in_a_combination_warn(project, capsys, args, warning):
    root = project({"app.py": DROPPED})
    _, _, err = run(capsys, "check", *args)
    assert err.splitlines()[0] == f"ffscan: warning: {warning}"
    assert not (root / "report.txt").exists()


# `-` and --stdin-filename: the code comes from stdin, as editors and Ruff use it


class _Stdin:
    def __init__(self, data: bytes) -> None:
        self.buffer = io.BytesIO(data)


def test_stdin_is_reported_under_the_stdin_filename_and_configured_as_it(project, capsys, monkeypatch):
    project({}, 'per-file-ignores = { "scripts/*" = ["FF2"] }\n')
    monkeypatch.setattr(sys, "stdin", _Stdin(DROPPED.encode()))
    code, out, _ = run(capsys, "check", "--stdin-filename", "app/handlers.py", "--format", "concise")
    assert (code, out.splitlines()[0][:30]) == (1, "app/handlers.py:5:5: FF201 Tas")
    monkeypatch.setattr(sys, "stdin", _Stdin(DROPPED.encode()))
    assert run(capsys, "check", "--stdin-filename", "scripts/once.py", "--format", "concise")[:2] == (0, "All checks passed!\n")
    monkeypatch.setattr(sys, "stdin", _Stdin(DROPPED.encode()))
    code, out, _ = run(capsys, "check", "-", "--format", "concise")
    assert (code, out.splitlines()[0][:16]) == (1, "-:5:5: FF201 Tas")


def test_fix_dash_prints_the_fixed_code_on_stdout(project, capsys, monkeypatch):
    project({})
    monkeypatch.setattr(sys, "stdin", _Stdin(DROPPED.encode()))
    code, out, err = run(capsys, "fix", "-", "--stdin-filename", "app.py")
    assert (code, out) == (0, "import asyncio\n\nfrom ffscan.runtime import track\n\n\nasync def handler(job):\n    track(asyncio.create_task(job()))\n")
    assert err == "Fixed 1 finding in 1 file, which adds `from ffscan.runtime import track` to 1 file.\n"
    monkeypatch.setattr(sys, "stdin", _Stdin(KEPT.encode()))
    assert run(capsys, "fix", "-")[:2] == (0, KEPT)  # unchanged code is echoed, as Ruff does


def test_check_fix_dash_prints_the_code_and_reports_on_stderr(project, capsys, monkeypatch):
    project({})
    monkeypatch.setattr(sys, "stdin", _Stdin(BROKEN.encode()))
    code, out, err = run(capsys, "check", "--fix", "--format", "concise", "-")
    assert (code, out) == (1, BROKEN)
    assert err == f"-:1:17: FF001 File does not parse: {MISSING_COLON}\nFound 1 finding in 1 file.\n"


def test_fix_diff_dash_prints_the_diff(project, capsys, monkeypatch):
    project({})
    monkeypatch.setattr(sys, "stdin", _Stdin(DROPPED.encode()))
    code, out, _ = run(capsys, "fix", "--diff", "--stdin-filename", "app.py")
    assert code == 1
    assert out.splitlines()[:2] == ["--- a/app.py", "+++ b/app.py"]


def test_force_exclude_applies_to_the_stdin_filename(project, capsys, monkeypatch):
    project({}, 'extend-exclude = ["generated"]\n')
    monkeypatch.setattr(sys, "stdin", _Stdin(DROPPED.encode()))
    assert run(capsys, "fix", "--force-exclude", "--stdin-filename", "generated/api.py") == (0, DROPPED, "ffscan: warning: no Python files found under the given paths (all excluded)\nFixed 0 findings in 0 files.\n")


def test_stdin_filename_with_paths_warns_that_they_are_ignored(project, capsys, monkeypatch):
    project({"other.py": DROPPED})
    monkeypatch.setattr(sys, "stdin", _Stdin(KEPT.encode()))
    code, out, err = run(capsys, "check", "other.py", "--stdin-filename", "app.py", "--format", "concise")
    assert (code, out, err) == (0, "All checks passed!\n", "ffscan: warning: ignoring other.py in favour of standard input\n")


def test_end_to_end_stdin(project):
    root = project({})
    done = subprocess.run(
        [sys.executable, "-m", "ffscan", "check", "--stdin-filename", "svc.py", "--format", "concise"],
        cwd=root, input=DROPPED, capture_output=True, text=True, timeout=120,
    )
    assert (done.returncode, done.stdout.splitlines()[0][:18]) == (1, "svc.py:5:5: FF201 ")
