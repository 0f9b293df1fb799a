"""The engine: discover files, check each one (in a process pool when there are many)."""

from __future__ import annotations

import os
from pathlib import Path
from concurrent.futures import ProcessPoolExecutor
from typing import Callable, FrozenSet, List, Optional, Sequence, Tuple

from ffscan.config import Settings
from ffscan.engine.discovery import discover, display_path, matches_glob, module_name
from ffscan.engine.runner import FileResult, check_file
from ffscan.model import Finding, RunResult
from ffscan.rules import matches, select_codes

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


def _check_batch(batch: Sequence[Tuple[str, str, FrozenSet[str], str]], settings: Settings) -> List[FileResult]:
    return [check_file(fs, display, settings, codes, module) for fs, display, codes, module in batch]


def run_check(
    paths: Sequence[str],
    settings: Settings,
    progress: Optional[Callable[[int, int], None]] = None,
    jobs: Optional[int] = None,
) -> RunResult:
    selected = select_codes(settings.select, settings.extend_select, settings.ignore)
    discovered = discover(paths, settings)
    work = []
    for fs_path, relative in discovered.files:
        codes = codes_for(relative, settings, selected)
        if codes:
            work.append((fs_path, shown_path(fs_path), codes, module_name(fs_path)))
    result = RunResult(missing=discovered.missing, selected=selected, files_checked=len(work))
    workers = jobs or min(os.cpu_count() or 1, 8)
    batches = [work[i : i + BATCH_SIZE] for i in range(0, len(work), BATCH_SIZE)]
    done = 0
    summaries: List = []
    deferred: List = []
    if workers > 1 and len(work) >= POOL_THRESHOLD:
        with ProcessPoolExecutor(max_workers=workers) as pool:
            for file_results in pool.map(_check_batch, batches, [settings] * len(batches)):
                done += _collect(result, file_results, summaries, deferred)
                if progress:
                    progress(done, len(work))
    else:
        for batch in batches:
            done += _collect(result, _check_batch(batch, settings), summaries, deferred)
            if progress:
                progress(done, len(work))
    if deferred:
        from ffscan.semantic.index import ProjectIndex  # networkx: only when another module must decide

        result.cross_module = ProjectIndex(summaries).settle(deferred)
        result.findings.extend(result.cross_module)
    result.findings.sort(key=Finding.sort_key)
    return result


def _collect(result: RunResult, file_results: List[FileResult], summaries: List, deferred: List) -> int:
    for file_result in file_results:
        result.findings.extend(file_result.findings)
        result.errors.extend(file_result.errors)
        result.suppressed += file_result.suppressed
        if file_result.summary is not None:
            summaries.append(file_result.summary)
        deferred.extend(file_result.deferred)
    return len(file_results)
