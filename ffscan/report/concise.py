"""One line per finding: `path:line:col: CODE message`, then a count."""

from __future__ import annotations

from typing import List

from ffscan.model import RunResult
from ffscan.report import ReportContext


def finding_lines(result: RunResult) -> List[str]:
    return [
        f"{f.path}:{f.start.line}:{f.start.column}: {f.code} {f.message}" for f in result.findings
    ]


def summary_line(result: RunResult) -> str:
    count = len(result.findings)
    if count == 0:
        text = "All checks passed!" if not (result.errors or result.missing) else "No findings."
    else:
        fixable = sum(1 for f in result.findings if f.fixable)
        text = f"Found {count} finding{'s' if count != 1 else ''} in {len({f.path for f in result.findings})} file{'s' if len({f.path for f in result.findings}) != 1 else ''}"
        if fixable:
            text += f" ({fixable} fixable with `ffscan fix`)"
        text += "."
    if result.notices:
        count = len(result.notices)
        text += f" {count} file{'s' if count != 1 else ''} not checked: newer Python syntax (see the notice{'s' if count != 1 else ''})."
    if result.baselined:
        text += f" {result.baselined} finding{'s' if result.baselined != 1 else ''} in the baseline not shown."
    if result.baseline_stale:
        stale = result.baseline_stale
        text += (
            f" {stale} baseline entr{'ies' if stale != 1 else 'y'} no longer found"
            " (`--update-baseline` drops them)."
        )
    if result.missing:
        count = len(result.missing)
        text += f" {count} path{'s' if count != 1 else ''} not found."
    if result.errors:
        text += f" {len(result.errors)} error{'s' if len(result.errors) != 1 else ''} while checking."
    return text


def statistics_lines(result: RunResult, context: ReportContext) -> List[str]:
    counts = {}
    for finding in result.findings:
        counts[finding.code] = counts.get(finding.code, 0) + 1
    width = max((len(str(n)) for n in counts.values()), default=1)
    return [
        f"{n:>{width}}\t{code}\t{context.rules[code].name if code in context.rules else ''}"
        for code, n in sorted(counts.items(), key=lambda item: (-item[1], item[0]))
    ]


def render(result: RunResult, context: ReportContext) -> str:
    if context.statistics:
        lines = statistics_lines(result, context)
    else:
        lines = finding_lines(result)
    lines.append(summary_line(result))
    return "\n".join(lines) + "\n"
