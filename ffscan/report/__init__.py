"""Reporters: turn a RunResult into text, JSON, SARIF, GitHub annotations, GitLab Code Quality,
JUnit XML or a ticket.

Each format lives in its own module with a `render(result, context) -> str` function;
reporters see only model objects, never rules or the engine.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass
from pathlib import Path
from typing import Dict, Tuple

from ffscan.model import RuleInfo, RunResult

FORMATS = ("text", "concise", "json", "sarif", "github", "gitlab", "junit", "ticket")
_MODULES = {
    "text": "ffscan.report.text",
    "concise": "ffscan.report.concise",
    "json": "ffscan.report.json_format",
    "sarif": "ffscan.report.sarif",
    "github": "ffscan.report.github",
    "gitlab": "ffscan.report.gitlab",
    "junit": "ffscan.report.junit",
    "ticket": "ffscan.report.ticket",
}


# Formats whose report has a place for notices (files not checked, no bug of the project); for
# the others the command line prints them on stderr (report.console.check_diagnostics).
NOTICES_IN_REPORT = frozenset({"json", "sarif", "github", "junit"})


@dataclass(frozen=True)
class ReportContext:
    rules: Dict[str, RuleInfo]  # every rule, selected or not
    root: Path  # paths in findings are relative to this
    version: str
    color: bool = False
    show_source: bool = True
    statistics: bool = False
    paths: Tuple[str, ...] = ()  # the paths the run was given, for commands that repeat it
    unsafe_fixes: bool = False  # the fixable counts are those of `ffscan fix --unsafe-fixes`


def render(fmt: str, result: RunResult, context: ReportContext) -> str:
    module = importlib.import_module(_MODULES[fmt])
    return module.render(result, context)
