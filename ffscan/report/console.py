"""What the command line prints around a report: run diagnostics, fix summaries, rule listings."""

from __future__ import annotations

import json
from typing import Iterable, List

from ffscan.model import FixRun, RuleInfo, RunResult


def check_diagnostics(result: RunResult, notices: bool = False) -> List[str]:
    """The stderr lines of `ffscan check`: paths not found, files that could not be checked, and
    with `notices` (for reports that have no place for them) the files left unchecked."""
    lines = []
    if result.files_checked == 0 and not result.missing:
        lines.append(
            "ffscan: warning: no Python files to check under the given paths "
            "(all excluded, or listed in a .gitignore: see --no-respect-gitignore)"
        )
    for missing in result.missing:
        lines.append(f"ffscan: error: {missing}: no such file or directory")
    for error in result.errors:
        location = f"{error.path}:{error.line}" if error.line else error.path
        lines.append(f"ffscan: error: {location}: {error.message}")
    if notices:
        lines.extend(f"ffscan: notice: {n.path}:{n.line}:{n.column}: {n.message}" for n in result.notices)
    return lines


def baseline_written(path: object, count: int) -> str:
    """The stderr line of `ffscan check --baseline` when it wrote the file."""
    return f"ffscan: wrote {path} with {_count(count, 'finding')}; commit it: later runs report only findings not in it"


def without_summary(report: str, result: RunResult) -> str:
    """A text or concise report with its last line (the summary) dropped, for `--quiet`."""
    return "".join(report.splitlines(keepends=True)[:-1]) if result.findings else ""


def fix_diagnostics(run: FixRun, diff: bool, quiet: bool) -> List[str]:
    """The stderr lines of `ffscan fix`: what was left and why, then the summary."""
    lines = [f"ffscan: error: {missing}: no such file or directory" for missing in run.missing]
    if run.runtime_problem:
        lines.append(f"ffscan: not applied: {run.runtime_problem}")
    errors = [f for f in run.files if f.error]
    lines.extend(f"ffscan: {outcome.path}: {outcome.error}" for outcome in errors)
    if quiet:
        return lines
    left = [(outcome.path, finding, why) for outcome in run.files if not outcome.error for finding, why in outcome.left]
    for path, finding, why in left:
        lines.append(f"{path}:{finding.start.line}:{finding.start.column}: {finding.code} not fixed: {why}")
    verb = "Would fix" if diff or run.runtime_problem else "Fixed"
    changed = run.changed_files
    summary = f"{verb} {_count(run.applied, 'finding')} in {_count(len(changed), 'file')}"
    if left:
        summary += f"; {len(left)} left (see above)"
    if errors:
        summary += f"; {_count(len(errors), 'file')} left as {'they were' if len(errors) != 1 else 'it was'}"
    lines.append(summary + ".")
    return lines


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
