"""GitLab Code Quality: a JSON array of issues, shown in merge requests and pipelines.

    [{"check_name": "FF201", "description": "FF201: Task from ...", "severity": "major",
      "fingerprint": "<64 hex>", "location": {"path": "app/jobs.py", "lines": {"begin": 9, "end": 9}}}]

The fields are the ones GitLab reads (its parser validates each issue against the schema in
tests/data/gitlab/); `description` starts with the code because GitLab does not show
`check_name`. Fingerprints are SARIF's (ffscan.report.fingerprint): GitLab keys issues by them
to tell new from fixed, so they must be unique and survive unrelated edits. Paths are relative
to `$CI_PROJECT_DIR` when it is set (as in a GitLab job), else to the working directory.
Notices, run errors and missing paths are not code quality issues: they go to stderr.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any, Dict, Optional

from ffscan.model import Finding, RunResult, Severity
from ffscan.report import ReportContext
from ffscan.report.fingerprint import fingerprints_for, posix_path

SEVERITIES = {Severity.ERROR: "major", Severity.WARNING: "minor", Severity.NOTE: "info"}


def render(result: RunResult, context: ReportContext) -> str:
    project_dir = os.environ.get("CI_PROJECT_DIR") or None
    findings = sorted(result.findings, key=Finding.sort_key)
    issues = [_issue(f, fp, project_dir) for f, fp in zip(findings, fingerprints_for(findings))]
    return json.dumps(issues, indent=2, ensure_ascii=False) + "\n"


def _issue(finding: Finding, fingerprint: str, project_dir: Optional[str]) -> Dict[str, Any]:
    return {
        "check_name": finding.code,
        "description": f"{finding.code}: {finding.message}",
        "severity": SEVERITIES[finding.severity],
        "fingerprint": fingerprint,
        "location": {
            "path": _path(finding.path, project_dir),
            "lines": {"begin": max(1, finding.start.line), "end": max(1, finding.end.line)},
        },
    }


def _path(path: str, project_dir: Optional[str]) -> str:
    if project_dir is None:
        return posix_path(path)
    try:
        relative = os.path.relpath(Path(path).resolve(), Path(project_dir).resolve())
    except ValueError:  # another drive on Windows: keep the path as shown
        return posix_path(path)
    return posix_path(relative)
