"""Inputs ffscan must survive: each gives a clear message or an FF0xx finding, the rest of the
run completes, and the exit code says so. Committed inputs are in fixtures/bad_input/."""

from __future__ import annotations

import ast
import builtins
import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

import ffscan.rules
from ffscan.cli import main
from ffscan.engine import sources
from ffscan.model import Impact
from ffscan.rules import all_rules
from ffscan.rules.base import Rule
from helpers import FIXTURES

BAD_INPUT = FIXTURES / "bad_input"
DROPPED = "import asyncio\n\n\nasync def handler(job):\n    asyncio.create_task(job())\n"


@pytest.fixture
def project(tmp_path, monkeypatch):
    (tmp_path / "pyproject.toml").write_text("[tool.ffscan]\n", encoding="utf-8")
    (tmp_path / "ok.py").write_text(DROPPED, encoding="utf-8")  # proves the run went on
    monkeypatch.chdir(tmp_path)
    return tmp_path


def copy(project: Path, name: str) -> Path:
    target = project / name
    shutil.copyfile(BAD_INPUT / name, target)
    return target


def check(capsys, *args: str):
    """Run `ffscan check --format json` (FF0 and FF201 only); return code, findings, stderr."""
    code = main(["check", "--format", "json", "--select", "FF0,FF201", *args])
    out, err = capsys.readouterr()
    document = json.loads(out)
    rows = [(f["path"], f["start"]["line"], f["start"]["column"], f["code"], f["message"]) for f in document["findings"]]
    return code, rows, err


def only(rows, path):
    return [row[1:] for row in rows if row[0] == path]


OK = ("ok.py", 5, 5, "FF201")


def assert_run_went_on(rows):
    assert [row[:4] for row in rows if row[0] == "ok.py"] == [OK]


def test_syntax_error_is_ff001_at_its_line_and_column(project, capsys):
    copy(project, "syntax_error.py")
    code, rows, err = check(capsys)
    # FF001 passes on the parser's own words: Python 3.10 made them precise.
    detail = "invalid syntax" if sys.version_info < (3, 10) else "expected ':'"
    assert only(rows, "syntax_error.py") == [(4, 27, "FF001", f"File does not parse: {detail}")]
    assert (code, err) == (1, "")
    assert_run_went_on(rows)


def test_python2_file_is_ff001_with_a_hint(project, capsys):
    copy(project, "python2.py")
    code, rows, _ = check(capsys)
    # `except IOError, error:` parses on Python 3.14 (PEP 758), so the first line no Python 3
    # accepts is the print statement below it (3.9's parser words it, and places it, its own way).
    if sys.version_info < (3, 10):
        expected = (8, 15, "FF001", 'File does not parse: Missing parentheses in call to \'print\'. Did you mean print("cannot fetch", url, error)? (Python 2 code?)')
    else:
        expected = (8, 9, "FF001", "File does not parse: Missing parentheses in call to 'print'. Did you mean print(...)? (Python 2 code?)")
    assert only(rows, "python2.py") == [expected]
    assert code == 1


@pytest.mark.parametrize(
    "name, line, column, detail",
    [
        ("latin1_in_utf8.py", 2, 16, "byte 0xe9 on line 2 is not valid utf-8"),
        ("mixed_encodings.py", 3, 12, "byte 0xef on line 3 is not valid utf-8"),
        ("unknown_cookie.py", 1, 1, "unknown encoding: klingon"),
        ("nul_byte.py", 2, 9, "contains a NUL byte, so it is not Python source"),
        ("utf16.py", 1, 1, "is UTF-16 (it starts with a UTF-16 byte order mark); Python source must be UTF-8"),
    ],
)
def test_undecodable_file_is_ff002_naming_the_problem(project, capsys, name, line, column, detail):
    copy(project, name)
    code, rows, err = check(capsys)
    assert only(rows, name) == [(line, column, "FF002", f"File cannot be decoded as Python source: {detail}")]
    assert (code, err) == (1, "")
    assert_run_went_on(rows)


def test_a_valid_cookie_with_matching_bytes_is_analysed(project, capsys):
    (project / "latin.py").write_bytes(b"# -*- coding: latin-1 -*-\nNAME = 'caf\xe9'\n" + DROPPED.encode())
    code, rows, _ = check(capsys)
    assert [row[:3] for row in only(rows, "latin.py")] == [(7, 5, "FF201")]


@pytest.mark.parametrize(
    "name, line, column",
    [("bom_crlf.py", 6, 17), ("cr_only.py", 5, 5), ("form_feed.py", 7, 5)],
)
def test_bom_and_line_endings_keep_line_and_column_right(project, capsys, name, line, column):
    copy(project, name)
    code, rows, _ = check(capsys)
    assert [row[:3] for row in only(rows, name)] == [(line, column, "FF201")]
    assert code == 1


def test_bom_crlf_finding_shows_its_source_line(project, capsys):
    copy(project, "bom_crlf.py")
    main(["check", "--format", "json", "--select", "FF201", "bom_crlf.py"])
    (finding,) = json.loads(capsys.readouterr().out)["findings"]
    assert finding["source"] == ['    é = "café"; asyncio.create_task(handler(é))']


def test_empty_file_is_checked_and_clean(project, capsys):
    copy(project, "empty.py")
    code = main(["check", "--format", "json", "--select", "FF0,FF201", "empty.py"])
    summary = json.loads(capsys.readouterr().out)["summary"]
    assert (code, summary["findings"], summary["files_checked"]) == (0, 0, 1)


def test_invalid_pyproject_exits_2_naming_the_file(tmp_path, monkeypatch, capsys):
    shutil.copytree(BAD_INPUT / "invalid_pyproject", tmp_path / "p")
    monkeypatch.chdir(tmp_path / "p")
    code = main(["check", "app.py"])
    out, err = capsys.readouterr()
    assert (code, out) == (2, "")
    assert err == (
        f"ffscan: error: {(tmp_path / 'p' / 'pyproject.toml').resolve()}: invalid TOML: Unclosed array (at line 3, column 1)\n"
    )


def test_path_that_does_not_exist_exits_2_and_the_rest_is_checked(project, capsys):
    code, rows, err = check(capsys, "ok.py", "missing.py")
    assert code == 2
    assert err == "ffscan: error: missing.py: no such file or directory\n"
    assert_run_went_on(rows)


# Generated inputs


def test_five_megabyte_generated_file_is_analysed(project, capsys):
    chunk = "DESCRIPTOR_{0} = b'" + "\\x0a\\x10" * 1250 + "'\n"
    body = "".join(chunk.format(i) for i in range(500))
    (project / "api_pb2.py").write_text(body + DROPPED, encoding="utf-8")
    assert (project / "api_pb2.py").stat().st_size > 5_000_000
    started = time.perf_counter()
    code, rows, _ = check(capsys)
    assert time.perf_counter() - started < 20
    assert [row[:3] for row in only(rows, "api_pb2.py")] == [(505, 5, "FF201")]
    assert code == 1


def test_file_over_the_size_limit_is_ff003(project, capsys):
    (project / "pyproject.toml").write_text("[tool.ffscan]\nmax-file-size = 1000000\n", encoding="utf-8")
    (project / "huge_pb2.py").write_text("x = 1\n" * 200_000, encoding="utf-8")
    code, rows, _ = check(capsys)
    assert only(rows, "huge_pb2.py") == [
        (1, 1, "FF003", "File is too large to analyse: 1,200,000 bytes is over the 1,000,000-byte limit (`max-file-size`)")
    ]
    assert code == 1
    assert_run_went_on(rows)


@pytest.mark.parametrize(
    "expression",
    [
        "(" * 2000 + "1" + ")" * 2000,
        "-" * 2000 + "1",
        "+".join(["1"] * 2000),
        "a" + ".b" * 2000,
        "f(" * 2000 + ")" * 2000,
        "+".join(["1"] * 100_000),
    ],
    ids=["parentheses", "unary", "sum", "attributes", "calls", "sum-100k"],
)
def test_expression_nested_2000_deep_is_ff004(project, capsys, expression):
    # The dropped task gives FF201 a reason to walk the tree (rules skip files without their
    # trigger words), so the depth is met by the parser or by the analysis.
    (project / "deep.py").write_text(f"x = {expression}\n{DROPPED}", encoding="utf-8")
    code, rows, _ = check(capsys)
    assert [row[2] for row in only(rows, "deep.py")] == ["FF004"]
    assert code == 1
    assert_run_went_on(rows)


def test_directory_named_like_a_python_file_is_recursed_not_read(project, capsys):
    (project / "x.py").mkdir()
    (project / "x.py" / "inner.py").write_text(DROPPED, encoding="utf-8")
    code, rows, _ = check(capsys)
    assert sorted(row[:4] for row in rows) == [OK, ("x.py/inner.py", 5, 5, "FF201")]
    code, rows, _ = check(capsys, "x.py")
    assert [row[:4] for row in rows] == [("x.py/inner.py", 5, 5, "FF201")]


def test_broken_symlink_is_ff005(project, capsys):
    (project / "broken.py").symlink_to(project / "nowhere.py")
    code, rows, _ = check(capsys)
    assert only(rows, "broken.py") == [(1, 1, "FF005", "File cannot be read: does not exist (a broken symlink?)")]
    assert code == 1
    assert_run_went_on(rows)


def test_symlink_loop_is_ff005(project, capsys):
    (project / "a.py").symlink_to(project / "b.py")
    (project / "b.py").symlink_to(project / "a.py")
    (project / "self").symlink_to(project, target_is_directory=True)
    code, rows, _ = check(capsys)
    assert only(rows, "a.py") + only(rows, "b.py") == [(1, 1, "FF005", "File cannot be read: is a symlink loop")] * 2
    assert_run_went_on(rows)


def test_fifo_named_like_python_is_ff005_not_a_hang(project, capsys):
    os.mkfifo(project / "pipe.py")
    code, rows, _ = check(capsys, "pipe.py", "ok.py")
    assert only(rows, "pipe.py") == [(1, 1, "FF005", "File cannot be read: is not a regular file")]


def test_unreadable_file_is_ff005(project, capsys):
    target = project / "secret.py"
    target.write_text(DROPPED, encoding="utf-8")
    target.chmod(0)
    try:
        if os.access(target, os.R_OK):
            pytest.skip("running as root (or with CAP_DAC_OVERRIDE): chmod 000 does not stop reading; "
                        "test_unreadable_file_is_ff005_simulated covers it")
        code, rows, _ = check(capsys)
    finally:
        target.chmod(0o644)
    assert only(rows, "secret.py") == [(1, 1, "FF005", "File cannot be read: cannot be read: permission denied")]


def test_unreadable_file_is_ff005_simulated(project, capsys, monkeypatch):
    (project / "secret.py").write_text(DROPPED, encoding="utf-8")

    def refusing_open(file, *args, **kwargs):
        if str(file).endswith("secret.py"):
            raise PermissionError(13, "Permission denied", str(file))
        return builtins.open(file, *args, **kwargs)

    monkeypatch.setattr(sources, "open", refusing_open, raising=False)
    code, rows, _ = check(capsys)
    assert only(rows, "secret.py") == [(1, 1, "FF005", "File cannot be read: cannot be read: permission denied")]
    assert code == 1
    assert_run_went_on(rows)


# A rule that crashes


class Crashing(Rule):
    """## What it does
    Crashes on any call to `explode` (a test rule).
    """

    code = "FF597"
    name = "crashing-rule"
    message = "never reported"
    impacts = (Impact.NO_TRACKING,)

    def visit_Call(self, node: ast.Call) -> None:
        if isinstance(node.func, ast.Name) and node.func.id == "explode":
            raise ZeroDivisionError("a bug in this rule")


def test_a_crashing_rule_is_reported_and_the_run_completes(project, capsys, monkeypatch):
    registry = dict(all_rules())
    registry[Crashing.code] = Crashing
    monkeypatch.setattr(ffscan.rules, "_REGISTRY", registry)
    (project / "boom.py").write_text(DROPPED + "\n\nexplode()\n", encoding="utf-8")
    code = main(["check", "--format", "json", "--select", "FF201,FF597"])
    out, err = capsys.readouterr()
    document = json.loads(out)
    assert code == 2
    assert sorted((f["path"], f["code"]) for f in document["findings"]) == [("boom.py", "FF201"), ("ok.py", "FF201")]
    (error,) = document["errors"]
    assert (error["path"], error["code"], error["line"]) == ("boom.py", "FF597", 8)
    assert "ZeroDivisionError: a bug in this rule" in error["message"]
    assert err.startswith("ffscan: error: boom.py:8: FF597 crashed: ZeroDivisionError: a bug in this rule")


# ffscan never imports or runs what it checks


def test_checked_code_is_never_imported_or_run(project):
    copy(project, "side_effects.py")
    env = {k: v for k, v in os.environ.items() if k not in ("FORCE_COLOR", "CI")}
    done = subprocess.run(
        [sys.executable, "-m", "ffscan", "check", "--select", "ALL", "--format", "concise", "side_effects.py"],
        cwd=project,
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
    )
    assert not (project / "IMPORTED").exists()
    assert "was executed" not in done.stdout + done.stderr
    assert done.returncode == 0, done.stdout + done.stderr


def test_checked_code_is_not_imported_in_process(project, capsys):
    copy(project, "side_effects.py")
    assert main(["check", "--select", "ALL", "side_effects.py"]) == 0
    assert "side_effects" not in sys.modules
    assert not (project / "IMPORTED").exists()
