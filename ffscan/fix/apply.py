"""Apply rule fixes to files; the only place that imports libcst.

For each file: check, apply the non-overlapping fixes that are allowed, repeat to a fixed
point (a few passes at most), then prove the result: it parses, it compiles, a re-check shows
the fixed findings gone and nothing new. Only then is the file written, through a temporary
file and `os.replace`, keeping its mode, encoding, BOM and newlines, and only if it did not
change since it was read. Any failure leaves the file exactly as it was and says why.
"""

from __future__ import annotations

import os
import stat
import tempfile
from collections import Counter
from dataclasses import dataclass, field
from typing import Dict, FrozenSet, List, Optional, Sequence, Tuple

import libcst as cst
from libcst.codemod import CodemodContext
from libcst.codemod.visitors import AddImportsVisitor
from libcst.metadata import MetadataWrapper, ParentNodeProvider, PositionProvider

from ffscan.config import Settings
from ffscan.engine.runner import check_source
from ffscan.engine.sources import SourceFile, Unanalysable, decode_source
from ffscan.model import Applicability, Finding, Fix
from ffscan.rules import all_rules

MAX_PASSES = 4
_BOM = b"\xef\xbb\xbf"


class FixContext:
    """What a rule's `fixes` may ask about the module being fixed."""

    def __init__(self, wrapper: MetadataWrapper, runtime: str, durable_target: Optional[str] = None) -> None:
        self.wrapper = wrapper
        self.runtime = runtime  # the module rewritten code imports the tracked runtime from
        self.durable_target = durable_target  # "celery"/"dramatiq" when the project uses one
        self._parents: Optional[Dict[cst.CSTNode, cst.CSTNode]] = None

    def parent(self, node: cst.CSTNode) -> Optional[cst.CSTNode]:
        if self._parents is None:
            self._parents = dict(self.wrapper.resolve(ParentNodeProvider))
        return self._parents.get(node)


@dataclass
class FileFix:
    path: str
    original: str
    fixed: str
    applied: List[Tuple[Finding, Fix]] = field(default_factory=list)
    left: List[Tuple[Finding, str]] = field(default_factory=list)  # (finding, why not fixed)
    error: Optional[str] = None  # the whole file was left alone, and why

    @property
    def changed(self) -> bool:
        return self.error is None and self.fixed != self.original


def allowed(fix: Fix, unsafe: bool) -> bool:
    if fix.applicability is Applicability.SAFE:
        return True
    return unsafe and fix.applicability is Applicability.UNSAFE


def fix_text(
    source: SourceFile,
    settings: Settings,
    codes: FrozenSet[str],
    module_name: str,
    unsafe: bool = False,
    cross_module: Sequence[Finding] = (),
) -> FileFix:
    """Fix `source` in memory; never raises for a file it cannot fix.

    `cross_module` are findings in this file that only the whole-program index could make
    (a coroutine function defined in another module): they join the first pass.
    """
    outcome = FileFix(source.path, source.text, source.text)
    before = check_source(source, settings, codes, module_name).findings
    current, findings = source, before
    extra = list(cross_module)
    for _ in range(MAX_PASSES):
        fixable = [f for f in [*findings, *extra] if _has_fixes(f.code)]
        extra = []
        if not fixable:
            break
        try:
            new_text, applied, left = _apply_once(current.text, fixable, settings, unsafe)
        except (cst.ParserSyntaxError, RecursionError) as error:
            outcome.error = f"libcst cannot handle this file ({type(error).__name__}); left as it was"
            return outcome
        outcome.applied.extend(applied)
        if new_text == current.text:
            outcome.left.extend(left)
            break
        current = SourceFile(source.path, new_text, tuple(new_text.splitlines()), source.encoding, source.newline)
        findings = check_source(current, settings, codes, module_name).findings
    else:
        outcome.left.extend((f, "still reported after several passes") for f in findings if _has_fixes(f.code))
    outcome.fixed = current.text
    if outcome.fixed != source.text:
        outcome.error = _verify(outcome, before, findings)
    return outcome


def _has_fixes(code: str) -> bool:
    rule = all_rules().get(code)
    return rule is not None and rule.fix_applicability is not None


def _apply_once(
    text: str, findings: Sequence[Finding], settings: Settings, unsafe: bool
) -> Tuple[str, List[Tuple[Finding, Fix]], List[Tuple[Finding, str]]]:
    wrapper = MetadataWrapper(cst.parse_module(text))
    positions = wrapper.resolve(PositionProvider)
    by_span: Dict[Tuple[int, int, int, int], List[cst.CSTNode]] = {}
    for node, where in positions.items():
        key = (where.start.line, where.start.column, where.end.line, where.end.column)
        by_span.setdefault(key, []).append(node)
    fix_context = FixContext(wrapper, settings.fix.runtime_module, settings.fix.durable_target)
    claimed: List[Tuple[Tuple[int, int], Tuple[int, int]]] = []
    replacements: Dict[cst.CSTNode, cst.CSTNode] = {}
    imports: List[Tuple[str, str]] = []
    applied: List[Tuple[Finding, Fix]] = []
    left: List[Tuple[Finding, str]] = []
    for finding in findings:
        span = (finding.start.line, finding.start.column - 1, finding.end.line, finding.end.column - 1)
        nodes = by_span.get(span, [])
        rule = all_rules()[finding.code]
        choice: Optional[Fix] = None
        reason = "no fix for this shape"
        for node in nodes:
            for candidate in rule.fixes(node, finding, fix_context):
                if allowed(candidate, unsafe):
                    choice = candidate
                    break
                reason = f"only an {candidate.applicability.value} fix (use --unsafe-fixes)" if candidate.applicability is Applicability.UNSAFE else "display-only fix"
            if choice is not None:
                break
        if choice is None:
            left.append((finding, reason if nodes else "no node at the finding's span"))
            continue
        region = ((span[0], span[1]), (span[2], span[3]))
        if any(_overlaps(region, other) for other in claimed):
            continue  # the next pass takes it, on the rewritten code
        claimed.append(region)
        replacements.update(choice.replacements)  # type: ignore[arg-type]
        imports.extend(choice.imports)
        applied.append((finding, choice))
    if not replacements:
        return text, applied, left
    module = wrapper.module.visit(_Replace(replacements))
    if imports:
        context = CodemodContext()
        for module_name, name in dict.fromkeys(imports):
            AddImportsVisitor.add_needed_import(context, module_name, name)
        module = AddImportsVisitor(context).transform_module(module)
    return module.code, applied, left


def _overlaps(a, b) -> bool:
    return not (a[1] <= b[0] or b[1] <= a[0])


class _Replace(cst.CSTTransformer):
    def __init__(self, replacements: Dict[cst.CSTNode, cst.CSTNode]) -> None:
        super().__init__()
        self.replacements = replacements

    def on_leave(self, original_node, updated_node):
        return self.replacements.get(original_node, updated_node)


def _verify(outcome: FileFix, before: Sequence[Finding], after: Sequence[Finding]) -> Optional[str]:
    """Why the fixed text must not be written, or None when it is sound."""
    try:
        compile(outcome.fixed, outcome.path, "exec", dont_inherit=True)
    except (SyntaxError, ValueError) as error:
        return f"the fixed code would not compile ({error}); left as it was"
    kinds_before = Counter((f.code, f.message) for f in before)
    kinds_after = Counter((f.code, f.message) for f in after)
    new = kinds_after - kinds_before
    if new:
        (code, message), _ = next(iter(new.items()))
        return f"the fix would introduce a new finding ({code}: {message}); left as it was"
    return None


def read_for_fix(fs_path: str, display: str) -> Tuple[SourceFile, bytes, os.stat_result]:
    with open(fs_path, "rb") as handle:
        data = handle.read()
    return decode_source(data, display), data, os.stat(fs_path)


def write_atomically(fs_path: str, outcome: FileFix, source: SourceFile, original: bytes, read_stat: os.stat_result) -> Optional[str]:
    """Write the fixed text in place of `fs_path`; return why not, or None when written."""
    try:
        with open(fs_path, "rb") as handle:
            if handle.read() != original:
                return "the file changed since it was read; left as it was"
        encoded = outcome.fixed.encode(source.encoding)
    except (OSError, UnicodeEncodeError) as error:
        return f"cannot write: {error}"
    if original.startswith(_BOM) and not encoded.startswith(_BOM):
        encoded = _BOM + encoded
    directory = os.path.dirname(os.path.abspath(fs_path))
    try:
        handle_fd, temporary = tempfile.mkstemp(prefix=".ffscan-", suffix=".tmp", dir=directory)
    except OSError as error:  # a read-only directory: nothing was written
        return f"cannot write: {error.strerror or error}"
    try:
        with os.fdopen(handle_fd, "wb") as handle:
            handle.write(encoded)
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(temporary, stat.S_IMODE(read_stat.st_mode))
        os.replace(temporary, fs_path)
    except OSError as error:
        try:
            os.unlink(temporary)
        except OSError:
            pass  # already gone; the original is untouched either way
        return f"cannot write: {error.strerror or error}"
    return None


def fix_path(
    fs_path: str,
    display: str,
    settings: Settings,
    codes: FrozenSet[str],
    module_name: str,
    unsafe: bool,
    write: bool,
    cross_module: Sequence[Finding] = (),
) -> FileFix:
    """Fix one file on disk (or only compute the fix when `write` is false)."""
    try:
        source, original, read_stat = read_for_fix(fs_path, display)
    except OSError as error:
        return FileFix(display, "", "", error=f"cannot read: {error.strerror or error}")
    except Unanalysable as problem:
        return FileFix(display, "", "", error=f"not fixed: {problem.detail}")
    outcome = fix_text(source, settings, codes, module_name, unsafe, cross_module)
    if write and outcome.changed:
        problem = write_atomically(fs_path, outcome, source, original, read_stat)
        if problem is not None:
            outcome.error = problem
    return outcome
