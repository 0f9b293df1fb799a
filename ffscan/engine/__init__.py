"""The engine: discover files, check each one (in a process pool when there are many), settle
what needs the whole program."""

from __future__ import annotations

import os
import pickle
from dataclasses import dataclass, field
from pathlib import Path
from typing import (
    TYPE_CHECKING,
    Callable,
    Dict,
    FrozenSet,
    Iterator,
    List,
    NamedTuple,
    Optional,
    Sequence,
    Tuple,
)

from ffscan.config import Settings
from ffscan.engine import collector
from ffscan.engine.cache import Cache, Stat, manifest_of, settings_key
from ffscan.engine.collector import collect_less
from ffscan.engine.discovery import (
    discover,
    display_path,
    excluded_by_configuration,
    matches_any,
    matches_glob,
    module_name,
    namespace_name,
)
from ffscan.engine.runner import FileResult, check_data, check_file, kept_as_question
from ffscan.model import Finding, RunResult, RunWarning
from ffscan.rules import matches, select_codes
from ffscan.semantic.environment import libraries_for
from ffscan.semantic.index import DEFERRED_ANSWER
from ffscan.semantic.summary import Deferred, ModuleSummary

if TYPE_CHECKING:
    from ffscan.semantic.index import ProjectIndex

# Below this many files a pool costs more to start than it saves.
POOL_THRESHOLD = 48
BATCH_SIZE = 16
BATCH_BYTES = 256 * 1024  # a batch of the pool is at most this much source (bar one larger file)


def shown_path(fs_path: str) -> str:
    """Paths in reports are relative to the working directory, as Ruff's are, so that CI
    annotations and SARIF line up with the checkout even when the config sits in a subfolder."""
    return display_path(fs_path, Path(os.getcwd()))


def is_test_path(display: str, settings: Settings) -> bool:
    return matches_any(display, settings.test_paths)


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


def _check_batch(batch: Sequence[WorkItem], settings: Settings, questions_only: bool = False) -> List[FileResult]:
    return [check_file(item.fs_path, item.display, settings, item.codes, item.module, questions_only) for item in batch]


def _check_batch_pickled(batch: Sequence[WorkItem], settings: Settings) -> List[bytes]:
    """`_check_batch` in a worker of the pool: each result pickled on its own, so that the
    cache writes what the worker sent instead of pickling every result again."""
    return [pickle.dumps(result, protocol=pickle.HIGHEST_PROTOCOL) for result in _check_batch(batch, settings, questions_only=True)]


@dataclass
class Analysis:
    """One analysis of a project: the run's result, the work list, and the whole-program facts
    that settle what one file could not decide alone (for re-checks of fixed text)."""

    result: RunResult
    work: List[WorkItem] = field(default_factory=list)
    summaries: List[ModuleSummary] = field(default_factory=list)
    digests: Dict[str, str] = field(default_factory=dict)  # display path -> digest of the text checked
    libraries: Optional[Callable[[str], Sequence[ModuleSummary]]] = None  # third-party summaries
    # module -> the name it also has as part of a namespace package (see discovery.namespace_name)
    namespaces: Dict[str, str] = field(default_factory=dict)

    def aliases(self) -> Dict[str, Tuple[str, ...]]:
        return {module: (name,) for module, name in self.namespaces.items()}
    _index: Optional["ProjectIndex"] = None

    def settle(self, deferred: Sequence[Deferred]) -> List[Finding]:
        """The deferred findings the whole program confirms."""
        if not deferred:
            return []
        confirmed, _ = self.index().settle(deferred)
        return confirmed

    def settle_fixes(self, findings: Sequence[Finding]) -> List[Finding]:
        """`findings` with every fix that needs the whole program's answer kept or dropped."""
        if all(fix.requires is None for finding in findings for fix in finding.fixes):
            return list(findings)
        index = self.index()
        return [index.settle_fixes(finding) for finding in findings]

    def index(self) -> "ProjectIndex":
        if self._index is None:
            from ffscan.semantic.index import ProjectIndex

            self._index = ProjectIndex(self.summaries, libraries=self.libraries, aliases=self.aliases())
        return self._index


def find_spawners(paths: Sequence[str], settings: Settings) -> Tuple[RunResult, list]:
    """`ffscan spawners`: the project functions that start tasks from a parameter. Every
    module is traversed, so that each summary holds what its functions hand on."""
    from ffscan.semantic.index import ProjectIndex
    from ffscan.semantic.spawners import infer_spawners

    analysis = analyse(paths, settings.with_overrides(select=("ALL",)), reuse_run=False)
    index = ProjectIndex(analysis.summaries, libraries=analysis.libraries, aliases=analysis.aliases())
    return analysis.result, infer_spawners(index, settings.tracked_spawners)


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
    reuse_run: bool = True,
) -> Analysis:
    """Discover, check every file once (in a pool when there are many), then settle across files.

    With a configuration file, the project's other files are read too (from the cache when
    they are unchanged), so that checking one file finds what a run over the whole project
    finds in it. With `reuse_run`, an unchanged tree is answered from the last run's result.
    """
    try:
        return _analyse(paths, settings, progress, jobs, reuse_run)
    finally:
        collector.thaw()


def _analyse(
    paths: Sequence[str],
    settings: Settings,
    progress: Optional[Callable[[int, int], None]],
    jobs: Optional[int],
    reuse_run: bool,
) -> Analysis:
    collect_less()
    selected = select_codes(settings.rule_selections)
    discovered = discover(paths, settings)
    work = _work(discovered.files, settings, selected)
    context = _project_context(paths, work, settings, selected)
    result = RunResult(
        missing=discovered.missing,
        selected=selected,
        files_checked=len(work),
        files_found=len(discovered.files),
        excluded=discovered.excluded,
        gitignored=discovered.gitignored,
    )
    analysis = Analysis(result, work, libraries=libraries_for(settings))
    for item in (*work, *context):
        name = namespace_name(item.fs_path, settings.root, item.module) if item.module else None
        if name is not None:
            analysis.namespaces[item.module] = name
    cache = Cache(settings.cache_dir, settings_key(settings)) if settings.cache_dir is not None else None
    run_key = (tuple(item.fs_path for item in work), tuple(discovered.missing), tuple(item.fs_path for item in context))
    manifest = manifest_of(item.fs_path for item in (*work, *context)) if cache is not None else {}
    if cache is not None and reuse_run:
        cached = cache.run_result(run_key, manifest)
        if cached is not None:
            analysis.result = cached
            return analysis
    targets = {item.fs_path for item in work}
    deferred: List[Deferred] = []
    asking: List[Tuple[WorkItem, FileResult]] = []
    failed = False
    for item, file_result in _results([*work, *context], settings, cache, progress, jobs):
        failed = failed or bool(file_result.errors)
        if item.fs_path in targets:
            _collect(analysis, file_result, deferred)
            if file_result.questions:
                asking.append((item, file_result))
        elif file_result.summary is not None:
            analysis.summaries.append(file_result.summary)  # only to answer questions about it
    deferred.extend(_checked_again(analysis, asking, settings, cache))
    failed = failed or bool(result.errors)
    result.cross_module = analysis.settle(deferred)
    result.findings.extend(result.cross_module)
    result.findings = analysis.settle_fixes(result.findings)
    result.findings.sort(key=Finding.sort_key)
    result.notices.sort(key=lambda notice: (notice.path, notice.line, notice.column))
    if cache is not None:
        if not failed:  # an error (a crash of ffscan, an unreadable file) is met again, not replayed
            cache.store_run(run_key, manifest, result)
        cache.save()
    return analysis


STDIN = "-"


def analyse_stdin(data: bytes, filename: Optional[str], settings: Settings) -> Analysis:
    try:
        return _analyse_stdin(data, filename, settings)
    finally:
        collector.thaw()


def _analyse_stdin(data: bytes, filename: Optional[str], settings: Settings) -> Analysis:
    """Check code read from stdin, as if it were the file `filename` (its path in reports,
    its per-file ignores and test-path rules, its module name); `-` without a name. Under
    `force-exclude`, a name the configuration excludes is not checked (as in Ruff)."""
    selected = select_codes(settings.rule_selections)
    result = RunResult(selected=selected)
    analysis = Analysis(result)
    if filename is not None and settings.force_exclude and excluded_by_configuration(Path(filename), settings):
        result.excluded = 1
        return analysis
    result.files_found = 1
    display = shown_path(filename) if filename is not None else STDIN
    relative = display_path(Path(filename), settings.root) if filename is not None else STDIN
    codes = codes_for(relative, settings, selected)
    if not codes:
        return analysis
    item = WorkItem(filename or STDIN, display, codes, module_name(filename) if filename is not None else "")
    analysis.work.append(item)
    result.files_checked = 1
    deferred: List[Deferred] = []
    _collect(analysis, check_data(data, item.display, settings, codes, item.module), deferred)
    # The project's other files answer what this one cannot decide alone, as for a file given.
    cache = Cache(settings.cache_dir, settings_key(settings)) if settings.cache_dir is not None else None
    context = _project_context([], analysis.work, settings, selected)
    for _, file_result in _results(context, settings, cache, None, None):
        if file_result.summary is not None:
            analysis.summaries.append(file_result.summary)
    if cache is not None:
        cache.save()
    result.cross_module = analysis.settle(deferred)
    result.findings.extend(result.cross_module)
    result.findings = analysis.settle_fixes(result.findings)
    result.findings.sort(key=Finding.sort_key)
    return analysis


def _work(files, settings: Settings, selected: FrozenSet[str]) -> List[WorkItem]:
    work: List[WorkItem] = []
    for fs_path, relative in files:
        codes = codes_for(relative, settings, selected)
        if codes:
            work.append(WorkItem(fs_path, shown_path(fs_path), codes, module_name(fs_path)))
    return work


def _project_context(
    paths: Sequence[str], work: List[WorkItem], settings: Settings, selected: FrozenSet[str]
) -> List[WorkItem]:
    """The project's files beyond the ones given, when a configuration marks the project's
    root and the files given lie inside it."""
    if settings.config_path is None or not work:
        return []
    root = Path(os.path.abspath(settings.root))
    given = {os.path.abspath(item.fs_path) for item in work}
    if not all(_inside(path, root) for path in given) or any(os.path.abspath(p) == str(root) for p in paths):
        return []  # outside the project, or the whole project was given
    project = discover([str(root)], settings)
    return [item for item in _work(project.files, settings, selected) if os.path.abspath(item.fs_path) not in given]


def _inside(path: str, root: Path) -> bool:
    """Whether `path` lies under `root`, read as written (a symlink loop is not followed)."""
    try:
        return os.path.commonpath([os.path.abspath(path), str(root)]) == str(root)
    except ValueError:  # another drive
        return False


def _results(
    items: List[WorkItem],
    settings: Settings,
    cache: Optional[Cache],
    progress: Optional[Callable[[int, int], None]],
    jobs: Optional[int],
) -> Iterator[Tuple[WorkItem, FileResult]]:
    """Each file's result: from the cache when the file is unchanged, else checked (in a
    process pool when there are many)."""
    misses: List[Tuple[WorkItem, Optional[Stat]]] = []
    hits: List[Tuple[WorkItem, FileResult]] = []
    # What the cache loads lives until the run ends: no collection while it is read (one
    # after each shard would scan it), and frozen once it is all in.
    with collector.paused():
        for item in items:
            stat = Stat.of(item.fs_path) if cache is not None else None
            cached = cache.lookup(item.fs_path, stat, _identity(item)) if cache is not None else None
            if cached is not None:
                hits.append((item, cached))
            else:
                misses.append((item, stat))
        if hits:
            collector.freeze()
    yield from hits
    done = len(hits)
    if progress and done:
        progress(done, len(items))
    workers = jobs or min(os.cpu_count() or 1, 8)
    if workers == 1 or len(misses) < POOL_THRESHOLD:
        batches = [misses[i : i + BATCH_SIZE] for i in range(0, len(misses), BATCH_SIZE)]
        for batch, file_results in zip(batches, _checked_batches(batches, settings, workers, len(misses))):
            for (item, stat), (file_result, pickled) in zip(batch, file_results):
                if cache is not None:
                    cache.store(item.fs_path, stat, _identity(item), file_result, pickled)
                yield item, file_result
            done += len(batch)
            if progress:
                progress(done, len(items))
        return
    # In the pool, the largest files go first and the last tasks are small ones, so that the
    # workers finish together instead of one checking a large file while the other waits;
    # the results are still given in the order of `items`.
    order = pool_batches([(index, item.fs_path) for index, (item, _) in enumerate(misses)])
    batches = [[misses[index] for index in batch] for batch in order]
    results: Dict[int, FileResult] = {}
    # The parent only receives while the workers check, and what it receives lives until the
    # run ends: no collection runs meanwhile, and it is frozen at the end.
    with collector.paused():
        for indexes, batch, file_results in zip(order, batches, _checked_batches(batches, settings, workers, len(misses))):
            for index, (item, stat), (file_result, pickled) in zip(indexes, batch, file_results):
                if cache is not None:
                    cache.store(item.fs_path, stat, _identity(item), file_result, pickled)
                results[index] = file_result
            done += len(batch)
            if progress:
                progress(done, len(items))
        collector.freeze()
    for index, (item, _) in enumerate(misses):
        yield item, results[index]


def pool_batches(files: Sequence[Tuple[int, str]]) -> List[List[int]]:
    """The keys of `files` ((key, path) pairs) in batches for the pool: largest file first,
    each batch at most BATCH_SIZE files and BATCH_BYTES bytes (a larger file alone)."""
    sized = sorted(((_size(path), key) for key, path in files), key=lambda pair: -pair[0])
    batches: List[List[int]] = []
    current: List[int] = []
    total = 0
    for size, key in sized:
        if current and (len(current) == BATCH_SIZE or total + size > BATCH_BYTES):
            batches.append(current)
            current, total = [], 0
        current.append(key)
        total += size
    if current:
        batches.append(current)
    return batches


def _size(path: str) -> int:
    try:
        return os.path.getsize(path)
    except OSError:  # unreadable or gone: the check reports it; its place in the queue does not matter
        return 0


def _checked_batches(
    batches, settings: Settings, workers: int, count: int
) -> Iterator[List[Tuple[FileResult, Optional[bytes]]]]:
    """Each batch's results, with their pickled form when a worker of the pool sent them."""
    plain = [[item for item, _ in batch] for batch in batches]
    # A run this large keeps the undecided candidates whose answer is almost always no as
    # questions (see check_file): the few files the whole program then says yes to are
    # checked again; a small run's never are.
    questions_only = count >= POOL_THRESHOLD
    if workers > 1 and questions_only:
        from concurrent.futures import ProcessPoolExecutor  # only a run this large needs the pool

        with ProcessPoolExecutor(max_workers=workers, initializer=collect_less) as pool:
            for sent in pool.map(_check_batch_pickled, plain, [settings] * len(plain)):
                yield [(pickle.loads(pickled), pickled) for pickled in sent]
    else:
        for batch in plain:
            yield [(result, None) for result in _check_batch(batch, settings, questions_only)]


def _checked_again(
    analysis: Analysis, asking: Sequence[Tuple[WorkItem, FileResult]], settings: Settings, cache: Optional[Cache]
) -> List[Deferred]:
    """The deferred findings of the files that kept questions and to one of which the whole
    program says yes: each such file is checked again, in full, to make them (and its full
    result replaces the cached one, so the next run need not check it again)."""
    if not asking:
        return []
    index = analysis.index()
    found: List[Deferred] = []
    for item, first in asking:
        if not any(_is_yes(index.answer(question)) for question in first.questions):
            continue
        stat = Stat.of(item.fs_path) if cache is not None else None
        again = check_file(item.fs_path, item.display, settings, item.codes, item.module)
        if again.errors:
            analysis.result.errors.extend(again.errors)
            continue
        if again.content != first.content:
            message = "changed while it was checked: its findings that other modules decide are of the new text; check again"
            analysis.result.warnings.append(RunWarning(item.display, 1, message))
        elif cache is not None:
            cache.store(item.fs_path, stat, _identity(item), again)
        found.extend(d for d in again.deferred if kept_as_question(d.query))  # the others came with the first
    return found


def _is_yes(answer: Optional[dict]) -> bool:
    return answer is not None and answer is not DEFERRED_ANSWER


def _identity(item: WorkItem) -> tuple:
    return (item.display, item.module, tuple(sorted(item.codes)))


def _collect(analysis: Analysis, file_result: FileResult, deferred: List[Deferred]) -> None:
    result = analysis.result
    result.findings.extend(file_result.findings)
    result.errors.extend(file_result.errors)
    result.notices.extend(file_result.notices)
    result.suppressed += file_result.suppressed
    result.warnings.extend(file_result.warnings)
    if file_result.summary is not None:
        analysis.summaries.append(file_result.summary)
    if file_result.digest:
        analysis.digests[file_result.path] = file_result.digest
    deferred.extend(file_result.deferred)
