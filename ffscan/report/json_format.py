"""The JSON report: a stable, versioned schema documented in docs/json-schema.md.

{
  "schema_version": 2,
  "tool": {"name": "ffscan", "version": "0.1.0"},
  "summary": {"findings": 2, "files_checked": 10, "suppressed": 0, "errors": 0,
              "by_code": {"FF201": 2}},
  "findings": [ {finding}, ... ],
  "tickets": [ {ticket}, ... ],
  "errors": [ {"path": ..., "code": ..., "line": ..., "message": ...}, ... ],
  "missing_paths": [ ... ],
  "notices": [ {"path": ..., "line": ..., "column": ..., "kind": ..., "requires": ..., "message": ...}, ... ]
}

Tickets are those of `--format ticket`, with the same ids; each lists its findings by
fingerprint, so a script can sync a tracker from it.
"""

from __future__ import annotations

import json
from typing import Any, Dict

from ffscan.model import Applicability, Finding, RunResult
from ffscan.report import ReportContext
from ffscan.report.ticket import found_by
from ffscan.report.ticket.grouping import Ticket, group_tickets

SCHEMA_VERSION = 2


def finding_to_dict(finding: Finding, fingerprint: str = "", ticket: str = "") -> Dict[str, Any]:
    return {
        "code": finding.code,
        "name": finding.name,
        "family": finding.family.name.lower(),
        "severity": finding.severity.value,
        "message": finding.message,
        "path": finding.path,
        "start": {"line": finding.start.line, "column": finding.start.column},
        "end": {"line": finding.end.line, "column": finding.end.column},
        "source": list(finding.source_lines),
        "impacts": [impact.value for impact in finding.impacts],
        "risk": finding.risk,
        "fix": (
            {"title": finding.fix_title, "applicability": finding.fix_applicability.value}
            if finding.fix_applicability is not None
            else None
        ),
        "enclosing": finding.enclosing,
        "fingerprint": fingerprint,
        "ticket": ticket,
    }


def ticket_to_dict(ticket: Ticket, result: RunResult, context: ReportContext) -> Dict[str, Any]:
    return {
        "id": ticket.id,
        "title": ticket.title,
        "priority": ticket.priority,
        "priority_reason": ticket.reason,
        "category": ticket.category,
        "path": ticket.path,
        "enclosing": ticket.enclosing,
        "codes": list(ticket.codes),
        "findings": [issue.fingerprint for issue in ticket.issues],
        "found_by": found_by(ticket, result, context),
    }


def statistics(result: RunResult, context: ReportContext) -> list:
    """`--statistics --format json`, as Ruff's: one entry per code, most frequent first;
    `fixable` is true when every finding of the code has a fix `ffscan fix` applies (with
    `--unsafe-fixes`: an unsafe one too), `fixable_count` how many do."""
    allowed = {Applicability.SAFE, Applicability.UNSAFE} if context.unsafe_fixes else {Applicability.SAFE}
    counts: Dict[str, list] = {}
    for finding in result.findings:
        entry = counts.setdefault(finding.code, [finding.name, 0, 0])
        entry[1] += 1
        entry[2] += finding.fix_applicability in allowed
    ordered = sorted(counts.items(), key=lambda item: (-item[1][1], item[0]))
    return [
        {"code": code, "name": name, "count": count, "fixable": fixable == count, "fixable_count": fixable}
        for code, (name, count, fixable) in ordered
    ]


def render(result: RunResult, context: ReportContext) -> str:
    if context.statistics:
        return json.dumps(statistics(result, context), indent=2) + "\n"
    by_code: Dict[str, int] = {}
    for finding in result.findings:
        by_code[finding.code] = by_code.get(finding.code, 0) + 1
    tickets = group_tickets(result.findings, context.rules)
    filed = {id(issue.finding): (issue.fingerprint, ticket.id) for ticket in tickets for issue in ticket.issues}
    document = {
        "schema_version": SCHEMA_VERSION,
        "tool": {"name": "ffscan", "version": context.version},
        "summary": {
            "findings": len(result.findings),
            "files_checked": result.files_checked,
            "suppressed": result.suppressed,
            "errors": len(result.errors),
            "by_code": dict(sorted(by_code.items())),
            "baselined": result.baselined,
            "baseline_stale": result.baseline_stale,
            "notices": len(result.notices),
        },
        "findings": [finding_to_dict(f, *filed[id(f)]) for f in result.findings],
        "tickets": [ticket_to_dict(ticket, result, context) for ticket in tickets],
        "errors": [
            {"path": e.path, "code": e.code, "line": e.line, "message": e.message} for e in result.errors
        ],
        "missing_paths": list(result.missing),
        "notices": [
            {"path": n.path, "line": n.line, "column": n.column, "kind": n.kind, "requires": n.requires, "message": n.message}
            for n in result.notices
        ],
    }
    return json.dumps(document, indent=2, ensure_ascii=False) + "\n"
