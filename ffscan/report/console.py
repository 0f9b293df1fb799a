"""What the command line prints around a report: run diagnostics, fix summaries, rule listings."""

from __future__ import annotations

import json
from typing import Dict, Iterable, List, Sequence

from ffscan.model import (
    Applicability,
    FileFix,
    Finding,
    FixRun,
    NoqaRun,
    RuleInfo,
    RunError,
    RunResult,
)


def check_diagnostics(result: RunResult, notices: bool = False) -> List[str]:
    """The stderr lines of `ffscan check`: paths not found, files that could not be checked, and
    with `notices` (for reports that have no place for them) the files left unchecked."""
    lines = selection_warnings(result)
    lines.extend(f"ffscan: warning: {w.path}:{w.line}: {w.message}" for w in result.warnings)
    for missing in result.missing:
        lines.append(f"ffscan: error: {missing}: no such file or directory")
    lines.extend(_error_line(error) for error in result.errors)
    if notices:
        lines.extend(f"ffscan: notice: {n.path}:{n.line}:{n.column}: {n.message}" for n in result.notices)
    return lines


def baseline_written(path: object, count: int) -> str:
    """The stderr line of `ffscan check --baseline` when it wrote the file."""
    return f"ffscan: wrote {path} with {_count(count, 'finding')}; commit it: later runs report only findings not in it"


def selection_warnings(result: RunResult) -> List[str]:
    """Why nothing was checked: no rule selected, no file found, or no rule applies to a file."""
    lines = []
    if not result.selected:
        lines.append("ffscan: warning: no rules selected: the selection (select, extend-select, ignore) leaves none on")
    elif result.files_found == 0 and not result.missing:
        reasons = []
        if result.excluded:
            reasons.append("all excluded")
        if result.gitignored:
            reasons.append("listed in a .gitignore: see --no-respect-gitignore")
        because = f" ({', or '.join(reasons)})" if reasons else ""
        lines.append(f"ffscan: warning: no Python files found under the given paths{because}")
    elif result.files_checked == 0 and result.files_found:
        lines.append(
            f"ffscan: warning: no selected rule applies to the {_count(result.files_found, 'Python file')} found "
            "(`test-paths` files get only `test-select`; see also `per-file-ignores`)"
        )
    return lines


def rules_line(codes, total: int) -> str:
    """`ffscan -v`: the rule set the selection resolved to."""
    listed = ", ".join(sorted(codes)) or "none"
    return f"ffscan: rules: {listed} ({len(codes)} of {total})"


def without_summary(report: str, result: RunResult) -> str:
    """A text or concise report with its last line (the summary) dropped, for `--quiet`."""
    return "".join(report.splitlines(keepends=True)[:-1]) if result.findings else ""


def fix_diagnostics(run: FixRun, diff: bool, quiet: bool, left: bool = True, show_fixes: bool = False) -> List[str]:
    """The stderr lines of `ffscan fix`: what went wrong, with `show_fixes` each fix applied
    and its title (which remedy, and why), what was left and why (every finding that remains,
    unless `left` is False), then the summary."""
    lines = fix_errors(run)
    if quiet:
        return lines
    if show_fixes:
        for outcome in run.changed_files:
            for finding, fix in outcome.applied:
                verb = "would fix" if diff or not run.wrote else "fixed"
                lines.append(f"{outcome.path}:{finding.start.line}:{finding.start.column}: {finding.code} {verb}: {fix.title}")
    if left:
        for outcome in run.files:
            for finding, why in outcome.left:
                lines.append(f"{outcome.path}:{finding.start.line}:{finding.start.column}: {finding.code} not fixed: {why}")
    lines.append(fix_summary(run, diff, listed=left))
    return lines


def fix_errors(run: FixRun, notices: bool = True) -> List[str]:
    """Paths not found, a runtime that cannot be imported, rules that crashed, files left alone,
    and with `notices` the files not checked (newer syntax)."""
    lines = selection_warnings(run.result) if run.result is not None else []
    lines.extend(f"ffscan: warning: {w.path}:{w.line}: {w.message}" for w in (run.result.warnings if run.result else ()))
    lines.extend(f"ffscan: error: {missing}: no such file or directory" for missing in run.missing)
    if run.runtime_problem:
        lines.append(f"ffscan: not applied: {run.runtime_problem}")
    lines.extend(_error_line(error) for error in run.errors)
    for outcome in run.files:
        if outcome.error:
            lines.append(f"ffscan: {'error: ' if outcome.cannot_write else ''}{outcome.path}: {outcome.error}")
    if notices and run.result is not None:
        lines.extend(f"ffscan: notice: {n.path}:{n.line}:{n.column}: {n.message}" for n in run.result.notices)
    return lines


def fix_summary(run: FixRun, diff: bool, listed: bool = True) -> str:
    """`Fixed 8 findings in 3 files, which adds `from ffscan.runtime import track` to 3 files;
    2 left (see above).`"""
    would = diff or not run.wrote
    changed = run.changed_files
    summary = f"{'Would fix' if would else 'Fixed'} {_count(run.applied, 'finding')} in {_count(len(changed), 'file')}"
    imports = imports_note(changed, would)
    if imports:
        summary += f", which {imports}"
    untracked = sum(outcome.untracked for outcome in changed)
    if untracked:
        summary += f" ({untracked} of them inside `track(...)` calls, now given their unsafe fix)"
    left = [finding for outcome in run.files for finding, _ in outcome.left]
    if left:
        summary += f"; {len(left)} left{' (see above)' if listed else ''}"
        hidden = sum(1 for finding in left if not run.unsafe and _unsafe_only(finding))
        if hidden:
            summary += f", {hidden} of them fixable with `--unsafe-fixes`"
    errors = [f for f in run.files if f.error]
    if errors:
        summary += f"; {_count(len(errors), 'file')} left as {'they were' if len(errors) != 1 else 'it was'}"
    if run.vendored is not None:
        folder, module = run.vendored
        summary += (
            f"; {'would copy' if would else 'copied'} the tracked runtime to {folder}/, which the fixes import as `{module}` "
            f'(set `runtime-module = "{module}"` in [tool.ffscan.fix] so that later runs use it)'
        )
    return summary + "."


def noqa_diagnostics(run: NoqaRun, quiet: bool) -> List[str]:
    """The stderr lines of `ffscan check --add-noqa`: what went wrong, each finding given no
    comment and why, then the summary."""
    lines = selection_warnings(run.result) if run.result is not None else []
    lines.extend(f"ffscan: warning: {w.path}:{w.line}: {w.message}" for w in (run.result.warnings if run.result else ()))
    lines.extend(f"ffscan: error: {missing}: no such file or directory" for missing in run.missing)
    lines.extend(_error_line(error) for error in run.errors)
    for outcome in run.files:
        if outcome.error:
            lines.append(f"ffscan: {'error: ' if outcome.cannot_write else ''}{outcome.path}: {outcome.error}")
    if run.result is not None and not quiet:
        lines.extend(f"ffscan: notice: {n.path}:{n.line}:{n.column}: {n.message}" for n in run.result.notices)
    if quiet:
        return lines
    for outcome in run.files:
        for finding, why in outcome.left:
            lines.append(f"{outcome.path}:{finding.start.line}:{finding.start.column}: {finding.code} given no `# noqa`: {why}")
    lines.append(noqa_summary(run))
    return lines


def noqa_summary(run: NoqaRun) -> str:
    """`Added `# noqa` to 6 lines in 3 files; 1 finding left (see above).`"""
    changed = [outcome for outcome in run.files if outcome.added]
    lines = sum(len(outcome.added) for outcome in changed)
    summary = f"Added `# noqa` to {_count(lines, 'line')} in {_count(len(changed), 'file')}"
    left = sum(len(outcome.left) for outcome in run.files)
    if left:
        summary += f"; {_count(left, 'finding')} left (see above)"
    errors = [outcome for outcome in run.files if outcome.error]
    if errors:
        summary += f"; {_count(len(errors), 'file')} left as {'they were' if len(errors) != 1 else 'it was'}"
    return summary + "."


def imports_note(changed: Sequence[FileFix], would: bool) -> str:
    """`adds `from ffscan.runtime import track` to 3 files`, for each import the fixes add."""
    files_by_import: Dict[str, int] = {}
    for outcome in changed:
        by_module: Dict[str, List[str]] = {}
        for module, name in outcome.imports_added:
            by_module.setdefault(module, []).append(name)
        for module, names in by_module.items():
            statement = f"from {module} import {', '.join(sorted(names))}"
            files_by_import[statement] = files_by_import.get(statement, 0) + 1
    if not files_by_import:
        return ""
    parts = [f"`{statement}` to {_count(files, 'file')}" for statement, files in sorted(files_by_import.items())]
    return f"{'would add' if would else 'adds'} " + " and ".join(parts)


def _unsafe_only(finding: Finding) -> bool:
    return finding.fix_applicability is Applicability.UNSAFE


def _error_line(error: RunError) -> str:
    location = f"{error.path}:{error.line}" if error.line else error.path
    return f"ffscan: error: {location}: {error.message}"


def _count(number: int, noun: str) -> str:
    return f"{number} {noun}{'s' if number != 1 else ''}"


def rules_json(rules: Iterable[RuleInfo]) -> str:
    """`ffscan rules --format json`."""
    rows = [
        {
            "code": r.code,
            "name": r.name,
            "family": r.family.value,
            "summary": r.summary,
            "fixable": r.fix_applicability.value if r.fix_applicability else None,
            "default": "on" if r.default_on else "off",
            "off_reason": r.off_reason or None,
        }
        for r in rules
    ]
    return json.dumps(rows, indent=2) + "\n"


def rule_json(rule: RuleInfo) -> str:
    """`ffscan rule CODE --format json`."""
    return json.dumps({"code": rule.code, "name": rule.name, "doc": rule.doc}, indent=2) + "\n"


def spawners_text(spawners) -> str:
    """`ffscan spawners`: one line per project function that starts a task from a parameter."""
    if not spawners:
        return "No project function starts a task from a parameter.\n"
    lines = []
    for spawner in spawners:
        how = {
            "drops": "drops the task it starts (the task can vanish; reported there)",
            "returns": "returns the task it starts: callers must keep it",
            "keeps": "keeps the task it starts: callers need not",
        }[spawner.behaviour]
        origin = "configured in `tracked-spawners`" if spawner.configured else f"{spawner.path}:{spawner.line}, via `{spawner.via}`"
        lines.append(f"{spawner.function}({spawner.param}) {how} [{origin}]")
    return "\n".join(lines) + "\n"


def spawners_json(spawners) -> str:
    rows = [
        {
            "function": s.function, "parameter": s.param, "behaviour": s.behaviour, "path": s.path,
            "line": s.line, "via": s.via, "configured": s.configured,
        }
        for s in spawners
    ]
    return json.dumps(rows, indent=2) + "\n"


def plain_table(headers: Sequence[str], rows: Iterable[Sequence[str]]) -> str:
    """Columns for a pipe: aligned with two spaces, one line per row (nothing wrapped), no
    box and no spaces at the end of a line."""
    table = [list(headers), *(list(row) for row in rows)]
    widths = [max(len(row[i]) for row in table) for i in range(len(headers))]
    lines = ["  ".join(cell.ljust(width) for cell, width in zip(row, widths)).rstrip() for row in table]
    return "\n".join(lines) + "\n"
