"""JUnit XML, for CI systems that read test reports (Jenkins, GitLab, Azure, CircleCI, ...).

As Ruff does: one `<testsuite>` per file, named by its path, and one failing `<testcase>`
per finding, named `org.ffscan.FF201`, with the file's path without `.py` as its class:

    <testsuites name="ffscan" tests="2" failures="2" errors="0">
        <testsuite name="app/jobs.py" tests="2" disabled="0" errors="0" failures="2" package="org.ffscan">
            <testcase name="org.ffscan.FF201" classname="app/jobs">
                <failure message="Task from ...">line 9, col 5, Task from ...</failure>
            </testcase>

A clean run is one passing test case, "No errors found". A rule that crashed on a file, or a
path that does not exist, is an `<error>` test case; a file left unchecked because its syntax
is newer than the running Python (a notice) is a `<skipped>` one. Unlike Ruff's, the output
carries no `line`/`column` attributes or per-case `<properties>`, which the JUnit schema that
Jenkins validates against (tests/data/junit/) does not allow: the place is in the text.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from collections import defaultdict
from pathlib import PurePosixPath
from typing import Dict, List

from ffscan.model import Finding, RunResult
from ffscan.report import ReportContext
from ffscan.report.fingerprint import posix_path

PROGRAM = "ffscan"
PACKAGE = f"org.{PROGRAM}"

# Characters XML 1.0 cannot carry at all, even escaped (C0 controls but tab, newline, return).
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")


def render(result: RunResult, context: ReportContext) -> str:
    root = ET.Element("testsuites", name=PROGRAM)
    suites: Dict[str, List[ET.Element]] = defaultdict(list)
    for finding in sorted(result.findings, key=Finding.sort_key):
        case = _case(finding.code, finding.path)
        text = f"line {finding.start.line}, col {finding.start.column}, {finding.message}"
        ET.SubElement(case, "failure", message=_xml(finding.message)).text = _xml(text)
        suites[finding.path].append(case)
    for error in result.errors:
        case = _case(error.code or "internal-error", error.path)
        where = f"line {error.line}, " if error.line else ""
        ET.SubElement(case, "error", message=_xml(error.message)).text = _xml(where + error.message)
        suites[error.path].append(case)
    for missing in result.missing:
        case = _case("missing-path", missing)
        ET.SubElement(case, "error", message="no such file or directory").text = _xml(f"{missing}: no such file or directory")
        suites[missing].append(case)
    for notice in result.notices:
        case = _case(notice.kind, notice.path)
        ET.SubElement(case, "skipped").text = _xml(f"line {notice.line}, col {notice.column}, {notice.message}")
        suites[notice.path].append(case)
    if not suites:
        case = ET.Element("testcase", name="No errors found", classname=PROGRAM)
        suites[PROGRAM].append(case)
    totals = {"tests": 0, "failures": 0, "errors": 0}
    for name in sorted(suites):
        cases = suites[name]
        counts = {
            "tests": len(cases),
            "failures": sum(1 for c in cases if c.find("failure") is not None),
            "errors": sum(1 for c in cases if c.find("error") is not None),
            "skipped": sum(1 for c in cases if c.find("skipped") is not None),
        }
        suite = ET.SubElement(
            root,
            "testsuite",
            name=_xml(name),
            tests=str(counts["tests"]),
            disabled="0",
            errors=str(counts["errors"]),
            failures=str(counts["failures"]),
            skipped=str(counts["skipped"]),
            package=PACKAGE,
        )
        suite.extend(cases)
        for key in totals:
            totals[key] += counts[key]
    for key, value in totals.items():
        root.set(key, str(value))
    ET.indent(root, space="    ")
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(root, encoding="unicode") + "\n"


def _case(code: str, path: str) -> ET.Element:
    classname = str(PurePosixPath(posix_path(path)).with_suffix("")) if path.endswith((".py", ".pyi")) else posix_path(path)
    return ET.Element("testcase", name=f"{PACKAGE}.{code}", classname=_xml(classname))


def _xml(text: str) -> str:
    """Text XML can hold: characters it forbids become U+FFFD (ElementTree would write them raw)."""
    return _NOT_XML.sub("\ufffd", text)
