"""The report formats: SARIF, GitHub annotations, JSON, text, concise, GitLab and JUnit (the
ticket: test_ticket.py)."""

from __future__ import annotations

import json
import re

import pytest

from ffscan.model import Finding, Impact, Location, Notice, RunError, RunResult, Severity
from ffscan.report import ReportContext, render
from ffscan.report import github, sarif
from ffscan.report.json_format import finding_to_dict
from ffscan.rules import all_rule_infos
from helpers import ROOT, check_text

SARIF_SCHEMA = ROOT / "tests" / "data" / "sarif-schema-2.1.0.json"
ANSI = re.compile(r"\x1b\[[0-9;]*m")

DROPPED_TASKS = """\
import asyncio


async def publish(event):
    await asyncio.sleep(0)


async def handler(event):
    asyncio.create_task(publish(event))
    await publish(event)
    asyncio.create_task(publish(event))
"""


def context(**overrides) -> ReportContext:
    values = dict(rules=all_rule_infos(), root=ROOT, version="9.9.9", color=False)
    values.update(overrides)
    return ReportContext(**values)


def result_of(text: str, path: str = "app/jobs.py", **kwargs) -> RunResult:
    file_result = check_text(text, path=path, codes={"FF201"}, **kwargs)
    return RunResult(findings=list(file_result.findings), files_checked=1, selected=frozenset({"FF201"}))


def make_finding(**fields) -> Finding:
    values = dict(
        code="FF201",
        name="dangling-task",
        message="Task from `asyncio.create_task` is dropped; it can be garbage-collected mid-flight, and its error is never handled (the loop only logs it when the task is freed)",
        path="app/jobs.py",
        start=Location(9, 5),
        end=Location(9, 40),
        severity=Severity.ERROR,
        impacts=(Impact.NO_TRACKING, Impact.NO_ALERTING, Impact.NO_RETRY),
        risk="The work can stop half-way.",
        fix_title="Keep a reference to the task and report its failure",
        source_lines=("    asyncio.create_task(publish(event))",),
    )
    values.update(fields)
    return Finding(**values)


def syntax_finding() -> Finding:
    return Finding(
        code="FF001",
        name="syntax-error",
        message="File does not parse: invalid syntax",
        path="legacy/old.py",
        start=Location(1, 7),
        end=Location(1, 7),
        risk="Nothing in this file is checked.",
        source_lines=("def f(:",),
    )


def mixed_result() -> RunResult:
    return RunResult(
        findings=[syntax_finding(), *result_of(DROPPED_TASKS).findings],
        errors=[RunError(path="app/jobs.py", message="FF999 crashed: boom", code="FF201", line=3)],
        missing=["does/not/exist.py"],
        files_checked=2,
    )


# -- SARIF ----------------------------------------------------------------------------------


def sarif_of(result: RunResult, **overrides) -> dict:
    return json.loads(sarif.render(result, context(**overrides)))


def test_sarif_validates_against_the_2_1_0_schema():
    import jsonschema

    schema = json.loads(SARIF_SCHEMA.read_text(encoding="utf-8"))
    for result in (mixed_result(), RunResult()):
        log = sarif_of(result)
        jsonschema.validate(log, schema)
        assert log["version"] == "2.1.0"
        assert log["$schema"].startswith("https://")
        assert len(log["runs"]) == 1


def test_sarif_lists_every_rule_and_indexes_results_into_them():
    rules = all_rule_infos()
    log = sarif_of(mixed_result())
    driver = log["runs"][0]["tool"]["driver"]
    assert driver["name"] == "ffscan"
    assert driver["version"] == driver["semanticVersion"] == "9.9.9"
    assert [r["id"] for r in driver["rules"]] == sorted(rules)
    for descriptor in driver["rules"]:
        info = rules[descriptor["id"]]
        assert descriptor["name"] == info.name
        assert descriptor["shortDescription"]["text"] == info.summary
        assert descriptor["help"]["markdown"] == info.doc
        assert descriptor["helpUri"] == info.help_uri
        assert descriptor["defaultConfiguration"]["level"] == {"error": "error", "warning": "warning", "note": "note"}[info.severity.value]
        assert descriptor["properties"]["precision"] == ("high" if info.default_on else "medium")
        assert info.family.value in descriptor["properties"]["tags"]
        assert len(descriptor["fullDescription"]["text"]) <= 1024  # code scanning's limit
        assert descriptor["fullDescription"]["text"].startswith(info.summary[:-1])
    results = log["runs"][0]["results"]
    assert [r["ruleId"] for r in results] == ["FF201", "FF201", "FF001"]  # sorted by path: app/ < legacy/
    for r in results:
        assert driver["rules"][r["ruleIndex"]]["id"] == r["ruleId"]
        assert r["level"] == "error"


def test_sarif_locations_are_relative_to_srcroot_with_exact_regions():
    log = sarif_of(mixed_result())
    run = log["runs"][0]
    assert run["columnKind"] == "unicodeCodePoints"
    assert run["originalUriBaseIds"]["%SRCROOT%"]["uri"] == ROOT.resolve().as_uri() + "/"
    first = run["results"][0]
    physical = first["locations"][0]["physicalLocation"]
    assert physical["artifactLocation"] == {"uri": "app/jobs.py", "uriBaseId": "%SRCROOT%"}
    assert physical["region"] == {
        "startLine": 9,
        "startColumn": 5,
        "endLine": 9,
        "endColumn": 40,
        "snippet": {"text": "asyncio.create_task(publish(event))"},
    }
    assert first["message"]["text"].startswith("Task from `asyncio.create_task` is dropped")


def test_sarif_uri_escapes_spaces_and_keeps_absolute_paths_absolute():
    assert sarif.artifact_location("my app/jobs.py") == {"uri": "my%20app/jobs.py", "uriBaseId": "%SRCROOT%"}
    assert sarif.artifact_location("/tmp/x.py") == {"uri": "file:///tmp/x.py"}


def test_sarif_fingerprints_survive_lines_inserted_above():
    before = sarif_of(result_of(DROPPED_TASKS))["runs"][0]["results"]
    shifted = "# a new comment\n\n\n" + DROPPED_TASKS.replace("async def handler", "\n\nasync def handler")
    after = sarif_of(result_of(shifted))["runs"][0]["results"]
    lines = lambda results: [r["locations"][0]["physicalLocation"]["region"]["startLine"] for r in results]
    assert lines(before) == [9, 11]
    assert lines(after) == [14, 16]
    assert [r["partialFingerprints"] for r in before] == [r["partialFingerprints"] for r in after]


def test_sarif_fingerprints_differ_for_identical_lines_and_other_files():
    results = sarif_of(result_of(DROPPED_TASKS))["runs"][0]["results"]
    prints = [r["partialFingerprints"]["ffscan/v1"] for r in results]
    assert len(prints) == 2 and prints[0] != prints[1]
    assert all(re.fullmatch(r"[0-9a-f]{64}", p) for p in prints)
    elsewhere = sarif_of(result_of(DROPPED_TASKS, path="app/other.py"))["runs"][0]["results"]
    assert not set(prints) & {r["partialFingerprints"]["ffscan/v1"] for r in elsewhere}


def test_sarif_reports_run_errors_missing_paths_and_unparsable_files_as_notifications():
    invocation = sarif_of(mixed_result())["runs"][0]["invocations"][0]
    assert invocation["executionSuccessful"] is False
    notes = invocation["toolExecutionNotifications"]
    assert [n["level"] for n in notes] == ["error", "error", "warning"]
    crash, missing, unparsable = notes
    assert crash["message"]["text"] == "FF999 crashed: boom"
    assert crash["descriptor"] == {"id": "FF201"}
    assert crash["locations"][0]["physicalLocation"] == {
        "artifactLocation": {"uri": "app/jobs.py", "uriBaseId": "%SRCROOT%"},
        "region": {"startLine": 3},
    }
    assert missing["message"]["text"] == "does/not/exist.py: no such file or directory"
    assert unparsable["descriptor"] == {"id": "FF001"}
    assert unparsable["locations"][0]["physicalLocation"]["artifactLocation"]["uri"] == "legacy/old.py"
    clean = sarif_of(RunResult(files_checked=3))["runs"][0]
    assert clean["invocations"] == [{"executionSuccessful": True}]
    assert clean["results"] == []


def test_sarif_point_findings_get_a_one_character_region():
    region = sarif_of(RunResult(findings=[syntax_finding()]))["runs"][0]["results"][0]["locations"][0]["physicalLocation"]["region"]
    assert region == {"startLine": 1, "startColumn": 7, "endLine": 1, "endColumn": 8, "snippet": {"text": ":"}}


def test_sarif_columns_count_characters_not_bytes():
    text = 'import asyncio\n\n\nasync def f(g):\n    x = "é€"; asyncio.create_task(g())\n'
    region = sarif_of(result_of(text))["runs"][0]["results"][0]["locations"][0]["physicalLocation"]["region"]
    assert (region["startColumn"], region["endColumn"]) == (15, 39)
    assert region["snippet"]["text"] == "asyncio.create_task(g())"


# -- GitHub annotations -------------------------------------------------------------------------


def test_github_escapes_message_and_properties():
    assert github.escape_data("100% done\r\nnext") == "100%25 done%0D%0Anext"
    assert github.escape_property("a:b,c%d\ne") == "a%3Ab%2Cc%25d%0Ae"
    finding = make_finding(
        path="src/a,b:c.py",
        message="50% of `x`\nthen: y, z",
        start=Location(3, 1),
        end=Location(4, 2),
    )
    assert github.finding_command(finding) == (
        "::error file=src/a%2Cb%3Ac.py,line=3,col=1,endLine=4,endColumn=2,title=FF201 dangling-task"
        "::50%25 of `x`%0Athen: y, z"
    )


def test_github_levels_run_errors_and_summary():
    result = RunResult(
        findings=[make_finding(severity=Severity.WARNING), make_finding(severity=Severity.NOTE, start=Location(10, 1))],
        errors=[RunError(path="app/x.py", message="FF201 crashed: KeyError: 'a'", code="FF201", line=7)],
        missing=["nope"],
    )
    lines = github.render(result, context()).splitlines()
    assert lines[0].startswith("::warning file=app/jobs.py,line=9,col=5,endLine=9,endColumn=40,")
    assert lines[1].startswith("::notice file=app/jobs.py,line=10,col=1,")
    assert lines[2] == "::error file=app/x.py,line=7,title=ffscan error::FF201 crashed: KeyError: 'a'"
    assert lines[3] == "::error title=ffscan error::nope: no such file or directory"
    assert lines[4] == "Found 2 findings in 1 file. 1 path not found. 1 error while checking."
    assert len(lines) == 5


# -- JSON ------------------------------------------------------------------------------------

FINDING_SCHEMA = {
    "code": str,
    "name": str,
    "family": str,
    "severity": str,
    "message": str,
    "path": str,
    "start": {"line": int, "column": int},
    "end": {"line": int, "column": int},
    "source": list,
    "impacts": list,
    "risk": str,
    "fix": (type(None), dict),
    "enclosing": str,
    "fingerprint": str,
    "ticket": str,
}
TICKET_SCHEMA = {
    "id": str,
    "title": str,
    "priority": int,
    "priority_reason": str,
    "category": str,
    "path": str,
    "enclosing": str,
    "codes": list,
    "findings": list,
    "found_by": str,
}
DOCUMENT_KEYS = {"schema_version", "tool", "summary", "findings", "tickets", "errors", "missing_paths", "notices"}
SUMMARY_KEYS = {"findings", "files_checked", "suppressed", "errors", "by_code", "baselined", "baseline_stale", "notices"}
NOTICE_KEYS = {"path", "line", "column", "kind", "requires", "message"}
ERROR_KEYS = {"path", "code", "line", "message"}


def _check_shape(value, shape, where):
    if isinstance(shape, dict):
        assert isinstance(value, dict), where
        assert set(value) == set(shape), f"{where}: keys {sorted(value)} != {sorted(shape)}"
        for key, sub in shape.items():
            _check_shape(value[key], sub, f"{where}.{key}")
    else:
        assert isinstance(value, shape), f"{where}: {type(value).__name__} is not {shape}"


def test_json_finding_schema_is_pinned():
    document = json.loads(render("json", mixed_result(), context()))
    assert set(document) == DOCUMENT_KEYS
    assert document["schema_version"] == 2
    assert document["tool"] == {"name": "ffscan", "version": "9.9.9"}
    assert set(document["summary"]) == SUMMARY_KEYS
    assert document["summary"]["by_code"] == {"FF001": 1, "FF201": 2}
    assert document["errors"] == [{"path": "app/jobs.py", "code": "FF201", "line": 3, "message": "FF999 crashed: boom"}]
    assert document["missing_paths"] == ["does/not/exist.py"]
    for finding in document["findings"]:
        _check_shape(finding, FINDING_SCHEMA, "finding")
    first = document["findings"][0]
    assert first["family"] == "file"
    task = document["findings"][1]
    assert (task["family"], task["severity"], task["impacts"]) == ("task", "error", ["no-tracking", "no-alerting", "no-retry"])
    assert task["start"] == {"line": 9, "column": 5} and task["end"] == {"line": 9, "column": 40}
    assert task["source"] == ["    asyncio.create_task(publish(event))"]
    assert set(finding_to_dict(make_finding())) == set(FINDING_SCHEMA)
    assert [t["codes"] for t in document["tickets"]] == [["FF201"], ["FF001"]]
    for ticket_dict in document["tickets"]:
        _check_shape(ticket_dict, TICKET_SCHEMA, "ticket")


def test_json_schema_doc_names_every_key():
    doc = (ROOT / "docs" / "json-schema.md").read_text(encoding="utf-8")
    documented = set(re.findall(r"`([a-z_]+)`", doc))
    keys = DOCUMENT_KEYS | SUMMARY_KEYS | ERROR_KEYS | NOTICE_KEYS | set(FINDING_SCHEMA) | set(TICKET_SCHEMA) | {"line", "column", "title", "applicability", "name", "version"}
    assert not keys - documented, f"undocumented keys: {sorted(keys - documented)}"


# -- text and concise -----------------------------------------------------------------------------


def test_text_frame_points_at_the_exact_span():
    out = render("text", result_of(DROPPED_TASKS), context())
    lines = out.splitlines()
    assert lines[0] == (
        "app/jobs.py:9:5: FF201 Task from `asyncio.create_task` is dropped; "
        "it can be garbage-collected mid-flight, and its error is never handled (the loop only logs it when the task is freed)"
    )
    assert lines[1:6] == [
        "  |",
        "9 |     asyncio.create_task(publish(event))",
        "  |     ^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^ FF201",
        "  |",
        "  = help: Keep a reference to the task and report its failure",
    ]
    assert lines[-1] == "Found 2 findings in 1 file: 2 fixable with `ffscan fix`."
    assert not ANSI.search(out)


def test_text_carets_follow_tabs_and_skip_trailing_comments():
    text = "import asyncio\n\n\nasync def f(g):\n\tasyncio.create_task(  # why\n\t\tg())\n"
    lines = render("text", result_of(text), context()).splitlines()
    assert lines[2:6] == [
        "5 |     asyncio.create_task(  # why",
        "  |     ^^^^^^^^^^^^^^^^^^^^ FF201",
        "6 |         g())",
        "  |         ^^^^",
    ]


def test_text_carets_line_up_under_wide_characters():
    # Each of 名前送信注文 takes two columns on a terminal.
    text = "import asyncio\n\n\nasync def f(注文):\n    名前 = 1; asyncio.create_task(送信(注文))\n"
    lines = render("text", result_of(text), context()).splitlines()
    assert lines[2:4] == [
        "5 |     名前 = 1; asyncio.create_task(送信(注文))",
        "  | " + " " * 14 + "^" * 31 + " FF201",
    ]


def test_text_carets_line_up_after_a_tab_that_follows_wide_characters():
    # `    print(名前,` takes 15 columns: the tab after it reaches column 16, one space on.
    text = "import asyncio\n\n\nasync def f(g):\n    名前 = 1\n    print(名前,\tasyncio.create_task(g()))\n"
    lines = render("text", result_of(text), context()).splitlines()
    assert lines[2:4] == [
        "6 |     print(名前, asyncio.create_task(g()))",
        "  | " + " " * 16 + "^" * 24 + " FF201",
    ]


def test_text_uses_ansi_only_with_color():
    out = render("text", result_of(DROPPED_TASKS), context(color=True))
    assert ANSI.search(out)
    assert ANSI.sub("", out) == render("text", result_of(DROPPED_TASKS), context())


def test_text_summary_counts_errors_and_clean_runs():
    assert render("text", RunResult(files_checked=4), context()) == "All checks passed!\n"
    assert render("text", mixed_result(), context()).splitlines()[-1] == "Found 3 findings in 2 files: 2 fixable with `ffscan fix`. 1 path not found. 1 error while checking."


def test_concise_lines_are_exact():
    assert render("concise", mixed_result(), context()).splitlines() == [
        "legacy/old.py:1:7: FF001 File does not parse: invalid syntax",
        "app/jobs.py:9:5: FF201 Task from `asyncio.create_task` is dropped; it can be garbage-collected mid-flight, and its error is never handled (the loop only logs it when the task is freed)",
        "app/jobs.py:11:5: FF201 Task from `asyncio.create_task` is dropped; it can be garbage-collected mid-flight, and its error is never handled (the loop only logs it when the task is freed)",
        "Found 3 findings in 2 files: 2 fixable with `ffscan fix`. 1 path not found. 1 error while checking.",
    ]
    stats = render("concise", mixed_result(), context(statistics=True)).splitlines()
    assert stats[:2] == ["2\tFF201\tdangling-task", "1\tFF001\tsyntax-error"]


# -- GitLab Code Quality ----------------------------------------------------------------------

DATA = ROOT / "tests" / "data"


def gitlab_of(result: RunResult, **overrides) -> list:
    return json.loads(render("gitlab", result, context(**overrides)))


def test_gitlab_report_validates_against_the_code_quality_format(monkeypatch):
    import jsonschema

    monkeypatch.delenv("CI_PROJECT_DIR", raising=False)
    schema = json.loads((DATA / "gitlab" / "code-quality.schema.json").read_text(encoding="utf-8"))
    issues = gitlab_of(mixed_result())
    assert isinstance(issues, list) and len(issues) == 3
    jsonschema.validate(issues, schema)
    jsonschema.validate(gitlab_of(RunResult(files_checked=2)), schema)
    assert gitlab_of(RunResult(files_checked=2)) == []
    for broken in ({"fingerprint": None}, {"severity": "error"}, {"check_name": ""}):
        with pytest.raises(jsonschema.ValidationError):
            jsonschema.validate([{**issues[0], **broken}], schema)


def test_gitlab_issue_fields_are_exact(monkeypatch):
    monkeypatch.delenv("CI_PROJECT_DIR", raising=False)
    first = gitlab_of(mixed_result())[0]
    assert first == {
        "check_name": "FF201",
        "description": "FF201: Task from `asyncio.create_task` is dropped; it can be garbage-collected mid-flight, and its error is never handled (the loop only logs it when the task is freed)",
        "severity": "major",
        "fingerprint": sarif_of(mixed_result())["runs"][0]["results"][0]["partialFingerprints"]["ffscan/v1"],
        "location": {"path": "app/jobs.py", "lines": {"begin": 9, "end": 9}},
    }
    levels = [make_finding(severity=Severity.WARNING), make_finding(severity=Severity.NOTE, start=Location(12, 1), end=Location(13, 2))]
    issues = gitlab_of(RunResult(findings=levels))
    assert [i["severity"] for i in issues] == ["minor", "info"]
    assert issues[1]["location"]["lines"] == {"begin": 12, "end": 13}


def test_gitlab_fingerprints_are_sarifs_unique_and_survive_lines_inserted_above(monkeypatch):
    monkeypatch.delenv("CI_PROJECT_DIR", raising=False)
    before = gitlab_of(result_of(DROPPED_TASKS))
    shifted = "# a new comment\n\n\n" + DROPPED_TASKS
    after = gitlab_of(result_of(shifted))
    assert [i["location"]["lines"]["begin"] for i in before] == [9, 11]
    assert [i["location"]["lines"]["begin"] for i in after] == [12, 14]
    prints = [i["fingerprint"] for i in before]
    assert prints == [i["fingerprint"] for i in after]
    assert len(set(prints)) == 2  # GitLab keys issues by fingerprint: equal ones would merge
    sarif_prints = [r["partialFingerprints"]["ffscan/v1"] for r in sarif_of(result_of(DROPPED_TASKS))["runs"][0]["results"]]
    assert prints == sarif_prints


def test_gitlab_paths_are_relative_to_ci_project_dir(tmp_path, monkeypatch):
    project = tmp_path / "project"
    (project / "src").mkdir(parents=True)
    monkeypatch.chdir(project / "src")
    monkeypatch.setenv("CI_PROJECT_DIR", str(project))
    issues = gitlab_of(RunResult(findings=[make_finding(path="app/jobs.py")]))
    assert issues[0]["location"]["path"] == "src/app/jobs.py"


# -- JUnit XML ------------------------------------------------------------------------------


def junit_schema():
    from lxml import etree

    return etree.XMLSchema(etree.parse(str(DATA / "junit" / "junit.xsd")))


def junit_of(result: RunResult):
    """The report parsed with the standard library (so it is well-formed) and checked against the XSD."""
    import xml.etree.ElementTree as ET

    from lxml import etree

    text = render("junit", result, context())
    assert text.startswith('<?xml version="1.0" encoding="UTF-8"?>\n<testsuites ')
    schema = junit_schema()
    document = etree.fromstring(text.encode("utf-8"))
    assert schema.validate(document), schema.error_log
    return ET.fromstring(text.encode("utf-8"))


def noticed_result() -> RunResult:
    result = mixed_result()
    result.notices.append(
        Notice(path="app/new.py", message="not checked: a `type` statement needs Python 3.12", line=3, column=1, requires="3.12")
    )
    return result


def test_junit_is_one_suite_per_file_and_one_failing_case_per_finding():
    root = junit_of(noticed_result())
    assert (root.tag, root.get("name"), root.get("tests"), root.get("failures"), root.get("errors")) == ("testsuites", "ffscan", "6", "3", "2")
    suites = {s.get("name"): s for s in root}
    assert list(suites) == ["app/jobs.py", "app/new.py", "does/not/exist.py", "legacy/old.py"]
    jobs = suites["app/jobs.py"]
    assert {k: jobs.get(k) for k in ("tests", "failures", "errors", "skipped", "package")} == {
        "tests": "3", "failures": "2", "errors": "1", "skipped": "0", "package": "org.ffscan",
    }
    cases = list(jobs)
    assert [(c.get("name"), c.get("classname")) for c in cases] == [("org.ffscan.FF201", "app/jobs")] * 3
    failure = cases[0].find("failure")
    assert failure.get("message").startswith("Task from `asyncio.create_task` is dropped")
    assert failure.text == "line 9, col 5, " + failure.get("message")
    assert cases[2].find("error").text == "line 3, FF999 crashed: boom"
    skipped = suites["app/new.py"].find("testcase/skipped")
    assert skipped.text == "line 3, col 1, not checked: a `type` statement needs Python 3.12"
    assert suites["app/new.py"].get("skipped") == "1"
    assert suites["does/not/exist.py"].find("testcase").get("name") == "org.ffscan.missing-path"


def test_junit_clean_run_is_one_passing_case():
    root = junit_of(RunResult(files_checked=4))
    (suite,) = list(root)
    assert (suite.get("name"), suite.get("tests"), suite.get("failures")) == ("ffscan", "1", "0")
    (case,) = list(suite)
    assert (case.get("name"), case.get("classname"), list(case)) == ("No errors found", "ffscan", [])


def test_junit_replaces_characters_xml_cannot_hold():
    root = junit_of(RunResult(findings=[make_finding(message="bad \x00 byte\x1b[31m")]))
    assert root.find("testsuite/testcase/failure").get("message") == "bad \ufffd byte\ufffd[31m"


def test_junit_schema_check_can_fail():
    # Ruff's own shape (line/column attributes on the test case) is not valid JUnit for Jenkins.
    from lxml import etree

    text = render("junit", result_of(DROPPED_TASKS), context()).replace('classname="app/jobs"', 'classname="app/jobs" line="9"', 1)
    assert not junit_schema().validate(etree.fromstring(text.encode("utf-8")))


def test_json_schema_doc_example_is_what_ffscan_prints(tmp_path, monkeypatch, capsys):
    from ffscan import __version__
    from ffscan.cli import main

    doc = (ROOT / "docs" / "json-schema.md").read_text(encoding="utf-8")
    source = re.search(r"```python\n(.*?)```", doc, re.S).group(1)
    example = json.loads(re.search(r"```json\n(.*?)```", doc, re.S).group(1))
    (tmp_path / "app").mkdir()
    (tmp_path / "app" / "jobs.py").write_text(source, encoding="utf-8")
    (tmp_path / "pyproject.toml").write_text("[tool.ffscan]\n", encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    assert main(["check", "--format", "json"]) == 1
    printed = json.loads(capsys.readouterr().out)
    assert printed["tool"]["version"] == __version__
    example["tool"]["version"] = __version__
    assert printed == example
