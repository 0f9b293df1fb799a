"""The problematic code of a ticket, as it is in the repository, with the issues marked in a
gutter beside it (never in the code): the whole function when it is short, else its header
and each issue from the start of the statement it is in, under the headers of the blocks
around it (`for ...:`, `try:`, `except ...:`), so the indentation reads as in the file.
"""

from __future__ import annotations

import ast
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Dict, Iterator, List, Optional, Sequence, Set, Tuple

from ffscan.report.ticket.grouping import Issue, Ticket

WHOLE_FUNCTION = 15  # lines: a function this short is shown whole
LONG_STATEMENT = 8  # lines: a longer statement is shown only up to its issue's last line

_DEFS = (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)
_FUNCTIONS = (ast.FunctionDef, ast.AsyncFunctionDef)


@dataclass(frozen=True)
class Row:
    line: Optional[int]  # None: no number (a line a rewrite adds, or lines left out)
    text: str = ""
    marks: Tuple[int, ...] = ()  # the numbers of the issues that start on this line
    elided: bool = False  # lines left out here


ELIDED = Row(None, elided=True)


class Sources:
    """The files tickets point to, read and parsed once; None when unreadable or unparsable."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self._lines: Dict[str, Optional[List[str]]] = {}
        self._trees: Dict[str, Optional[ast.Module]] = {}

    def lines(self, path: str) -> Optional[List[str]]:
        if path not in self._lines:
            full = Path(path) if Path(path).is_absolute() else self.root / path
            try:
                text = full.read_text(encoding="utf-8-sig")
            except (OSError, UnicodeDecodeError):  # gone, unreadable or not UTF-8: the findings' own lines are shown
                self._lines[path] = None
            else:
                # Lines end where Python ends them (not at form feeds), as findings count them.
                self._lines[path] = re.split(r"\r\n|\r|\n", text.rstrip("\r\n")) if text else []
        return self._lines[path]

    def tree(self, path: str) -> Optional[ast.Module]:
        if path not in self._trees:
            lines = self.lines(path)
            try:
                self._trees[path] = ast.parse("\n".join(lines)) if lines is not None else None
            except (SyntaxError, ValueError, RecursionError):  # not parsable here: lines only
                self._trees[path] = None
        return self._trees[path]


def code_rows(ticket: Ticket, sources: Sources) -> List[Row]:
    """The rows to show for the ticket's code, issues marked, elisions as `Row(None)`."""
    lines = sources.lines(ticket.path)
    if lines is None or not all(_unchanged(lines, issue) for issue in ticket.issues):
        return _rows_from_findings(ticket.issues)
    shown = _lines_to_show(ticket, lines, sources.tree(ticket.path))
    marks = _marks(ticket.issues)
    numbers = sorted(n for n in shown if 1 <= n <= len(lines))
    while len(numbers) > 1 and not lines[numbers[0] - 1].strip() and numbers[0] not in marks:
        numbers.pop(0)
    while len(numbers) > 1 and not lines[numbers[-1] - 1].strip() and numbers[-1] not in marks:
        numbers.pop()
    rows: List[Row] = []
    previous = None
    for number in numbers:
        if previous is not None and number == previous + 2:  # a one-line gap: show the line
            rows.append(Row(previous + 1, lines[previous]))
        elif previous is not None and number > previous + 2:
            rows.append(ELIDED)
        rows.append(Row(number, lines[number - 1], marks.get(number, ())))
        previous = number
    return rows


def render_rows(rows: Sequence[Row]) -> List[str]:
    """`  33 [1]   |     asyncio.create_task(...)`: line number and issue marks, then the code."""
    numbered = [row.line for row in rows if row.line is not None]
    width = max([len(str(n)) for n in numbered] + [3])
    labels = ["[" + ",".join(map(str, row.marks)) + "]" if row.marks else "" for row in rows]
    mark_width = max(len(label) for label in labels)
    out = []
    for row, label in zip(rows, labels):
        number = "..." if row.elided else "" if row.line is None else str(row.line)
        gutter = f"{number:>{width}} {label:<{mark_width}}" if mark_width else f"{number:>{width}}"
        out.append(f"{gutter} | {row.text}".rstrip() if row.text.strip() else f"{gutter} |")
    return out


def _marks(issues: Sequence[Issue]) -> Dict[int, Tuple[int, ...]]:
    marks: Dict[int, Tuple[int, ...]] = {}
    for issue in issues:
        marks[issue.line] = marks.get(issue.line, ()) + (issue.number,)
    return marks


def _unchanged(lines: List[str], issue: Issue) -> bool:
    """Whether the file still has the lines the finding was made from."""
    first = issue.line
    source = issue.finding.source_lines
    return bool(source) and lines[first - 1 : first - 1 + len(source)] == list(source)


def _rows_from_findings(issues: Sequence[Issue]) -> List[Row]:
    """The findings' own lines, when the file is gone or has changed since the check."""
    texts: Dict[int, str] = {}
    for issue in issues:
        for offset, text in enumerate(issue.finding.source_lines or ("",)):
            texts.setdefault(issue.line + offset, text)
    marks = _marks(issues)
    rows: List[Row] = []
    previous = None
    for number in sorted(texts):
        if previous is not None and number > previous + 1:
            rows.append(ELIDED)
        rows.append(Row(number, texts[number], marks.get(number, ())))
        previous = number
    return rows


def _lines_to_show(ticket: Ticket, lines: List[str], tree: Optional[ast.Module]) -> Set[int]:
    shown: Set[int] = set()
    for issue in ticket.issues:
        shown.update(range(issue.line, issue.finding.end.line + 1))
    if tree is None:
        return shown
    scope = find_scope(tree, ticket.enclosing, ticket.issues[0].line) if ticket.enclosing else None
    if ticket.enclosing and scope is None:
        return shown
    body: List[ast.stmt] = tree.body if scope is None else scope.body
    if scope is not None:
        first = _first_line(scope)
        if scope.end_lineno - first + 1 <= WHOLE_FUNCTION:  # type: ignore[operator]
            return set(range(first, scope.end_lineno + 1))  # type: ignore[operator]
        shown.update(range(first, _header_end(scope) + 1))
    for issue in ticket.issues:
        for low, high in statement_chain(body, lines, issue.line, issue.finding.end.line):
            shown.update(range(low, high + 1))
    return shown


def find_scope(tree: ast.Module, qualname: str, line: int) -> Optional[ast.AST]:
    """The def or class named `qualname` (as `__qualname__` would name it) around `line`."""
    found = [node for name, node in _scopes(tree, "") if name == qualname]
    around = [node for node in found if _first_line(node) <= line <= node.end_lineno]  # type: ignore[attr-defined]
    return around[-1] if around else None


def _scopes(node: ast.AST, prefix: str) -> Iterator[Tuple[str, ast.AST]]:
    for child in ast.iter_child_nodes(node):
        if isinstance(child, _DEFS):
            name = prefix + child.name
            yield name, child
            yield from _scopes(child, name + (".<locals>." if isinstance(child, _FUNCTIONS) else "."))
        else:
            yield from _scopes(child, prefix)


def statement_chain(body: Sequence[ast.stmt], lines: List[str], line: int, end: int) -> List[Tuple[int, int]]:
    """Line ranges to show for code at `line`..`end`: the header of every block around it,
    then its own statement (or the header it is in)."""
    for statement in body:
        first = _first_line(statement)
        if not first <= line <= statement.end_lineno:  # type: ignore[operator]
            continue
        blocks = list(_blocks(statement, lines))
        for index, (header, block) in enumerate(blocks):
            # An `else:` or `except:` reads only under the header of its statement.
            headers = [h for h in (blocks[0][0], header) if h is not None] if index else [header]
            if header is not None and header[0] <= line <= header[1]:
                return list(dict.fromkeys(headers))
            if block and _first_line(block[0]) <= line <= block[-1].end_lineno:  # type: ignore[operator]
                return list(dict.fromkeys(headers)) + statement_chain(block, lines, line, end)
        last = statement.end_lineno if statement.end_lineno - first < LONG_STATEMENT else max(line, end)  # type: ignore[operator]
        return [(first, last)]  # type: ignore[list-item]
    return []


def _blocks(statement: ast.stmt, lines: List[str]) -> Iterator[Tuple[Optional[Tuple[int, int]], List[ast.stmt]]]:
    """(header lines, the statements under it) for each block of a compound statement."""
    body = getattr(statement, "body", None)
    if not isinstance(body, list) or not body or not isinstance(body[0], ast.stmt):
        cases = getattr(statement, "cases", None)  # `match` (3.10+): its header, then each `case`
        if cases:
            yield (statement.lineno, max(statement.lineno, cases[0].pattern.lineno - 1)), []
            for case in cases:
                yield (case.pattern.lineno, max(case.pattern.lineno, case.body[0].lineno - 1)), case.body
        return
    yield (_first_line(statement), _header_end(statement)), body
    for handler in getattr(statement, "handlers", ()):
        yield (handler.lineno, max(handler.lineno, handler.body[0].lineno - 1)), handler.body
    orelse = getattr(statement, "orelse", [])
    if orelse:
        is_elif = isinstance(orelse[0], ast.If) and len(orelse) == 1 and lines[orelse[0].lineno - 1].lstrip().startswith("elif")
        yield (None if is_elif else _keyword_line(lines, orelse[0], "else")), orelse
    finalbody = getattr(statement, "finalbody", [])
    if finalbody:
        yield _keyword_line(lines, finalbody[0], "finally"), finalbody


def _keyword_line(lines: List[str], first: ast.stmt, keyword: str) -> Optional[Tuple[int, int]]:
    """The `else:` or `finally:` line above a block, when it stands on its own line."""
    number = first.lineno - 1
    if number >= 1 and re.match(rf"\s*{keyword}\s*:", lines[number - 1]):
        return number, number
    return None


def _first_line(node: ast.AST) -> int:
    decorators = getattr(node, "decorator_list", [])
    return min([node.lineno] + [d.lineno for d in decorators])  # type: ignore[attr-defined]


def _header_end(statement: ast.AST) -> int:
    body = statement.body  # type: ignore[attr-defined]
    return max(statement.lineno, body[0].lineno - 1)  # type: ignore[attr-defined]
