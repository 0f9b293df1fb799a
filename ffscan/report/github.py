"""GitHub Actions workflow commands: one annotation per finding, shown on the pull request.

    ::error file=app/jobs.py,line=14,col=5,endLine=14,endColumn=40,title=FF201 dangling-task::Task from ...

Escaping follows GitHub's runner: in the message `%`, `\\r` and `\\n` are percent-encoded; in
property values `:` and `,` are too, since they separate the properties.
"""

from __future__ import annotations

from typing import List

from ffscan.model import Finding, RunResult, Severity
from ffscan.report import ReportContext
from ffscan.report.concise import summary_line

_COMMANDS = {Severity.ERROR: "error", Severity.WARNING: "warning", Severity.NOTE: "notice"}


def escape_data(value: str) -> str:
    """Escape a command's message (the part after `::`)."""
    return value.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def escape_property(value: str) -> str:
    """Escape a property value (`file=`, `title=`, ...)."""
    return escape_data(value).replace(":", "%3A").replace(",", "%2C")


def command(name: str, message: str, **properties: object) -> str:
    props = ",".join(f"{key}={escape_property(str(value))}" for key, value in properties.items() if value is not None)
    return f"::{name}{' ' + props if props else ''}::{escape_data(message)}"


def finding_command(finding: Finding) -> str:
    return command(
        _COMMANDS.get(finding.severity, "error"),
        finding.message,
        file=finding.path,
        line=finding.start.line,
        col=finding.start.column,
        endLine=finding.end.line,
        endColumn=finding.end.column,
        title=f"{finding.code} {finding.name}",
    )


def render(result: RunResult, context: ReportContext) -> str:
    lines: List[str] = [finding_command(finding) for finding in result.findings]
    for error in result.errors:
        lines.append(
            command("error", error.message, file=error.path or None, line=error.line, title="ffscan error")
        )
    for missing in result.missing:
        lines.append(command("error", f"{missing}: no such file or directory", title="ffscan error"))
    for notice in result.notices:
        lines.append(command("notice", notice.message, file=notice.path, line=notice.line, col=notice.column, title="ffscan notice"))
    lines.append(summary_line(result, context))
    return "\n".join(lines) + "\n"
