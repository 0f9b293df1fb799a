"""Findings into tickets: one per function (or module level of a file), with a priority.

A ticket is one incident: everything wrong in `create_order` (a dropped task, a fan-out, a
coroutine never awaited) is one ticket with its issues numbered, whatever the rules.
Its priority comes from evidence, and says why in one line:

- P1: some issue loses work or its error for certain (the rule's `loss`) and its rule is
  precise enough to be on by default;
- P2: some issue loses work or its error for certain, by a rule that is off by default;
- P3: nothing is lost for certain (a bound missing, a file not analysed).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import PurePosixPath
from typing import Dict, List, Sequence, Tuple

from ffscan.model import Family, Finding, RuleInfo
from ffscan.report.fingerprint import fingerprints_for, posix_path, ticket_id

PRIORITY_LABELS = {1: "P1 (critical)", 2: "P2 (high)", 3: "P3 (medium)"}


@dataclass(frozen=True)
class Issue:
    number: int  # 1-based, in line order within its ticket
    finding: Finding
    rule: RuleInfo
    fingerprint: str  # the finding's, as SARIF and the JSON report give it

    @property
    def line(self) -> int:
        return self.finding.start.line


@dataclass(frozen=True)
class Ticket:
    id: str
    path: str
    enclosing: str  # the function's qualified name; "" for the module level
    issues: Tuple[Issue, ...]
    priority: int
    reason: str  # the priority, and why, in one line

    @property
    def codes(self) -> Tuple[str, ...]:
        return tuple(sorted({issue.finding.code for issue in self.issues}))

    @property
    def where(self) -> str:
        """`create_order`, the module level of `orders.py`, or `orders.py` for a file not analysed."""
        if self.enclosing:
            return f"`{self.enclosing}`"
        name = f"`{PurePosixPath(posix_path(self.path)).name}`"
        return name if self.category == "Tooling" else f"module level of {name}"

    @property
    def title(self) -> str:
        """`create_order`: 3 dropped tasks, unbounded task fan-out, unawaited coroutine"""
        counts: Dict[str, List[Issue]] = {}
        for issue in self.issues:
            counts.setdefault(issue.finding.code, []).append(issue)
        parts = []
        for same in counts.values():
            one, many = same[0].rule.subject
            parts.append(one if len(same) == 1 else f"{len(same)} {many}")
        return f"{self.where}: {', '.join(parts)}"

    @property
    def category(self) -> str:
        families = {issue.finding.family for issue in self.issues}
        if families == {Family.CONCURRENCY}:
            return "Performance"
        if families == {Family.FILE}:
            return "Tooling"
        return "Reliability"


def group_tickets(findings: Sequence[Finding], rules: Dict[str, RuleInfo]) -> List[Ticket]:
    """One ticket per (file, function), most urgent first, then by file and line."""
    ordered = sorted(findings, key=Finding.sort_key)
    groups: Dict[Tuple[str, str], List[Tuple[Finding, str]]] = {}
    for finding, fingerprint in zip(ordered, fingerprints_for(ordered)):
        groups.setdefault((finding.path, finding.enclosing), []).append((finding, fingerprint))
    tickets = []
    for (path, enclosing), members in groups.items():
        issues = tuple(
            Issue(number, finding, rules.get(finding.code) or RuleInfo.from_finding(finding), fingerprint)
            for number, (finding, fingerprint) in enumerate(members, 1)
        )
        priority, reason = prioritise(issues)
        tickets.append(Ticket(ticket_id(path, enclosing), path, enclosing, issues, priority, reason))
    return sorted(tickets, key=lambda t: (t.priority, t.path, t.issues[0].line))


def prioritise(issues: Sequence[Issue]) -> Tuple[int, str]:
    """The priority and its one-line reason."""
    certain = [i for i in issues if i.rule.loss and i.rule.default_on]
    if certain:
        return 1, f"{_losses(certain)}, for certain; {_codes(certain)} {_be(certain)} precise (on by default)."
    lossy = [i for i in issues if i.rule.loss]
    if lossy:
        return 2, (
            f"{_losses(lossy)}, if {_noun(lossy)} right: "
            f"{_codes(lossy)} {_be(lossy)} off by default (less precise), so confirm before scheduling."
        )
    return 3, f"nothing is lost for certain ({_codes(issues)}: {_subjects(issues)})."


def _losses(issues: Sequence[Issue]) -> str:
    clauses = list(dict.fromkeys(issue.rule.loss for issue in issues))
    return join(clauses)


def _codes(issues: Sequence[Issue]) -> str:
    return join(sorted({issue.finding.code for issue in issues}))


def _subjects(issues: Sequence[Issue]) -> str:
    return join(list(dict.fromkeys(issue.rule.subject[0] for issue in issues)))


def _be(issues: Sequence[Issue], one: str = "is", many: str = "are") -> str:
    """`is` for one rule code, `are` for several."""
    return one if len({issue.finding.code for issue in issues}) == 1 else many


def _noun(issues: Sequence[Issue]) -> str:
    return "the finding is" if len(issues) == 1 else "the findings are"


def join(items: Sequence[str]) -> str:
    """`a`, `a and b`, `a, b and c`."""
    items = list(items)
    if len(items) <= 1:
        return "".join(items)
    return ", ".join(items[:-1]) + " and " + items[-1]
