"""`ffscan fix`: analyse once, then for each file with fixes apply -> re-check -> verify -> write.

The analysis that found the findings computed their fixes from the same tree, so a file is
read and analysed once before fixing; each pass that changes a file re-checks the new text
(which both proves the pass and finds what the next pass may fix). The result is proven before
it is written: it compiles, the fixed findings are gone and nothing new appears; then it is
written through a temporary file, only if the file did not change since it was checked. Any
failure leaves the file exactly as it was and says why.

What is left afterwards is every finding of the final text (fixable or not), at its place in
the text that was written, or, when nothing is written (`--diff`), in the original file.

Which fix a finding gets: the first one allowed (rules list them best first). With
`--unsafe-fixes`, a `track(...)` call whose bare call the rules would fix unsafely instead is
unwrapped first, so that `ffscan fix` followed by `ffscan fix --unsafe-fixes` ends where
`ffscan fix --unsafe-fixes` alone does.
"""

from __future__ import annotations

import ast
import bisect
import dataclasses
import os
import shutil
from collections import Counter
from pathlib import Path
from typing import Dict, List, Optional, Sequence, Tuple

from ffscan.config import Settings
from ffscan.engine import Analysis, WorkItem, analyse, analyse_stdin
from ffscan.engine.runner import FileResult, check_source, text_digest
from ffscan.engine.sources import SourceFile, Unanalysable, decode_source, split_lines
from ffscan.fix.apply import (
    CannotEdit,
    Change,
    ImportSections,
    TextEdit,
    apply_fixes,
    remove_import,
)
from ffscan.fix.dependency import runtime_refusal
from ffscan.fix.vendor import VendorError, vendor_runtime, vendor_target
from ffscan.fix.write import WriteRefused, encode_like, write_fixed
from ffscan.model import (
    Applicability,
    FileFix,
    Finding,
    Fix,
    FixRun,
    Location,
    line_starts,
)
from ffscan.rules import all_rules
from ffscan.semantic.environment import libraries_for
from ffscan.semantic.index import ProjectIndex

MAX_PASSES = 4


def run_fix(
    paths: Sequence[str],
    settings: Settings,
    unsafe: bool,
    write: bool,
    force_write: bool = False,
    jobs: Optional[int] = None,
    stdin: Optional[bytes] = None,
    stdin_filename: Optional[str] = None,
    vendor: Optional[Path] = None,
) -> FixRun:
    """Fix the files under `paths`, or with `stdin` the code read from it (named
    `stdin_filename`): then nothing is written, and the one FileFix's `fixed` is the text to
    print. With `vendor`, fixes import a copy of the runtime written to that package folder
    (when any fix needs it), instead of `ffscan.runtime`."""
    run = FixRun(unsafe=unsafe, wrote=write)
    if vendor is not None:
        try:
            module = vendor_target(vendor)
        except VendorError as error:
            run.runtime_problem = str(error)
            run.wrote = False
            return run
        settings = dataclasses.replace(settings, fix=dataclasses.replace(settings.fix, runtime_module=module))
        refused = None
    else:
        refused = runtime_refusal(settings.fix.runtime_module, Path(settings.root))
    mode = Mode(unsafe, settings.fix.runtime_module, refused=settings.fix.runtime_module if refused else None)
    if stdin is not None:
        analysis = analyse_stdin(stdin, stdin_filename, settings)
    else:
        analysis = analyse(paths, settings, jobs=jobs, reuse_run=False)
    result = analysis.result
    created = False
    if vendor is not None and write and any(mode.allows(fix) and _imports(fix, mode.runtime) for f in result.findings for fix in f.fixes):
        # Written before the fixed files, which import it: a copy that cannot be written
        # leaves every fix that needs it undone, never a file importing what is not there.
        created = not vendor.exists()
        try:
            vendor_runtime(vendor, force=not created)
        except VendorError as error:
            run.runtime_problem = str(error)
            mode = Mode(unsafe, mode.runtime, refused=mode.runtime)
    run.missing = result.missing
    run.errors = result.errors
    by_path: Dict[str, List[Finding]] = {}
    for finding in result.findings:
        by_path.setdefault(finding.path, []).append(finding)
    targets: Dict[str, str] = {}  # real path -> the path it is fixed as
    for item in analysis.work:
        findings = by_path.get(item.display, [])
        if not findings:
            continue
        real = os.path.realpath(item.fs_path)
        if real in targets:
            continue  # a second path to a file fixed already (a symlink to it): its findings go with it
        targets[real] = item.display
        if stdin is not None:
            source = decode_source(stdin, item.display)
            if not any(_offers_fixes(f) for f in findings):
                run.files.append(FileFix(item.display, source.text, source.text, left=[(f, mode.why_not(f)) for f in findings]))
            else:
                run.files.append(fix_source(source, findings, analysis, settings, item, mode, positions="written" if write else "original"))
            continue
        if not any(_offers_fixes(f) for f in findings):
            run.files.append(FileFix(item.display, "", "", left=[(f, mode.why_not(f)) for f in findings]))
            continue
        run.files.append(_fix_file(item, findings, analysis, settings, mode, write, force_write))
    if refused and any(why == mode.refusal for outcome in run.files for _, why in outcome.left):
        run.runtime_problem = refused
    if vendor is not None and mode.refused is None:
        if any(_imports_module(outcome, mode.runtime) for outcome in run.changed_files):
            run.vendored = (str(vendor), mode.runtime)
        elif created:
            shutil.rmtree(vendor, ignore_errors=True)  # no fixed file needs the copy made for it
    left = sorted((f for outcome in run.files for f, _ in outcome.left), key=Finding.sort_key)
    run.result = result.after_edits(left, fixed=run.applied)
    return run


def stdin_output(run: FixRun, data: bytes) -> bytes:
    """What `ffscan fix -` prints: the fixed code in the encoding (and BOM) it came in, or the
    input as it came when nothing changed (as Ruff echoes it)."""
    outcome = run.files[0] if run.files else None
    if outcome is None or not outcome.changed:
        return data
    try:
        return encode_like(outcome.fixed, decode_source(data, outcome.path).encoding, data)
    except UnicodeEncodeError:
        return data  # a fix that needs a character the input's encoding lacks: left as it came


def _offers_fixes(finding: Finding) -> bool:
    rule = all_rules().get(finding.code)
    return rule is not None and rule.fix_applicability is not None


def _fix_file(
    item: WorkItem,
    findings: List[Finding],
    analysis: Analysis,
    settings: Settings,
    mode: "Mode",
    write: bool,
    force_write: bool,
) -> FileFix:
    try:
        with open(item.fs_path, "rb") as handle:
            original = handle.read()
        read_stat = os.stat(item.fs_path)
        source = decode_source(original, item.display)
    except OSError as error:
        return _left_alone(item.display, findings, f"cannot read: {error.strerror or error}")
    if text_digest(source.text) != analysis.digests.get(item.display):
        return _left_alone(item.display, findings, "the file changed since it was checked; left as it was", source.text)
    outcome = fix_source(source, findings, analysis, settings, item, mode, positions="written" if write else "original")
    if write and outcome.changed:
        try:
            write_fixed(item.fs_path, outcome.fixed, source.encoding, original, read_stat, force=force_write)
        except WriteRefused as refused:
            outcome = _left_alone(item.display, findings, refused.reason, source.text, cannot_write=refused.is_failure)
    return outcome


def _left_alone(path: str, findings: Sequence[Finding], error: str, text: str = "", cannot_write: bool = False) -> FileFix:
    """A file that stays as it was: every finding it had is left, for that reason."""
    return FileFix(path, text, text, left=[(f, "the file was left as it was") for f in findings], error=error, cannot_write=cannot_write)


def fix_source(
    source: SourceFile,
    findings: Sequence[Finding],
    analysis: Optional[Analysis],
    settings: Settings,
    item: WorkItem,
    mode: "Mode",
    positions: str = "written",
) -> FileFix:
    """Fix `source` in memory, starting from its `findings` (with their fixes); never raises
    for a file it cannot fix. `positions` says where the findings left are placed: in the
    fixed text ("written") or in the original one ("original")."""
    outcome = FileFix(source.path, source.text, source.text)
    sections = import_sections(settings, item)
    before = list(findings)
    current, current_findings = source, list(findings)
    changes: List[Change] = []
    upgraded = _untrack_for_unsafe(source, settings, item, analysis, mode) if mode.unsafe else None
    if upgraded is not None:
        change, current, current_findings = upgraded
        changes.append(change)
        # Proven against the unwrapped text: it has the findings `track(...)` had hidden.
        before = list(current_findings)
    added: List[Tuple[str, str]] = []
    for _ in range(MAX_PASSES):
        chosen = [(f, fix) for f in current_findings for fix in [mode.choose(f)] if fix is not None]
        if not chosen:
            break
        try:
            applied = apply_fixes(current.text, [fix for _, fix in chosen], sections)
        except CannotEdit as problem:
            return _left_alone(source.path, findings, f"{problem}; left as it was", source.text)
        taken = {id(fix) for fix in applied.fixes}
        outcome.applied.extend((finding, fix) for finding, fix in chosen if id(fix) in taken)
        changes.extend(applied.changes)
        added.extend(applied.imports_added)
        current = _with_text(source, applied.text)
        current_findings = _recheck(current, analysis, settings, item)
    if upgraded is not None:
        current, current_findings, removed = _drop_unused_track(current, current_findings, settings, item, analysis, changes)
        added = [pair for pair in added if pair not in removed]
    outcome.fixed = current.text
    outcome.imports_added = list(dict.fromkeys(added))
    if outcome.fixed != source.text:
        outcome.error = _verify(outcome, before, current_findings)
        if outcome.error is not None:
            return _left_alone(source.path, findings, outcome.error, source.text)
    left = current_findings
    if positions == "original" and changes:
        left = [_traced(f, changes, current.text, source) for f in left]
    outcome.left = [(f, mode.why_not(f)) for f in left]
    outcome.untracked = len(upgraded[0].edits) // 2 if upgraded is not None else 0
    return outcome


def import_sections(settings: Settings, item: WorkItem) -> ImportSections:
    """Ruff's isort defaults: `src = [".", "src"]` under the project root, and the file's own
    top-level package."""
    root = Path(settings.root)
    return ImportSections(src=(root, root / "src"), package=item.module.split(".")[0] if "." in item.module else "")


@dataclasses.dataclass(frozen=True)
class Mode:
    """Which fixes a run applies: safe ones, unsafe ones too with `unsafe`, and none that
    imports the `runtime` module when it is `refused` (the project cannot import it where it
    runs)."""

    unsafe: bool
    runtime: str = "ffscan.runtime"
    refused: Optional[str] = None

    @property
    def refusal(self) -> str:
        return f"its fix imports `{self.refused}`, which the fixed code could not import where it runs (see above)"

    def allows(self, fix: Fix) -> bool:
        return fix.allowed(self.unsafe) and not (self.refused and _imports(fix, self.refused))

    def choose(self, finding: Finding) -> Optional[Fix]:
        """The first fix allowed (rules list them best first), or None."""
        return next((fix for fix in finding.fixes if self.allows(fix)), None)

    def why_not(self, finding: Finding) -> str:
        """Why `finding` is not fixed in this mode."""
        if not _offers_fixes(finding):
            return "this rule has no automatic fix"
        if not finding.fixes:
            return "no fix for this shape"
        if any(self.allows(fix) for fix in finding.fixes):
            return "still reported after several passes"
        if any(fix.allowed(self.unsafe) for fix in finding.fixes):
            return self.refusal
        if any(fix.applicability is Applicability.UNSAFE for fix in finding.fixes):
            return "only an unsafe fix (use --unsafe-fixes)"
        return "display-only fix"


def _imports(fix: Fix, module: str) -> bool:
    return any(imported == module for imported, _ in fix.imports)


def _imports_module(outcome: FileFix, module: str) -> bool:
    return any(imported == module for imported, _ in outcome.imports_added)


def _with_text(source: SourceFile, text: str) -> SourceFile:
    return SourceFile(source.path, text, split_lines(text), source.encoding, source.newline)


def _recheck(source: SourceFile, analysis: Optional[Analysis], settings: Settings, item: WorkItem) -> List[Finding]:
    checked = check_source(source, settings, item.codes, item.module)
    if analysis is not None:
        findings = analysis.settle_fixes([*checked.findings, *analysis.settle(checked.deferred)])
    else:
        findings = _settle_alone(checked, settings)
    return sorted(findings, key=Finding.sort_key)


def _settle_alone(checked: FileResult, settings: Settings) -> List[Finding]:
    """A text fixed on its own: the program is this one module (as `ffscan check <file>` sees
    it), so what the module cannot tell about other names is unknown."""
    if checked.summary is None:
        return list(checked.findings)
    if not checked.deferred and all(fix.requires is None for f in checked.findings for fix in f.fixes):
        return list(checked.findings)
    index = ProjectIndex([checked.summary], libraries=libraries_for(settings))
    settled, _ = index.settle(checked.deferred) if checked.deferred else ([], None)
    return [index.settle_fixes(finding) for finding in [*checked.findings, *settled]]


def _verify(outcome: FileFix, before: Sequence[Finding], after: Sequence[Finding]) -> Optional[str]:
    """Why the fixed text must not be written, or None when it is sound."""
    try:
        compile(outcome.fixed, outcome.path, "exec", dont_inherit=True)
    except (SyntaxError, ValueError) as error:
        return f"the fixed code would not compile ({error}); left as it was"
    # A finding was there before when the same rule said the same thing (wherever the line
    # moved), or reported the same line of code (whatever its message says of code the fix
    # rewrote elsewhere: FF401 names the call that starts the work).
    by_message = Counter((f.code, f.message) for f in before)
    by_line = Counter(_line_of(f) for f in before)
    for finding in after:
        if by_message[(finding.code, finding.message)] > 0:
            by_message[(finding.code, finding.message)] -= 1
        elif by_line[_line_of(finding)] > 0:
            by_line[_line_of(finding)] -= 1
        else:
            return f"the fix would introduce a new finding ({finding.code}: {finding.message}); left as it was"
    return None


def _line_of(finding: Finding) -> tuple:
    return (finding.code, finding.source_lines[0].strip() if finding.source_lines else "")


def _traced(finding: Finding, changes: Sequence[Change], fixed_text: str, source: SourceFile) -> Finding:
    """`finding` of the fixed text, placed where its text stands in the original."""
    fixed_starts = line_starts(fixed_text)
    original_starts = line_starts(source.text)

    def back(location: Location) -> Location:
        offset = fixed_starts[location.line - 1] + location.column - 1
        for change in reversed(changes):
            offset = change.original_offset(offset)
        line = bisect.bisect_right(original_starts, offset)
        return Location(line, offset - original_starts[line - 1] + 1)

    start, end = back(finding.start), back(finding.end)
    end = max(end, start)
    lines = tuple(source.line(n) for n in range(start.line, end.line + 1))
    return dataclasses.replace(finding, start=start, end=end, source_lines=lines)


# ---- `--unsafe-fixes` after `ffscan fix`: reconsider the `track(...)` the safe fixes wrote ------


def _untrack_for_unsafe(
    source: SourceFile, settings: Settings, item: WorkItem, analysis: Optional[Analysis], mode: Mode
) -> Optional[Tuple[Change, SourceFile, List[Finding]]]:
    """The text with each `track(<call>)` unwrapped whose bare call a rule would fix with an
    unsafe fix (the queue, a durable task), the change that does it and the findings of the
    new text; None when there is none."""
    try:
        tree = ast.parse(source.text)
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return None  # the file's own findings say why it cannot be parsed
    local = _runtime_track_name(tree, settings.fix.runtime_module)
    if local is None:
        return None
    text = source.text
    starts = line_starts(text)
    wrappers: List[Tuple[TextEdit, TextEdit, int]] = []  # (opening, closing, inner call's start)
    for call in _calls_of(tree, local):
        inner = call.args[0]
        opening = TextEdit(_char_offset(source, starts, call.lineno, call.col_offset), _char_offset(source, starts, inner.lineno, inner.col_offset))
        closing = TextEdit(
            _char_offset(source, starts, inner.end_lineno, inner.end_col_offset), _char_offset(source, starts, call.end_lineno, call.end_col_offset)
        )
        if text[opening.start : opening.end] == f"{local}(" and text[closing.start : closing.end] == ")":
            wrappers.append((opening, closing, opening.end))
    if not wrappers:
        return None
    every = Change(edit for opening, closing, _ in wrappers for edit in (opening, closing))
    bare = _with_text(source, every.apply(text))
    try:
        bare_findings = _recheck(bare, analysis, settings, item)
    except Unanalysable:
        return None
    upgradable = []
    bare_starts = line_starts(bare.text)
    fixed_unsafely = {
        bare_starts[f.start.line - 1] + f.start.column - 1
        for f in bare_findings
        for fix in [mode.choose(f)]
        if fix is not None and fix.applicability is Applicability.UNSAFE
    }
    for opening, closing, inner_start in wrappers:
        if _forward(every, inner_start) in fixed_unsafely:
            upgradable.extend((opening, closing))
    if not upgradable:
        return None
    change = Change(upgradable)
    unwrapped = _with_text(source, change.apply(text))
    return change, unwrapped, _recheck(unwrapped, analysis, settings, item)


def _forward(change: Change, offset: int) -> int:
    """Where `offset` of the original text is after `change` (outside the edited ranges)."""
    delta = 0
    for edit in change.edits:
        if edit.end <= offset:
            delta += len(edit.content) - (edit.end - edit.start)
    return offset + delta


def _runtime_track_name(tree: ast.Module, runtime: str) -> Optional[str]:
    for node in tree.body:
        if isinstance(node, ast.ImportFrom) and not node.level and node.module == runtime:
            for alias in node.names:
                if alias.name == "track":
                    return alias.asname or alias.name
    return None


def _calls_of(tree: ast.Module, local: str) -> List[ast.Call]:
    """`local(<call>)` calls where `local` is the module's own binding (no function rebinds it)."""
    found: List[ast.Call] = []

    def visit(node: ast.AST, shadowed: bool) -> None:
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda)):
            shadowed = shadowed or _binds(node, local)
        if (
            not shadowed
            and isinstance(node, ast.Call)
            and isinstance(node.func, ast.Name)
            and node.func.id == local
            and len(node.args) == 1
            and not node.keywords
            and isinstance(node.args[0], ast.Call)
        ):
            found.append(node)
        for child in ast.iter_child_nodes(node):
            visit(child, shadowed)

    visit(tree, False)
    return found


def _binds(function: ast.AST, name: str) -> bool:
    arguments = function.args  # type: ignore[attr-defined]
    params = [*arguments.posonlyargs, *arguments.args, *arguments.kwonlyargs, arguments.vararg, arguments.kwarg]
    if any(p is not None and p.arg == name for p in params):
        return True
    return any(isinstance(n, ast.Name) and isinstance(n.ctx, ast.Store) and n.id == name for n in ast.walk(function))


def _char_offset(source: SourceFile, starts: Tuple[int, ...], line: int, byte_column: int) -> int:
    text = source.line(line)
    return starts[line - 1] + len(text.encode("utf-8")[:byte_column].decode("utf-8", "replace"))


def _drop_unused_track(
    current: SourceFile, findings: List[Finding], settings: Settings, item: WorkItem, analysis: Optional[Analysis], changes: List[Change]
) -> Tuple[SourceFile, List[Finding], List[Tuple[str, str]]]:
    """Remove `from <runtime> import track` once no code uses it any more."""
    try:
        tree = ast.parse(current.text)
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return current, findings, []
    runtime = settings.fix.runtime_module
    local = _runtime_track_name(tree, runtime)
    if local is None or any(isinstance(n, ast.Name) and n.id == local for n in ast.walk(tree)):
        return current, findings, []
    change = remove_import(current.text, tree, runtime, "track")
    if not change:
        return current, findings, []
    changes.append(change)
    trimmed = _with_text(current, change.apply(current.text))
    return trimmed, _recheck(trimmed, analysis, settings, item), [(runtime, "track")]


def fix_text(source: SourceFile, settings: Settings, codes, module_name: str, unsafe: bool = False) -> FileFix:
    """Check and fix one text on its own (no other module's facts): for tests and tools."""
    item = WorkItem(source.path, source.path, frozenset(codes), module_name)
    try:
        findings = _recheck(source, None, settings, item)
    except Unanalysable as problem:
        return FileFix(source.path, source.text, source.text, error=f"not fixed: {problem.detail}")
    return fix_source(source, findings, None, settings, item, Mode(unsafe, settings.fix.runtime_module))
