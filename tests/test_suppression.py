"""Suppression comments: each form, where it counts, and what only looks like one."""

from __future__ import annotations

import ast
import textwrap

import pytest

import ffscan.rules
from ffscan.engine import suppress
from ffscan.model import Impact
from ffscan.rules import all_rules
from ffscan.rules.base import Rule
from helpers import check_text

HEAD = "import asyncio\n\n\nasync def handler(job):\n"


def lines_found(body: str, codes=("FF201",), head: str = HEAD):
    """Lines (counted from the first line of `body`) with a finding, and the suppressed count."""
    text = head + (body if head else textwrap.dedent(body))
    offset = head.count("\n")
    result = check_text(text, codes=codes)
    return [f.start.line - offset for f in result.findings], result.suppressed


def indented(body: str) -> str:
    return textwrap.indent(textwrap.dedent(body), "    ")


class Boom(Rule):
    """## What it does
    Reports every call to `boom` (a test rule about a dropped handle).
    """

    code = "FF598"
    name = "boom-call"
    message = "`boom` is called"
    impacts = (Impact.NO_TRACKING,)
    honours_detached = True

    def visit_Call(self, node: ast.Call) -> None:
        if isinstance(node.func, ast.Name) and node.func.id == "boom":
            self.report(node)


class Bang(Boom):
    """## What it does
    Reports every call to `bang` (a test rule about lost work: `detached` does not apply).
    """

    code = "FF599"
    name = "bang-call"
    honours_detached = False

    def visit_Call(self, node: ast.Call) -> None:
        if isinstance(node.func, ast.Name) and node.func.id == "bang":
            self.report(node)


@pytest.fixture
def test_rules(monkeypatch):
    registry = dict(all_rules())
    registry[Boom.code] = Boom
    registry[Bang.code] = Bang
    monkeypatch.setattr(ffscan.rules, "_REGISTRY", registry)


def test_unsuppressed_finding_is_reported():
    assert lines_found(indented("asyncio.create_task(job())\n")) == ([1], 0)


@pytest.mark.parametrize(
    "comment",
    [
        "# noqa: FF201",
        "# noqa:FF201",
        "# NOQA: ff201",
        "# noqa: E501, FF201",
        "# noqa: E501 FF201",
        "# type: ignore  # noqa: FF201",
        "# ffscan: ignore[FF201]",
        "# ffscan: ignore[FF202, FF201]",
        "# ffscan:ignore[ff201]",
        "# ffscan: ignore",
    ],
)
def test_comment_on_the_reported_line_suppresses(comment):
    assert lines_found(indented(f"asyncio.create_task(job())  {comment}\n")) == ([], 1)


@pytest.mark.parametrize(
    "comment",
    [
        "# noqa",  # bare: not honoured, it would silence every linter at once
        "# noqa: FF202",
        "# noqa: FF2",  # codes are exact, as in Ruff
        "# ffscan: ignore[FF202]",
        "# ffscan: ignore[]",
        "# ffscan: detached-ish",
        "# ffscan: ignore-next-line",
        "# see noqa FF201 docs",
    ],
)
def test_comment_that_names_another_code_or_none_does_not_suppress(comment):
    assert lines_found(indented(f"asyncio.create_task(job())  {comment}\n")) == ([1], 0)


@pytest.mark.parametrize(
    "comment",
    [
        "# noqa: RUF006",
        "# noqa: RUF006 - we want this task to dangle",
        "# ruff: ignore[asyncio-dangling-task]",
        "# ruff: ignore[RUF006]",
        "# type: ignore[unused-awaitable]",
    ],
)
def test_a_peer_tools_code_for_the_same_finding_suppresses(comment):
    assert lines_found(indented(f"asyncio.create_task(job())  {comment}\n")) == ([], 1)


@pytest.mark.parametrize(
    "comment",
    [
        "# type: ignore",  # bare: every type error on the line, not this finding
        "# noqa: RUF005",
        "# ruff: ignore[unused-variable]",
        "# pyright: ignore[reportUnusedCoroutine]",  # the coroutine rule's peer, not the task rule's
    ],
)
def test_a_peer_tools_other_codes_do_not_suppress(comment):
    assert lines_found(indented(f"asyncio.create_task(job())  {comment}\n")) == ([1], 0)


@pytest.mark.parametrize(
    "comment", ["# type: ignore[unused-coroutine]", "# pyright: ignore[reportUnusedCoroutine]"]
)
def test_type_checkers_codes_for_an_unawaited_coroutine_suppress(comment):
    head = "async def job():\n    pass\n\n\nasync def handler():\n"
    assert lines_found(indented(f"job()  {comment}\n"), codes=("FF101",), head=head) == ([], 1)
    assert lines_found(indented("job()  # type: ignore[attr-defined]\n"), codes=("FF101",), head=head) == ([1], 0)


def test_comment_on_another_line_does_not_suppress():
    body = """\
        # noqa: FF201
        asyncio.create_task(job())
        x = 1  # noqa: FF201
    """
    assert lines_found(indented(body)) == ([2], 0)


def test_noqa_inside_a_string_does_not_count():
    body = """\
        asyncio.create_task(job("# noqa: FF201"))
        asyncio.create_task(job('''
            # ffscan: ignore
        '''))
    """
    assert lines_found(indented(body)) == ([1, 2], 0)


def test_comment_on_the_first_line_of_a_multiline_call_suppresses():
    body = """\
        asyncio.create_task(  # noqa: FF201
            job(),
            name="job",
        )
    """
    assert lines_found(indented(body)) == ([], 1)


def test_comment_on_the_last_line_of_a_multiline_call_suppresses():
    body = """\
        asyncio.create_task(
            job(),
            name="job",
        )  # noqa: FF201
    """
    assert lines_found(indented(body)) == ([], 1)


def test_comment_on_a_middle_line_of_a_multiline_call_does_not_suppress():
    body = """\
        asyncio.create_task(
            job(),  # noqa: FF201
            name="job",
        )
    """
    assert lines_found(indented(body)) == ([1], 0)


def test_comment_after_a_multiline_string_argument_suppresses():
    body = '''\
        asyncio.create_task(job("""
            a long
            text
        """))  # ffscan: ignore[FF201]
    '''
    assert lines_found(indented(body)) == ([], 1)


def test_finding_inside_a_multiline_statement_counts_the_statement_ends(test_rules):
    body = """\
        result = compute(
            1,
            boom(),
            2,
        )  # noqa: FF598
        other = compute(  # ffscan: ignore[FF598]
            boom(),
        )
        third = compute(
            boom(),
        )
    """
    assert lines_found(body, codes={"FF598"}, head="") == ([10], 2)


def test_end_of_a_block_does_not_suppress_a_finding_in_its_header(test_rules):
    body = """\
        if boom():
            pass
            pass  # noqa: FF598
        with boom() as handle:  # noqa: FF598
            pass
        for item in [
            boom(),
        ]:  # noqa: FF598
            pass
    """
    assert lines_found(body, codes={"FF598"}, head="") == ([1], 2)


def test_detached_silences_only_rules_about_dropped_handles(test_rules):
    body = """\
        boom()  # ffscan: detached
        bang()  # ffscan: detached
        bang()  # noqa: FF599
    """
    assert lines_found(body, codes={"FF598", "FF599"}, head="") == ([2], 2)


def test_detached_silences_a_dangling_task():
    assert all_rules()["FF201"].honours_detached
    assert lines_found(indented("asyncio.create_task(job())  # ffscan: detached\n")) == ([], 1)


def test_skip_file_anywhere_skips_every_finding():
    body = indented("asyncio.create_task(job())\n") + "\n# ffscan: skip-file\n"
    assert lines_found(body) == ([], 0)


def test_skip_file_skips_a_file_that_does_not_parse():
    result = check_text("# ffscan: skip-file\ndef broken(:\n")
    assert result.findings == []


def test_skip_file_inside_a_string_does_not_count():
    body = indented('asyncio.create_task(job())\nprint("# ffscan: skip-file")\n')
    assert lines_found(body) == ([1], 0)


def test_noqa_does_not_hide_a_syntax_error():
    result = check_text("def broken(:  # noqa: FF001\n    pass\n")
    assert [(f.start.line, f.code) for f in result.findings] == [(1, "FF001")]


def test_directives_reads_codes_per_line():
    text = "a()  # noqa: FF201,FF202\nb()  # ffscan: ignore\nc()  # ffscan: detached\nd = '# noqa: FF1'\n"
    assert suppress.directives(text) == {1: {"FF201", "FF202"}, 2: {suppress.ALL}, 3: {suppress.DETACHED}}


def test_logical_lines_span_brackets_and_stop_at_block_headers():
    text = "x = f(\n    1,\n)\nif y:\n    z = 2\n\n# comment\nw = '''\n'''\n"
    assert suppress.logical_lines(text) == [(1, 3), (4, 4), (5, 5), (8, 9)]


# A code that names no rule suppresses nothing: a warning says so (as Ruff warns of a `# noqa` it cannot read)


@pytest.mark.parametrize(
    "comment, warning",
    [
        ("# noqa: FF2O1", "`# noqa` names `FF2O1`, which is no rule; did you mean `FF201`? (it suppresses nothing)"),
        ("# ffscan: ignore[FF999]", "`# ffscan: ignore[...]` names `FF999`, which is no rule (it suppresses nothing)"),
        (
            "# ffscan: ignore[dangling-task]",
            "`# ffscan: ignore[...]` names `dangling-task`, which is no rule; did you mean `FF201` (dangling-task)? (it suppresses nothing)",
        ),
    ],
)
def test_a_suppression_naming_no_rule_warns_and_the_finding_stays(tmp_path, monkeypatch, capsys, comment, warning):
    from ffscan.cli import main

    (tmp_path / "pyproject.toml").write_text("[tool.ffscan]\n")
    (tmp_path / "app.py").write_text(HEAD + f"    asyncio.create_task(job())  {comment}\n")
    monkeypatch.chdir(tmp_path)
    assert main(["check", "--format", "concise", "app.py"]) == 1
    out, err = capsys.readouterr()
    assert out.splitlines()[0].startswith("app.py:5:5: FF201 ")
    assert err == f"ffscan: warning: app.py:5: {warning}\n"


def test_other_tools_codes_in_noqa_and_known_codes_do_not_warn():
    text = HEAD + "    x = 1  # noqa: E501, F841\n    asyncio.create_task(job())  # noqa: FF201 (kept on purpose)\n"
    assert suppress.unknown_codes(text, set(all_rules())) == []
    assert check_text(text).warnings == []


def test_codes_in_strings_do_not_warn():
    assert suppress.unknown_codes('x = "# noqa: FF2O1"\n', set(all_rules())) == []
