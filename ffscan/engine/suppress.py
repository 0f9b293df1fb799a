"""Suppression comments, read with `tokenize` so that text inside strings never counts.

    x()  # noqa: FF201            this line, these codes (a bare `# noqa` is not honoured:
    x()  # ffscan: ignore[FF201]  it would silence every linter at once)
    x()  # ffscan: ignore         this line, every code
    t = spawn()  # ffscan: detached   left running on purpose (rules about dropped handles)
    # ffscan: skip-file           anywhere in the file: the file is not checked

A comment counts on the reported line, or on the first or last line of the statement that
holds the finding (so a call formatted over several lines can carry it on either end).
"""

from __future__ import annotations

import io
import re
import tokenize
from typing import Dict, List, Optional, Sequence, Set, Tuple

from ffscan.model import Finding

_NOQA = re.compile(r"#\s*noqa\s*:\s*(?P<codes>[A-Z]+[0-9]+(?:[\s,]+[A-Z]+[0-9]+)*)", re.IGNORECASE)
_IGNORE = re.compile(r"#\s*ffscan\s*:\s*ignore\b(?:\[(?P<codes>[^\]]*)\])?", re.IGNORECASE)
_DETACHED = re.compile(r"#\s*ffscan\s*:\s*detached\b", re.IGNORECASE)
_SKIP_FILE = re.compile(r"#\s*ffscan\s*:\s*skip-file\b", re.IGNORECASE)

ALL = "*"
DETACHED = "detached"


def comments(text: str) -> Dict[int, str]:
    """Line number -> comment text, for every real comment token."""
    found: Dict[int, str] = {}
    try:
        for token in tokenize.generate_tokens(io.StringIO(text).readline):
            if token.type == tokenize.COMMENT:
                found[token.start[0]] = token.string
    except (tokenize.TokenError, SyntaxError, IndentationError):
        pass  # the comments read so far still count; the parser reports the file's own error
    return found


def directives(text: str) -> Dict[int, Set[str]]:
    """Line number -> suppressed codes (`*` for all, `detached` for on-purpose detachment)."""
    result: Dict[int, Set[str]] = {}
    for line, comment in comments(text).items():
        codes: Set[str] = set()
        for match in _NOQA.finditer(comment):
            codes.update(code.upper() for code in re.split(r"[\s,]+", match.group("codes")) if code)
        for match in _IGNORE.finditer(comment):
            listed = match.group("codes")
            if listed is None:
                codes.add(ALL)
            else:
                codes.update(code.strip().upper() for code in listed.split(",") if code.strip())
        if _DETACHED.search(comment):
            codes.add(DETACHED)
        if codes:
            result[line] = codes
    return result


def skips_file(text: str) -> bool:
    if "skip-file" not in text:
        return False
    return any(_SKIP_FILE.search(comment) for comment in comments(text).values())


def apply(
    findings: Sequence[Finding], statement_spans: Sequence[Tuple[int, int]], text: str
) -> Tuple[List[Finding], int]:
    """Drop suppressed findings; return what is kept and how many were suppressed."""
    if not findings or ("noqa" not in text.lower() and "ffscan" not in text.lower()):
        return list(findings), 0
    by_line = directives(text)
    if not by_line:
        return list(findings), 0
    from ffscan.rules import all_rules

    rules = all_rules()
    kept: List[Finding] = []
    for finding, (first, last) in zip(findings, statement_spans):
        honours_detached = getattr(rules.get(finding.code), "honours_detached", False)
        if _is_suppressed(finding, {finding.start.line, first, last}, by_line, honours_detached):
            continue
        kept.append(finding)
    return kept, len(findings) - len(kept)


def _is_suppressed(finding: Finding, lines: Set[int], by_line: Dict[int, Set[str]], honours_detached: bool) -> bool:
    for line in lines:
        codes: Optional[Set[str]] = by_line.get(line)
        if not codes:
            continue
        if ALL in codes or finding.code in codes:
            return True
        if honours_detached and DETACHED in codes:
            return True
    return False
