"""SARIF 2.1.0 for GitHub code scanning and other SARIF viewers.

One run; `tool.driver.rules` lists every rule (selected or not) so `ruleIndex` is stable.
Locations are relative to `%SRCROOT%` (the project root). Columns count Unicode code
points, 1-based, end exclusive, as in ffscan's own findings.

`partialFingerprints["ffscan/v1"]` identifies a finding across unrelated edits (see
`ffscan.report.fingerprint`); the GitLab report and the baseline use the same value.
"""

from __future__ import annotations

import json
import re
from pathlib import PurePosixPath, PureWindowsPath
from typing import Any, Dict, Iterable, List
from urllib.parse import quote

from ffscan.model import DOCS_URL, Family, Finding, RuleInfo, RunResult, Severity
from ffscan.report import ReportContext
from ffscan.report.fingerprint import FINGERPRINT_KEY, fingerprints_for, posix_path

SCHEMA_URI = "https://json.schemastore.org/sarif-2.1.0.json"
SARIF_VERSION = "2.1.0"
INFORMATION_URI = DOCS_URL.rsplit("/blob/", 1)[0]
SRCROOT = "%SRCROOT%"

# Code scanning stores descriptions up to this many characters; longer ones are cut off there.
MAX_DESCRIPTION = 1024

_LEVELS = {Severity.ERROR: "error", Severity.WARNING: "warning", Severity.NOTE: "note"}


def render(result: RunResult, context: ReportContext) -> str:
    return json.dumps(build(result, context), indent=2, ensure_ascii=False) + "\n"


def build(result: RunResult, context: ReportContext) -> Dict[str, Any]:
    """The SARIF log as a dict (for tests and for callers that post-process it)."""
    rules = _rule_list(context.rules, result.findings)
    index = {rule.code: position for position, rule in enumerate(rules)}
    findings = sorted(result.findings, key=Finding.sort_key)
    fingerprints = fingerprints_for(findings)
    run: Dict[str, Any] = {
        "tool": {
            "driver": {
                "name": "ffscan",
                "version": context.version,
                "semanticVersion": context.version,
                "informationUri": INFORMATION_URI,
                "rules": [_descriptor(rule) for rule in rules],
            }
        },
        "invocations": [_invocation(result, findings, index)],
        "originalUriBaseIds": {SRCROOT: {"uri": _root_uri(context)}},
        "columnKind": "unicodeCodePoints",
        "results": [_result(f, index[f.code], fp) for f, fp in zip(findings, fingerprints)],
    }
    return {"$schema": SCHEMA_URI, "version": SARIF_VERSION, "runs": [run]}


def _rule_list(rules: Dict[str, RuleInfo], findings: Iterable[Finding]) -> List[RuleInfo]:
    listed = dict(rules)
    for finding in findings:  # a finding from a rule the context does not know: describe it minimally
        if finding.code not in listed:
            listed[finding.code] = RuleInfo.from_finding(finding)
    return [listed[code] for code in sorted(listed)]


def _descriptor(rule: RuleInfo) -> Dict[str, Any]:
    summary = _clip(rule.summary or rule.name)
    full = _section(rule.doc, "What it does") or summary
    why = _section(rule.doc, "Why is this bad?")
    if why and len(full) + len(why) + 2 <= MAX_DESCRIPTION:
        full = f"{full}\n\n{why}"
    full = _clip(full)
    tags = ["reliability", rule.family.value]
    if rule.family is Family.CONCURRENCY:
        tags.append("performance")
    properties: Dict[str, Any] = {
        "tags": tags,
        "precision": "high" if rule.default_on else "medium",
        "impacts": [impact.value for impact in rule.impacts],
    }
    if rule.off_reason:
        properties["offReason"] = rule.off_reason
    descriptor: Dict[str, Any] = {
        "id": rule.code,
        "name": rule.name,
        "shortDescription": {"text": summary},
        "fullDescription": {"text": full},
        "help": {"text": rule.doc or summary, "markdown": rule.doc or summary},
        "helpUri": rule.help_uri,
        "defaultConfiguration": {"level": _LEVELS[rule.severity], "enabled": rule.default_on},
        "properties": properties,
    }
    return descriptor


def _clip(text: str, limit: int = MAX_DESCRIPTION) -> str:
    """Shorten to `limit` characters at a word boundary, ending with an ellipsis."""
    if len(text) <= limit:
        return text
    cut = text[: limit - 1].rsplit(None, 1)[0].rstrip(" ,;:")
    return cut + "\u2026"


def _section(doc: str, title: str) -> str:
    """The text of one `## title` section of a rule doc, without the heading."""
    marker = f"## {title}"
    if marker not in doc:
        return ""
    body = doc.split(marker, 1)[1]
    body = re.split(r"^## ", body, maxsplit=1, flags=re.MULTILINE)[0]
    paragraphs = re.split(r"\n\s*\n", body.strip())
    # Plain text for viewers: unwrap hard-wrapped prose, keep code blocks as they are.
    return "\n\n".join(p if "```" in p else " ".join(p.split()) for p in paragraphs)


def _result(finding: Finding, rule_index: int, fingerprint: str) -> Dict[str, Any]:
    result: Dict[str, Any] = {
        "ruleId": finding.code,
        "ruleIndex": rule_index,
        "level": _LEVELS[finding.severity],
        "message": {"text": finding.message},
        "locations": [{"physicalLocation": _physical(finding)}],
        "partialFingerprints": {FINGERPRINT_KEY: fingerprint},
    }
    properties: Dict[str, Any] = {}
    if finding.impacts:
        properties["impacts"] = [impact.value for impact in finding.impacts]
    if finding.fix_title:
        properties["fixTitle"] = finding.fix_title
    if properties:
        result["properties"] = properties
    return result


def _physical(finding: Finding) -> Dict[str, Any]:
    start_line = max(1, finding.start.line)
    start_col = max(1, finding.start.column)
    end_line = max(start_line, finding.end.line)
    end_col = max(1, finding.end.column)
    region: Dict[str, Any] = {"startLine": start_line, "startColumn": start_col}
    lines = list(finding.source_lines)
    if end_line == start_line and end_col <= start_col:
        # A point (FF0xx: where parsing stopped): show one character when the line has one.
        first = lines[0] if lines else ""
        if start_col <= len(first):
            end_col = start_col + 1
        else:
            end_col = start_col
    region["endLine"] = end_line
    region["endColumn"] = end_col
    snippet = _span_text(lines, start_line, start_col, end_line, end_col)
    if snippet:
        region["snippet"] = {"text": snippet}
    physical: Dict[str, Any] = {"artifactLocation": artifact_location(finding.path), "region": region}
    if lines:
        physical["contextRegion"] = {
            "startLine": start_line,
            "endLine": start_line + len(lines) - 1,
            "snippet": {"text": "\n".join(lines)},
        }
    return physical


def _span_text(lines: List[str], start_line: int, start_col: int, end_line: int, end_col: int) -> str:
    """The exact text of the region, from the finding's source lines."""
    if not lines:
        return ""
    count = end_line - start_line + 1
    if len(lines) < count:
        return ""
    if count == 1:
        return lines[0][start_col - 1 : end_col - 1]
    parts = [lines[0][start_col - 1 :]]
    parts.extend(lines[1 : count - 1])
    parts.append(lines[count - 1][: end_col - 1])
    return "\n".join(parts)


def artifact_location(path: str) -> Dict[str, Any]:
    """A relative path becomes a `%SRCROOT%`-based URI; an absolute one a file:// URI."""
    posix = posix_path(path)
    if posix.startswith("/") or PureWindowsPath(path).is_absolute():
        absolute = PurePosixPath(posix) if posix.startswith("/") else PureWindowsPath(path)
        return {"uri": absolute.as_uri()}
    if posix.startswith("./"):
        posix = posix[2:]
    return {"uri": quote(posix, safe="/"), "uriBaseId": SRCROOT}


def _root_uri(context: ReportContext) -> str:
    uri = context.root.resolve().as_uri()
    return uri if uri.endswith("/") else uri + "/"


def _invocation(result: RunResult, findings: List[Finding], index: Dict[str, int]) -> Dict[str, Any]:
    notifications: List[Dict[str, Any]] = []
    for error in result.errors:
        notification: Dict[str, Any] = {"level": "error", "message": {"text": error.message}}
        if error.path:
            location: Dict[str, Any] = {"artifactLocation": artifact_location(error.path)}
            if error.line:
                location["region"] = {"startLine": error.line}
            notification["locations"] = [{"physicalLocation": location}]
        if error.code:
            notification["descriptor"] = {"id": error.code}
            if error.code in index:
                notification["associatedRule"] = {"id": error.code, "index": index[error.code]}
        notifications.append(notification)
    for missing in result.missing:
        notifications.append(
            {
                "level": "error",
                "message": {"text": f"{missing}: no such file or directory"},
                "locations": [{"physicalLocation": {"artifactLocation": artifact_location(missing)}}],
            }
        )
    for notice in result.notices:  # not results: the project has no bug there, ffscan could not look
        region = {"startLine": max(1, notice.line), "startColumn": max(1, notice.column)}
        notifications.append(
            {
                "level": "note",
                "message": {"text": f"{notice.path} was not analysed: {notice.message}"},
                "locations": [{"physicalLocation": {"artifactLocation": artifact_location(notice.path), "region": region}}],
                "descriptor": {"id": notice.kind},
                "properties": {"requires": notice.requires},
            }
        )
    for finding in findings:
        if finding.family is not Family.FILE:
            continue
        notifications.append(
            {
                "level": "warning",
                "message": {"text": f"{finding.path} was not analysed: {finding.message}"},
                "locations": [{"physicalLocation": _physical(finding)}],
                "descriptor": {"id": finding.code},
                "associatedRule": {"id": finding.code, "index": index[finding.code]},
            }
        )
    invocation: Dict[str, Any] = {"executionSuccessful": not (result.errors or result.missing)}
    if notifications:
        invocation["toolExecutionNotifications"] = notifications
    return invocation

