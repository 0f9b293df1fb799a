"""`ffscan fix`: analyse once, then for each file with fixes apply -> re-check -> verify -> write.

The analysis that found the findings computed their fixes from the same tree, so a file is
read and analysed once before fixing; each pass that changes a file re-checks the new text
(which both proves the pass and finds what the next pass may fix). The result is proven before
it is written: it compiles, the fixed findings are gone and nothing new appears; then it is
written through a temporary file, only if the file did not change since it was checked. Any
failure leaves the file exactly as it was and says why.
"""

from __future__ import annotations

import os
from collections import Counter
from typing import Dict, List, Optional, Sequence, Tuple

from ffscan.config import Settings
from ffscan.engine import Analysis, WorkItem, analyse
from ffscan.engine.runner import check_source, text_digest
from ffscan.engine.sources import SourceFile, Unanalysable, decode_source, split_lines
from ffscan.fix.apply import CannotEdit, apply_fixes
from ffscan.fix.dependency import runtime_importable
from ffscan.fix.write import write_atomically
from ffscan.model import Applicability, FileFix, Finding, Fix, FixRun
from ffscan.rules import all_rules

MAX_PASSES = 4


def run_fix(paths: Sequence[str], settings: Settings, unsafe: bool, write: bool) -> FixRun:
    run = FixRun()
    runtime = settings.fix.runtime_module
    if not runtime_importable(runtime, settings.root):
        run.runtime_problem = (
            f"fixes import `{runtime}`, which cannot be imported from {settings.root}; "
            f"write it with `ffscan vendor-runtime {runtime.replace('.', '/')}.py` or install ffscan"
        )
        write = False
    analysis = analyse(paths, settings, reuse_run=False)
    run.missing = analysis.result.missing
    by_path: Dict[str, List[Finding]] = {}
    for finding in analysis.result.findings:
        by_path.setdefault(finding.path, []).append(finding)
    for item in analysis.work:
        findings = by_path.get(item.display, [])
        if any(_offers_fixes(f) for f in findings):
            run.files.append(_fix_file(item, findings, analysis, settings, unsafe, write))
    return run


def _offers_fixes(finding: Finding) -> bool:
    rule = all_rules().get(finding.code)
    return rule is not None and rule.fix_applicability is not None


def _fix_file(
    item: WorkItem, findings: List[Finding], analysis: Analysis, settings: Settings, unsafe: bool, write: bool
) -> FileFix:
    try:
        with open(item.fs_path, "rb") as handle:
            original = handle.read()
        read_stat = os.stat(item.fs_path)
        source = decode_source(original, item.display)
    except OSError as error:
        return FileFix(item.display, "", "", error=f"cannot read: {error.strerror or error}")
    if text_digest(source.text) != analysis.digests.get(item.display):
        return FileFix(item.display, source.text, source.text, error="the file changed since it was checked; left as it was")
    outcome = fix_source(source, findings, analysis, settings, item, unsafe)
    if write and outcome.changed:
        problem = write_atomically(item.fs_path, outcome.fixed, source.encoding, original, read_stat)
        if problem is not None:
            outcome.error = problem
    return outcome


def fix_source(
    source: SourceFile, findings: Sequence[Finding], analysis: Optional[Analysis], settings: Settings, item: WorkItem, unsafe: bool
) -> FileFix:
    """Fix `source` in memory, starting from its `findings` (with their fixes); never raises
    for a file it cannot fix."""
    outcome = FileFix(source.path, source.text, source.text)
    before = list(findings)
    current, pending = source, [f for f in findings if _offers_fixes(f)]
    for _ in range(MAX_PASSES):
        chosen: List[Tuple[Finding, Fix]] = []
        waiting: List[Tuple[Finding, str]] = []
        for finding in pending:
            fix, reason = _choose(finding, unsafe)
            if fix is None:
                waiting.append((finding, reason))
            else:
                chosen.append((finding, fix))
        if not chosen:
            outcome.left.extend(waiting)
            break
        try:
            applied = apply_fixes(current.text, [fix for _, fix in chosen])
        except CannotEdit as problem:
            outcome.error = f"{problem}; left as it was"
            return outcome
        taken = {id(fix) for fix in applied.fixes}
        outcome.applied.extend((finding, fix) for finding, fix in chosen if id(fix) in taken)
        current = _with_text(source, applied.text)
        pending = [f for f in _recheck(current, analysis, settings, item) if _offers_fixes(f)]
    else:
        outcome.left.extend((f, "still reported after several passes") for f in pending)
    outcome.fixed = current.text
    if outcome.fixed != source.text:
        after = _recheck(current, analysis, settings, item)
        outcome.error = _verify(outcome, before, after)
    return outcome


def _choose(finding: Finding, unsafe: bool) -> Tuple[Optional[Fix], str]:
    """The first fix allowed, or why none is."""
    if not finding.fixes:
        return None, "no fix for this shape"
    for fix in finding.fixes:
        if fix.allowed(unsafe):
            return fix, ""
    if any(fix.applicability is Applicability.UNSAFE for fix in finding.fixes):
        return None, "only an unsafe fix (use --unsafe-fixes)"
    return None, "display-only fix"


def _with_text(source: SourceFile, text: str) -> SourceFile:
    return SourceFile(source.path, text, split_lines(text), source.encoding, source.newline)


def _recheck(source: SourceFile, analysis: Optional[Analysis], settings: Settings, item: WorkItem) -> List[Finding]:
    checked = check_source(source, settings, item.codes, item.module)
    settled = analysis.settle(checked.deferred) if analysis is not None else []
    return sorted([*checked.findings, *settled], key=Finding.sort_key)


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


def fix_text(source: SourceFile, settings: Settings, codes, module_name: str, unsafe: bool = False) -> FileFix:
    """Check and fix one text on its own (no other module's facts): for tests and tools."""
    item = WorkItem(source.path, source.path, frozenset(codes), module_name)
    try:
        findings = _recheck(source, None, settings, item)
    except Unanalysable as problem:
        return FileFix(source.path, source.text, source.text, error=f"not fixed: {problem.detail}")
    return fix_source(source, findings, None, settings, item, unsafe)
