"""One line per finding: `path:line:col: CODE message`, then a count."""

from __future__ import annotations

from typing import List, Optional

from ffscan.model import Applicability, RunResult
from ffscan.report import ReportContext


def finding_lines(result: RunResult) -> List[str]:
    return [
        f"{f.path}:{f.start.line}:{f.start.column}: {f.code} {f.message}" for f in result.findings
    ]


def summary_line(result: RunResult, context: Optional[ReportContext] = None) -> str:
    """`Found 12 findings in 3 files: 8 fixable with `ffscan fix` (2 more with `--unsafe-fixes`).`

    The counts say what each command would do, as Ruff's do: a finding counts as fixable by
    `ffscan fix` when it has a safe fix, and as one more with `--unsafe-fixes` when its only
    fixes are unsafe (display-only fixes are never applied). Under `ffscan check --fix`,
    `findings` are those that remain and `fixed` says how many were fixed.
    """
    unsafe = context is not None and context.unsafe_fixes
    count = len(result.findings)
    safe = sum(1 for f in result.findings if f.fix_applicability is Applicability.SAFE)
    hidden = sum(1 for f in result.findings if f.fix_applicability is Applicability.UNSAFE)
    if result.fixed:
        text = f"Found {_count(count + result.fixed, 'finding')} ({result.fixed} fixed, {count} remaining"
        if hidden and not unsafe:
            text += f"; {hidden} fixable with `--unsafe-fixes`"
        text += ")."
    elif count == 0:
        text = "All checks passed!" if not (result.errors or result.missing) else "No findings."
    else:
        files = len({f.path for f in result.findings})
        text = f"Found {_count(count, 'finding')} in {_count(files, 'file')}"
        if unsafe and safe + hidden:
            text += f": {safe + hidden} fixable with `ffscan fix --unsafe-fixes`"
        elif hidden:
            text += f": {safe} fixable with `ffscan fix` ({hidden} more with `--unsafe-fixes`)"
        elif safe:
            text += f": {safe} fixable with `ffscan fix`"
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
        text += f" {_count(len(result.missing), 'path')} not found."
    if result.errors:
        text += f" {_count(len(result.errors), 'error')} while checking."
    return text


def _count(number: int, noun: str) -> str:
    return f"{number} {noun}{'s' if number != 1 else ''}"


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
    lines.append(summary_line(result, context))
    return "\n".join(lines) + "\n"
