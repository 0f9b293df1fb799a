"""`ffscan check --add-noqa`: write `# noqa: FFnnn` for every current finding, as Ruff does.

Each finding gets its code on the line it starts at. A code joins the first `# noqa: ...`
list already on that line (`# noqa: FF101` becomes `# noqa: FF101, FF201`); otherwise
`  # noqa: FF201` goes at the end of the line, after any comment already there, which stays
as it was. Where a comment cannot stand at the end of that line (the line ends inside a string,
such as a triple-quoted one, or in a backslash continuation), the codes go to the end of the
statement's last line instead, which suppression also reads (see ffscan.engine.suppress).
Findings that no comment can silence (FF0xx: the file could not be analysed) are left, and the
reason is given.

The new text is proven before it is written, as a fix is: it compiles, and checking it again
finds exactly the findings that were left (each one given a comment is suppressed, nothing new
appears). It is then written through a temporary file, only if the file did not change since it
was checked. A second run changes nothing: every finding it would see is already suppressed.
"""

from __future__ import annotations

import io
import os
import tokenize
from collections import Counter
from dataclasses import dataclass, field
from typing import Dict, List, Optional, Sequence, Set, Tuple

from ffscan.config import Settings
from ffscan.engine import Analysis, WorkItem, analyse
from ffscan.engine.runner import check_source, text_digest
from ffscan.engine.sources import SourceFile, decode_source, split_lines
from ffscan.engine.suppress import NOQA
from ffscan.fix.apply import Change, TextEdit
from ffscan.fix.write import WriteRefused, write_fixed
from ffscan.model import Family, Finding, NoqaFile, NoqaRun, line_starts

CANNOT_SUPPRESS = (
    "a file that cannot be analysed is not silenced by `# noqa`; "
    "list it in `extend-exclude` or mark it `# ffscan: skip-file`"
)


@dataclass
class NoqaText:
    """What adding `# noqa` comments does to one text."""

    text: str
    change: Change
    added: List[Tuple[int, Tuple[str, ...]]] = field(default_factory=list)  # (line, codes new to it)
    left: List[Tuple[Finding, str]] = field(default_factory=list)  # findings given no comment, and why


@dataclass
class _Lines:
    """What the tokenizer says about a text's lines."""

    open_ends: Set[int]  # lines whose end lies outside any string: a comment may go there
    comments: Dict[int, Tuple[int, str]]  # line -> (column of its comment, the comment)
    statements: List[Tuple[int, int]]  # (first, last) line of every logical line
    read_to: int  # the last line the tokenizer read (all of them, unless it stopped early)


def add_noqa(text: str, findings: Sequence[Finding]) -> NoqaText:
    """The text with a `# noqa` comment for each finding (see the module's doc)."""
    lines = _scan(text)
    wanted: Dict[int, List[str]] = {}
    outcome = NoqaText(text, Change(()))
    for finding in findings:
        if finding.family is Family.FILE:
            outcome.left.append((finding, CANNOT_SUPPRESS))
            continue
        target, why = _target_line(finding.start.line, lines)
        if target is None:
            outcome.left.append((finding, why))
            continue
        codes = wanted.setdefault(target, [])
        if finding.code not in codes:
            codes.append(finding.code)
    starts = line_starts(text)
    edits: List[TextEdit] = []
    for line in sorted(wanted):
        line_start = starts[line - 1]
        line_end = starts[line] if line < len(starts) else len(text)
        content = text[line_start:line_end].rstrip("\r\n")
        existing = lines.comments.get(line)
        match = NOQA.search(existing[1]) if existing is not None else None
        if match is not None:
            assert existing is not None
            listed = {code.upper() for code in _codes(match.group("codes"))}
            new = tuple(sorted(code for code in wanted[line] if code not in listed))
            at = line_start + existing[0] + match.end("codes")
            edits.append(TextEdit(at, at, "".join(f", {code}" for code in new)))
        else:
            new = tuple(sorted(wanted[line]))
            at = line_start + len(content.rstrip(" \t"))
            edits.append(TextEdit(at, at, f"  # noqa: {', '.join(new)}"))
        outcome.added.append((line, new))
    outcome.change = Change(edits)
    outcome.text = outcome.change.apply(text)
    return outcome


def _codes(listed: str) -> List[str]:
    return [code for code in listed.replace(",", " ").split() if code]


def _target_line(line: int, lines: _Lines) -> Tuple[Optional[int], str]:
    """Where the comment for a finding that starts on `line` goes, or None and why not."""
    if line in lines.open_ends:
        return line, ""
    if line > lines.read_to:
        return None, "the tokenizer stops before this line, so no comment can be placed safely"
    for first, last in lines.statements:
        if first <= line <= last:
            if last in lines.open_ends:
                return last, ""
            break
    return None, "the line ends inside a string and its statement's last line takes no comment either"


def _scan(text: str) -> _Lines:
    open_ends: Set[int] = set()
    comments: Dict[int, Tuple[int, str]] = {}
    statements: List[Tuple[int, int]] = []
    inside_fstring: List[int] = []  # Python 3.12+: lines an f-string spans are inside a string
    fstring_lines: Set[int] = set()
    first: Optional[int] = None
    read_to = 0
    fstring_start = getattr(tokenize, "FSTRING_START", None)
    fstring_end = getattr(tokenize, "FSTRING_END", None)
    try:
        for token in tokenize.generate_tokens(io.StringIO(text, newline="").readline):
            kind = token.type
            read_to = max(read_to, token.end[0])
            if kind in (tokenize.NL, tokenize.NEWLINE):
                open_ends.add(token.start[0])
            elif kind == tokenize.COMMENT:
                comments.setdefault(token.start[0], (token.start[1], token.string))
            elif fstring_start is not None and kind == fstring_start:
                inside_fstring.append(token.start[0])
            elif fstring_end is not None and kind == fstring_end and inside_fstring:
                opened = inside_fstring.pop()
                fstring_lines.update(range(opened, token.end[0]))
            if kind == tokenize.NEWLINE:
                if first is not None:
                    statements.append((first, token.start[0]))
                first = None
            elif kind not in _NOT_CODE and first is None:
                first = token.start[0]
    except tokenize.TokenError as error:
        # What was read still counts; a line past where the tokenizer stopped gets no comment.
        read_to = min(read_to, error.args[1][0] - 1) if len(error.args) > 1 else read_to
    except SyntaxError as error:  # IndentationError, or the 3.12 tokenizer's own limits
        read_to = min(read_to, (error.lineno or 1) - 1)
    return _Lines(open_ends - fstring_lines, comments, statements, read_to)


_NOT_CODE = frozenset({tokenize.NL, tokenize.COMMENT, tokenize.INDENT, tokenize.DEDENT, tokenize.ENDMARKER})


# ---- the run: analyse, add, verify, write -----------------------------------------------------


def run_add_noqa(paths: Sequence[str], settings: Settings, jobs: Optional[int] = None, force_write: bool = False) -> NoqaRun:
    """Add `# noqa` comments for every finding under `paths`, and write each file proven sound."""
    analysis = analyse(paths, settings, jobs=jobs, reuse_run=False)
    result = analysis.result
    run = NoqaRun(missing=result.missing, errors=result.errors)
    by_path: Dict[str, List[Finding]] = {}
    for finding in result.findings:
        by_path.setdefault(finding.path, []).append(finding)
    seen: Set[str] = set()
    for item in analysis.work:
        findings = by_path.get(item.display, [])
        real = os.path.realpath(item.fs_path)
        if not findings or real in seen:
            continue  # a second path to a file already done (a symlink to it) has its findings
        seen.add(real)
        run.files.append(_add_to_file(item, findings, analysis, settings, force_write))
    left = sorted((f for outcome in run.files for f, _ in outcome.left), key=Finding.sort_key)
    run.result = result.after_edits(left)
    return run


def _add_to_file(item: WorkItem, findings: List[Finding], analysis: Analysis, settings: Settings, force_write: bool) -> NoqaFile:
    try:
        with open(item.fs_path, "rb") as handle:
            original = handle.read()
        read_stat = os.stat(item.fs_path)
    except OSError as error:
        return _left_alone(item.display, findings, f"cannot read: {error.strerror or error}")
    source = decode_source(original, item.display)
    outcome = add_noqa(source.text, findings)
    if outcome.text == source.text:
        return NoqaFile(item.display, left=outcome.left)
    if text_digest(source.text) != analysis.digests.get(item.display):
        return _left_alone(item.display, findings, "the file changed since it was checked; left as it was")
    problem = _verify(source, outcome, analysis, settings, item)
    if problem is not None:
        return _left_alone(item.display, findings, f"{problem}; left as it was")
    try:
        write_fixed(item.fs_path, outcome.text, source.encoding, original, read_stat, force=force_write)
    except WriteRefused as refused:
        return _left_alone(item.display, findings, refused.reason, cannot_write=refused.is_failure)
    return NoqaFile(item.display, added=outcome.added, left=outcome.left)


def _left_alone(path: str, findings: Sequence[Finding], error: str, cannot_write: bool = False) -> NoqaFile:
    return NoqaFile(path, left=[(f, "the file was left as it was") for f in findings], error=error, cannot_write=cannot_write)


def _verify(source: SourceFile, outcome: NoqaText, analysis: Analysis, settings: Settings, item: WorkItem) -> Optional[str]:
    """Why the new text must not be written, or None: it must compile, and checking it again
    must find exactly the findings that were left (comments move no code, so they stay put)."""
    try:
        compile(outcome.text, source.path, "exec", dont_inherit=True)
    except (SyntaxError, ValueError) as error:
        return f"the text with `# noqa` comments would not compile ({error})"
    commented = SourceFile(source.path, outcome.text, split_lines(outcome.text), source.encoding, source.newline)
    checked = check_source(commented, settings, item.codes, item.module)
    after = [*checked.findings, *analysis.settle(checked.deferred)]
    expected = Counter(_place(f) for f, _ in outcome.left)
    found = Counter(_place(f) for f in after)
    unexpected = sorted((found - expected).elements())
    if unexpected:
        code, (line, column), _ = unexpected[0]
        return f"checking the text with `# noqa` comments still reports {code} at {line}:{column}"
    missing = sorted((expected - found).elements())
    if missing:
        code, (line, column), _ = missing[0]
        return f"checking the text with `# noqa` comments no longer reports {code} at {line}:{column}, which had no comment"
    return None


def _place(finding: Finding) -> tuple:
    return (finding.code, (finding.start.line, finding.start.column), (finding.end.line, finding.end.column))
