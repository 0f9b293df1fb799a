"""The engine: discover files, check each one (in a process pool when there are many), settle
what needs the whole program."""

from __future__ import annotations

import os
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import (
    TYPE_CHECKING,
    Callable,
    Dict,
    FrozenSet,
    List,
    NamedTuple,
    Optional,
    Sequence,
)

from ffscan.config import Settings
from ffscan.engine.discovery import discover, display_path, matches_glob, module_name
from ffscan.engine.runner import FileResult, check_file
from ffscan.model import Finding, RunResult
from ffscan.rules import matches, select_codes
from ffscan.semantic.environment import libraries_for
from ffscan.semantic.summary import Deferred, ModuleSummary

if TYPE_CHECKING:
    from ffscan.semantic.index import ProjectIndex

# Below this many files a pool costs more to start than it saves.
POOL_THRESHOLD = 48
BATCH_SIZE = 16


def shown_path(fs_path: str) -> str:
    """Paths in reports are relative to the working directory, as Ruff's are, so that CI
    annotations and SARIF line up with the checkout even when the config sits in a subfolder."""
    return display_path(Path(fs_path), Path.cwd())


def is_test_path(display: str, settings: Settings) -> bool:
    return any(matches_glob(display, pattern) for pattern in settings.test_paths)


def codes_for(display: str, settings: Settings, selected: FrozenSet[str]) -> FrozenSet[str]:
    """The selected codes minus per-file ignores, narrowed to `test-select` in test code."""
    codes = selected
    if is_test_path(display, settings):
        codes = frozenset(c for c in codes if any(matches(c, s) for s in settings.test_select))
    for pattern, ignored in settings.per_file_ignores:
        if matches_glob(display, pattern):
            codes = frozenset(c for c in codes if not any(matches(c, s) for s in ignored))
    return codes


class WorkItem(NamedTuple):
    """One file to check: where it is, how it is shown, the codes that apply, its module name."""

    fs_path: str
    display: str
    codes: FrozenSet[str]
    module: str


def _check_batch(batch: Sequence[WorkItem], settings: Settings) -> List[FileResult]:
    return [check_file(item.fs_path, item.display, settings, item.codes, item.module) for item in batch]


@dataclass
class Analysis:
    """One analysis of a project: the run's result, the work list, and the whole-program facts
    that settle what one file could not decide alone (for re-checks of fixed text)."""

    result: RunResult
    work: List[WorkItem] = field(default_factory=list)
    summaries: List[ModuleSummary] = field(default_factory=list)
    digests: Dict[str, str] = field(default_factory=dict)  # display path -> digest of the text checked
    libraries: Optional[Callable[[str], Sequence[ModuleSummary]]] = None  # third-party summaries
    _index: Optional["ProjectIndex"] = None

    def settle(self, deferred: Sequence[Deferred]) -> List[Finding]:
        """The deferred findings the whole program confirms."""
        if not deferred:
            return []
        if self._index is None:
            from ffscan.semantic.index import ProjectIndex

            self._index = ProjectIndex(self.summaries, libraries=self.libraries)
        confirmed, _ = self._index.settle(deferred)
        return confirmed


def run_check(
    paths: Sequence[str],
    settings: Settings,
    progress: Optional[Callable[[int, int], None]] = None,
    jobs: Optional[int] = None,
) -> RunResult:
    return analyse(paths, settings, progress, jobs).result


def analyse(
    paths: Sequence[str],
    settings: Settings,
    progress: Optional[Callable[[int, int], None]] = None,
    jobs: Optional[int] = None,
) -> Analysis:
    """Discover, check every file once (in a pool when there are many), then settle across files."""
    selected = select_codes(settings.select, settings.extend_select, settings.ignore)
    discovered = discover(paths, settings)
    work: List[WorkItem] = []
    for fs_path, relative in discovered.files:
        codes = codes_for(relative, settings, selected)
        if codes:
            work.append(WorkItem(fs_path, shown_path(fs_path), codes, module_name(fs_path)))
    result = RunResult(missing=discovered.missing, selected=selected, files_checked=len(work))
    analysis = Analysis(result, work, libraries=libraries_for(settings))
    workers = jobs or min(os.cpu_count() or 1, 8)
    batches = [work[i : i + BATCH_SIZE] for i in range(0, len(work), BATCH_SIZE)]
    done = 0
    deferred: List[Deferred] = []
    if workers > 1 and len(work) >= POOL_THRESHOLD:
        with ProcessPoolExecutor(max_workers=workers) as pool:
            for file_results in pool.map(_check_batch, batches, [settings] * len(batches)):
                done += _collect(analysis, file_results, deferred)
                if progress:
                    progress(done, len(work))
    else:
        for batch in batches:
            done += _collect(analysis, _check_batch(batch, settings), deferred)
            if progress:
                progress(done, len(work))
    result.cross_module = analysis.settle(deferred)
    result.findings.extend(result.cross_module)
    result.findings.sort(key=Finding.sort_key)
    result.notices.sort(key=lambda notice: (notice.path, notice.line, notice.column))
    return analysis


def _collect(analysis: Analysis, file_results: List[FileResult], deferred: List[Deferred]) -> int:
    result = analysis.result
    for file_result in file_results:
        result.findings.extend(file_result.findings)
        result.errors.extend(file_result.errors)
        result.notices.extend(file_result.notices)
        result.suppressed += file_result.suppressed
        if file_result.summary is not None:
            analysis.summaries.append(file_result.summary)
        if file_result.digest:
            analysis.digests[file_result.path] = file_result.digest
        deferred.extend(file_result.deferred)
    return len(file_results)
