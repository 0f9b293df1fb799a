"""`ffscan fix`: fix every discovered file, or only compute the diffs."""

from __future__ import annotations

import difflib
import importlib.util
from dataclasses import dataclass, field
from pathlib import Path
from typing import Dict, List, Optional, Sequence

from ffscan.config import Settings
from ffscan.engine import codes_for, run_check, shown_path
from ffscan.engine.discovery import discover, module_name
from ffscan.fix.apply import FileFix, fix_path
from ffscan.model import Finding
from ffscan.rules import select_codes


@dataclass
class FixRun:
    files: List[FileFix] = field(default_factory=list)
    missing: List[str] = field(default_factory=list)
    runtime_problem: Optional[str] = None  # why no fix was applied at all

    @property
    def applied(self) -> int:
        return sum(len(f.applied) for f in self.files if f.changed)

    @property
    def changed_files(self) -> List[FileFix]:
        return [f for f in self.files if f.changed]


def runtime_importable(module: str, root: Path) -> bool:
    """Whether `module` can be imported from the project (its root or src/) or this Python."""
    relative = Path(*module.split("."))
    for base in (root, root / "src"):
        if (base / relative).with_suffix(".py").is_file() or (base / relative / "__init__.py").is_file():
            return True
    try:
        return importlib.util.find_spec(module) is not None
    except (ImportError, ValueError):
        return False  # a parent package that is not there: not importable


def run_fix(paths: Sequence[str], settings: Settings, unsafe: bool, write: bool) -> FixRun:
    run = FixRun()
    runtime = settings.fix.runtime_module
    if not runtime_importable(runtime, settings.root):
        run.runtime_problem = (
            f"fixes import `{runtime}`, which cannot be imported from {settings.root}; "
            f"write it with `ffscan vendor-runtime {runtime.replace('.', '/')}.py` or install ffscan"
        )
        write = False
    selected = select_codes(settings.select, settings.extend_select, settings.ignore)
    discovered = discover(paths, settings)
    run.missing = discovered.missing
    cross_module = _cross_module_findings(paths, settings)
    for fs_path, relative in discovered.files:
        codes = codes_for(relative, settings, selected)
        if codes:
            shown = shown_path(fs_path)
            extra = cross_module.get(shown, ())
            run.files.append(fix_path(fs_path, shown, settings, codes, module_name(fs_path), unsafe, write, extra))
    return run


def _cross_module_findings(paths: Sequence[str], settings: Settings) -> Dict[str, List[Finding]]:
    """Findings only the whole-program index makes, by path: a check of every file first."""
    by_path: Dict[str, List[Finding]] = {}
    for finding in run_check(paths, settings).cross_module:
        by_path.setdefault(finding.path, []).append(finding)
    return by_path


def unified_diff(outcome: FileFix) -> str:
    return "".join(
        difflib.unified_diff(
            outcome.original.splitlines(keepends=True),
            outcome.fixed.splitlines(keepends=True),
            fromfile=f"a/{outcome.path.lstrip('/')}",
            tofile=f"b/{outcome.path.lstrip('/')}",
        )
    )
