"""`ffscan check --add-noqa`: where each comment goes (exact texts), the proof before writing,
idempotence, and the command's output and exit codes."""

from __future__ import annotations

import stat

import pytest

from ffscan.cli import main
from ffscan.engine import noqa
from ffscan.engine.noqa import add_noqa
from helpers import ALL_CODES, FIXTURES, check_text

WORK = "import asyncio\n\n\nasync def work(x=None):\n    await asyncio.sleep(x)\n\n\n"


def commented(body: str, newline: str = "\n") -> str:
    text = (WORK + body).replace("\n", newline)
    return add_noqa(text, check_text(text, codes=ALL_CODES).findings).text


def test_the_comment_goes_at_the_end_of_the_finding_line():
    assert commented("async def a():\n    asyncio.create_task(work())\n") == (
        WORK + "async def a():\n    asyncio.create_task(work())  # noqa: FF201\n"
    )


def test_crlf_line_endings_are_kept():
    assert commented("async def a():\n    asyncio.create_task(work())\n", newline="\r\n") == (
        WORK + "async def a():\n    asyncio.create_task(work())  # noqa: FF201\n"
    ).replace("\n", "\r\n")


def test_a_line_without_a_final_line_break_gets_the_comment_at_its_end():
    assert commented("async def a():\n    asyncio.create_task(work())") == (
        WORK + "async def a():\n    asyncio.create_task(work())  # noqa: FF201"
    )


def test_an_existing_comment_is_kept_and_the_code_follows_it():
    assert commented("async def a():\n    asyncio.create_task(work())   # reviewed: fine\n") == (
        WORK + "async def a():\n    asyncio.create_task(work())   # reviewed: fine  # noqa: FF201\n"
    )


def test_an_existing_noqa_list_gains_the_new_code():
    assert commented("async def a():\n    work(); asyncio.create_task(work())  # noqa: FF101 (checked)\n") == (
        WORK + "async def a():\n    work(); asyncio.create_task(work())  # noqa: FF101, FF201 (checked)\n"
    )


def test_another_tools_noqa_list_is_merged_into_in_its_own_spelling():
    assert commented("async def a():\n    asyncio.create_task(work())  # NOQA:E501\n") == (
        WORK + "async def a():\n    asyncio.create_task(work())  # NOQA:E501, FF201\n"
    )


def test_two_findings_of_one_code_on_a_line_give_the_code_once():
    assert commented("async def a():\n    asyncio.create_task(work()); asyncio.create_task(work())\n") == (
        WORK + "async def a():\n    asyncio.create_task(work()); asyncio.create_task(work())  # noqa: FF201\n"
    )


def test_a_finding_inside_a_multi_line_call_gets_the_comment_on_its_own_line():
    assert commented("async def a(loop):\n    loop.call_soon(\n        work,\n    )\n") == (
        WORK + "async def a(loop):\n    loop.call_soon(\n        work,  # noqa: FF104\n    )\n"
    )


def test_a_finding_inside_a_triple_quoted_string_gets_the_comment_after_the_statement():
    assert commented('async def a():\n    message = f"""\n    {work()}\n    """\n') == (
        WORK + 'async def a():\n    message = f"""\n    {work()}\n    """  # noqa: FF102\n'
    )


def test_a_finding_in_a_replacement_field_over_several_lines_gets_the_comment_after_the_statement():
    # Python 3.12 reads comments inside such a field; older ones do not: the comment stays out.
    assert commented('async def a():\n    print(f"""{\n        work()\n    }""")\n') == (
        WORK + 'async def a():\n    print(f"""{\n        work()\n    }""")  # noqa: FF102\n'
    )


def test_a_line_that_ends_inside_a_string_passes_the_comment_to_the_statements_end():
    assert commented('async def a():\n    asyncio.create_task(work("""\n    text\n    """))\n') == (
        WORK + 'async def a():\n    asyncio.create_task(work("""\n    text\n    """))  # noqa: FF201\n'
    )


def test_a_backslash_continuation_passes_the_comment_to_the_statements_end():
    assert commented("async def a():\n    asyncio.create_task(work()) \\\n        .add_done_callback(print)\n") == (
        WORK + "async def a():\n    asyncio.create_task(work()) \\\n        .add_done_callback(print)  # noqa: FF201\n"
    )


def test_a_file_that_does_not_parse_gets_no_comment_and_says_why():
    text = "async def a()\n    pass\n"
    outcome = add_noqa(text, check_text(text).findings)
    assert outcome.text == text
    assert [(f.code, why) for f, why in outcome.left] == [("FF001", noqa.CANNOT_SUPPRESS)]


@pytest.mark.parametrize("bad", sorted(FIXTURES.glob("FF*/bad.py")), ids=lambda p: p.parent.name)
def test_every_fixture_ends_suppressed_and_a_second_pass_changes_nothing(bad):
    text = bad.read_text(encoding="utf-8")
    findings = check_text(text, path=bad.name).findings
    outcome = add_noqa(text, findings)
    if not any(f.code.startswith("FF0") for f in findings):
        compile(outcome.text, bad.name, "exec", dont_inherit=True)
    after = check_text(outcome.text, path=bad.name).findings
    assert [(f.code, f.start) for f in after] == [(f.code, f.start) for f, _ in outcome.left]
    assert add_noqa(outcome.text, after).text == outcome.text


# ---- the command -------------------------------------------------------------------------------


@pytest.fixture
def project(tmp_path, monkeypatch):
    (tmp_path / "pyproject.toml").write_text("[tool.ffscan]\n", encoding="utf-8")
    (tmp_path / "app").mkdir()
    (tmp_path / "app" / "__init__.py").write_text("", encoding="utf-8")
    (tmp_path / "app" / "jobs.py").write_text("import asyncio\n\n\nasync def refresh(key):\n    await asyncio.sleep(key)\n", encoding="utf-8")
    (tmp_path / "app" / "main.py").write_text(
        "import asyncio\n\nfrom app.jobs import refresh\n\n\n"
        "async def handler(key):\n    asyncio.create_task(refresh(key))  # fire and forget\n    refresh(key)\n"
        "    x = (\n",
        encoding="utf-8",
    )
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("FFSCAN_NO_CACHE", "1")
    return tmp_path


MAIN_COMMENTED = (
    "import asyncio\n\nfrom app.jobs import refresh\n\n\n"
    "async def handler(key):\n    asyncio.create_task(refresh(key))  # fire and forget  # noqa: FF201\n"
    "    refresh(key)  # noqa: FF101\n"
)


def test_the_command_writes_the_comments_and_a_second_run_changes_nothing(project, capsys):
    main_py = project / "app" / "main.py"
    main_py.write_text(main_py.read_text(encoding="utf-8").replace("    x = (\n", ""), encoding="utf-8")
    assert main(["check", "--add-noqa", "."]) == 0
    assert main_py.read_text(encoding="utf-8") == MAIN_COMMENTED
    assert capsys.readouterr().err == "Added `# noqa` to 2 lines in 1 file.\n"
    assert main(["check", "--add-noqa", "."]) == 0
    assert main_py.read_text(encoding="utf-8") == MAIN_COMMENTED
    assert capsys.readouterr().err == "Added `# noqa` to 0 lines in 0 files.\n"
    assert main(["check", "."]) == 0


def test_a_file_that_does_not_parse_is_named_and_the_run_exits_1(project, capsys):
    before = (project / "app" / "main.py").read_text(encoding="utf-8")
    column = check_text(before).findings[0].start.column  # where the parser stops differs by version
    assert main(["check", "--add-noqa", "."]) == 1
    assert (project / "app" / "main.py").read_text(encoding="utf-8") == before
    err = capsys.readouterr().err
    assert err.splitlines() == [
        f"app/main.py:9:{column}: FF001 given no `# noqa`: {noqa.CANNOT_SUPPRESS}",
        "Added `# noqa` to 0 lines in 0 files; 1 finding left (see above).",
    ]


def test_text_that_checks_differently_is_not_written(project, capsys, monkeypatch):
    main_py = project / "app" / "main.py"
    main_py.write_text(main_py.read_text(encoding="utf-8").replace("    x = (\n", ""), encoding="utf-8")
    before = main_py.read_text(encoding="utf-8")
    real = noqa.add_noqa

    def wrong_code(text, findings):  # a comment naming the wrong rule suppresses nothing
        outcome = real(text, findings)
        outcome.text = outcome.text.replace("FF101", "FF102")
        return outcome

    monkeypatch.setattr(noqa, "add_noqa", wrong_code)
    assert main(["check", "--add-noqa", "."]) == 1
    assert main_py.read_text(encoding="utf-8") == before
    assert capsys.readouterr().err.splitlines() == [
        "ffscan: app/main.py: checking the text with `# noqa` comments still reports FF101 at 8:5; left as it was",
        "app/main.py:7:5: FF201 given no `# noqa`: the file was left as it was",
        "app/main.py:8:5: FF101 given no `# noqa`: the file was left as it was",
        "Added `# noqa` to 0 lines in 0 files; 2 findings left (see above); 1 file left as it was.",
    ]


def test_a_read_only_file_is_left_unless_force_write(project, capsys):
    main_py = project / "app" / "main.py"
    main_py.write_text(main_py.read_text(encoding="utf-8").replace("    x = (\n", ""), encoding="utf-8")
    main_py.chmod(stat.S_IRUSR)
    assert main(["check", "--add-noqa", "."]) == 1
    assert capsys.readouterr().err.splitlines()[0] == (
        "ffscan: app/main.py: is read-only; left as it was (--force-write writes it anyway)"
    )
    assert main(["check", "--add-noqa", "--force-write", "."]) == 0
    assert main_py.read_text(encoding="utf-8") == MAIN_COMMENTED


@pytest.mark.parametrize(
    "flags, clash",
    [(["--fix"], "--fix"), (["--diff"], "--diff"), (["--baseline", "b.json"], "--baseline"), (["--statistics"], "--statistics"),
     (["--stdin-filename", "x.py"], "standard input")],
)
def test_flags_it_cannot_go_with_are_refused(project, capsys, flags, clash):
    with pytest.raises(SystemExit) as exit_info:
        main(["check", "--add-noqa", *flags, "."])
    assert exit_info.value.code == 2
    assert capsys.readouterr().err.splitlines()[-1] == f"ffscan: error: --add-noqa does not go with {clash}"
