"""Suppression comments, read with `tokenize` so that text inside strings never counts.

    x()  # noqa: FF201            this line, these codes (a bare `# noqa` is not honoured:
    x()  # ffscan: ignore[FF201]  it would silence every linter at once)
    x()  # ffscan: ignore         this line, every code
    x()  # noqa: RUF006           another tool's code for the same finding (a rule's `peer_codes`;
                                  also `# ruff: ignore[...]`, `# type: ignore[...]`, `# pyright: ignore[...]`)
    t = spawn()  # ffscan: detached   left running on purpose (rules about dropped handles)
    # ffscan: skip-file           anywhere in the file: the file is not checked

A comment counts on the reported line, or on the first or last line of the logical line that
holds the finding (so a call formatted over several lines can carry it on either end; for an
`if`/`with`/`for` header that is the header, not the end of the block).
"""

from __future__ import annotations

import bisect
import io
import re
import tokenize
from typing import Collection, Dict, List, Optional, Sequence, Set, Tuple

from ffscan.model import Finding

# A code is letters then a digit, then letters and digits (`FF2O1` is one code, not `FF2`).
NOQA = re.compile(r"#\s*noqa\s*:\s*(?P<codes>[A-Z]+[0-9][A-Z0-9]*(?:[\s,]+[A-Z]+[0-9][A-Z0-9]*)*)", re.IGNORECASE)
_IGNORE = re.compile(r"#\s*ffscan\s*:\s*ignore(?![-\w])(?:\[(?P<codes>[^\]]*)\])?", re.IGNORECASE)
_DETACHED = re.compile(r"#\s*ffscan\s*:\s*detached(?![-\w])", re.IGNORECASE)
# Other tools' line suppressions with a code list; a bare `# type: ignore` is too broad to count.
_PEER_IGNORE = re.compile(r"#\s*(?:ruff|type|pyright)\s*:\s*ignore\[(?P<codes>[^\]]*)\]", re.IGNORECASE)
_SKIP_FILE = re.compile(r"#\s*ffscan\s*:\s*skip-file(?![-\w])", re.IGNORECASE)

ALL = "*"
DETACHED = "detached"
PEER = "peer:"  # prefix of a code named in another tool's `ignore[...]`


def comments(text: str) -> Dict[int, str]:
    """Line number -> comment text, for every real comment token."""
    return _scan(text)[0]


def logical_lines(text: str) -> List[Tuple[int, int]]:
    """(first, last) physical line of every logical line, in order.

    A logical line is what the tokenizer ends with NEWLINE: a simple statement, or the header
    of a compound one (`if ...:`, `async with ...:`), however many lines its brackets span.
    """
    return _scan(text)[1]


def _scan(text: str) -> Tuple[Dict[int, str], List[Tuple[int, int]]]:
    found: Dict[int, str] = {}
    spans: List[Tuple[int, int]] = []
    first: Optional[int] = None
    try:
        for token in tokenize.generate_tokens(io.StringIO(text).readline):
            kind = token.type
            if kind == tokenize.COMMENT:
                found[token.start[0]] = token.string
            elif kind == tokenize.NEWLINE:
                if first is not None:
                    spans.append((first, token.start[0]))
                first = None
            elif kind not in _NOT_CODE and first is None:
                first = token.start[0]
    except (tokenize.TokenError, SyntaxError, IndentationError):
        pass  # what was read so far still counts; the parser reports the file's own error
    return found, spans


_NOT_CODE = frozenset({tokenize.NL, tokenize.COMMENT, tokenize.INDENT, tokenize.DEDENT, tokenize.ENDMARKER})


def directives(text: str) -> Dict[int, Set[str]]:
    """Line number -> suppressed codes (`*` for all, `detached` for on-purpose detachment)."""
    return _directives(comments(text))


def _directives(found_comments: Dict[int, str]) -> Dict[int, Set[str]]:
    result: Dict[int, Set[str]] = {}
    for line, comment in found_comments.items():
        codes: Set[str] = set()
        for match in NOQA.finditer(comment):
            codes.update(code.upper() for code in re.split(r"[\s,]+", match.group("codes")) if code)
        for match in _IGNORE.finditer(comment):
            listed = match.group("codes")
            if listed is None:
                codes.add(ALL)
            else:
                codes.update(code.strip().upper() for code in listed.split(",") if code.strip())
        for match in _PEER_IGNORE.finditer(comment):
            codes.update(PEER + code.strip().upper() for code in match.group("codes").split(",") if code.strip())
        if _DETACHED.search(comment):
            codes.add(DETACHED)
        if codes:
            result[line] = codes
    return result


# Only a noqa list with an FF code, or an ffscan ignore list, can name a code of ours.
# Searched in the lowered text: a third of the time of a case-blind search.
_MAY_NAME_OUR_CODE = re.compile(r"noqa\s*:[^\n]*ff|ffscan\s*:\s*ignore\s*\[")


def unknown_codes(text: str, known: Collection[str]) -> List[Tuple[int, str, str]]:
    """(line, code, comment kind) for each code a suppression comment names that is no rule.

    In `# noqa: ...` only codes starting with `FF` are ffscan's (the others are other tools',
    as Ruff's `external`); in `# ffscan: ignore[...]` every code is. Such a code suppresses
    nothing, so the finding it was meant for is still reported.
    """
    # Most files have no suppression comment at all: a substring test first (fast), the pattern after.
    lowered = text.lower()
    if ("noqa" not in lowered and "ffscan" not in lowered) or not _MAY_NAME_OUR_CODE.search(lowered):
        return []
    found: List[Tuple[int, str, str]] = []
    for line, comment in sorted(comments(text).items()):
        for match in NOQA.finditer(comment):
            for code in re.split(r"[\s,]+", match.group("codes")):
                if code.upper().startswith("FF") and code.upper() not in known:
                    found.append((line, code, "# noqa"))
        for match in _IGNORE.finditer(comment):
            for code in (match.group("codes") or "").split(","):
                if code.strip() and code.strip().upper() not in known:
                    found.append((line, code.strip(), "# ffscan: ignore[...]"))
    return found


def skips_file(text: str) -> bool:
    if "skip-file" not in text:
        return False
    return any(_SKIP_FILE.search(comment) for comment in comments(text).values())


def apply(
    findings: Sequence[Finding], statement_spans: Sequence[Tuple[int, int]], text: str
) -> Tuple[List[Finding], int]:
    """Drop suppressed findings; return what is kept and how many were suppressed.

    A comment counts on the finding's line and on the first and last line of the logical line
    that holds it (for a compound statement that is its header, never the end of its body).
    `statement_spans` is the fallback where the tokenizer could not read that far.
    """
    lowered = text.lower()
    if not findings or ("noqa" not in lowered and "ffscan" not in lowered and "ignore[" not in lowered):
        return list(findings), 0
    if "ffscan" not in lowered and not _names_a_code(text.upper(), findings):
        # Only `# ffscan: ...` comments can suppress every code or mark work detached; other
        # comments (other tools' codes, in most projects) suppress only a code they name, and
        # a code named nowhere in the text is named in no comment: nothing to tokenize.
        return list(findings), 0
    found_comments, spans = _scan(text)
    by_line = _directives(found_comments)
    if not by_line:
        return list(findings), 0
    from ffscan.rules import all_rules

    rules = all_rules()
    firsts = [first for first, _ in spans]
    kept: List[Finding] = []
    for finding, fallback in zip(findings, statement_spans):
        line = finding.start.line
        index = bisect.bisect_right(firsts, line) - 1
        first, last = spans[index] if index >= 0 and spans[index][1] >= line else fallback
        rule = rules.get(finding.code)
        honours_detached = getattr(rule, "honours_detached", False)
        peers = frozenset(getattr(rule, "peer_codes", ()))
        if _is_suppressed(finding, {line, first, last}, by_line, honours_detached, peers):
            continue
        kept.append(finding)
    return kept, len(findings) - len(kept)


def _names_a_code(uppered: str, findings: Sequence[Finding]) -> bool:
    """Whether the text (upper-cased, as the comments' codes are) holds a finding's code or a
    peer code of its rule."""
    from ffscan.rules import all_rules

    rules = all_rules()
    for finding in findings:
        if finding.code in uppered:
            return True
        if any(peer in uppered for peer in getattr(rules.get(finding.code), "peer_codes", ())):
            return True
    return False


def _is_suppressed(
    finding: Finding, lines: Set[int], by_line: Dict[int, Set[str]], honours_detached: bool, peers: Collection[str]
) -> bool:
    for line in lines:
        codes: Optional[Set[str]] = by_line.get(line)
        if not codes:
            continue
        if ALL in codes or finding.code in codes:
            return True
        if honours_detached and DETACHED in codes:
            return True
        if any(code in codes or PEER + code in codes for code in peers):
            return True
    return False
