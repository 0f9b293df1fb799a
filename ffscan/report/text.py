"""The default terminal report, Ruff-like; the only module that imports rich.

    app/handlers.py:14:5: FF201 Task from `asyncio.create_task` is dropped; ...
       |
    13 |     order = await save(request)
    14 |     asyncio.create_task(send_receipt(order))
       |     ^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^ FF201
    15 |     return order
       |
       = help: Keep a reference to the task and report its failure
"""

from __future__ import annotations

import io
from typing import Iterator, List, Optional, Tuple

from rich.cells import cell_len
from rich.console import Console
from rich.text import Text

from ffscan.model import Finding, RuleInfo, RunResult
from ffscan.report import ReportContext
from ffscan.report.concise import statistics_lines, summary_line


def render(result: RunResult, context: ReportContext) -> str:
    buffer = io.StringIO()
    console = Console(
        file=buffer,
        force_terminal=context.color,
        no_color=not context.color,
        color_system="standard" if context.color else None,
        width=10_000,
        highlight=False,
        soft_wrap=True,
    )
    if context.statistics:
        for line in statistics_lines(result, context):
            console.print(Text(line))
    else:
        for finding in result.findings:
            for line in frame(finding, context.rules.get(finding.code), context.show_source):
                console.print(line)
    summary = summary_line(result, context)
    console.print(Text(summary, style="bold" if result.findings else "green"))
    return buffer.getvalue()


def frame(finding: Finding, rule: Optional[RuleInfo], show_source: bool) -> Iterator[Text]:
    header = Text()
    header.append(finding.path, style="bold")
    header.append(f":{finding.start.line}:{finding.start.column}: ", style="cyan")
    header.append(finding.code, style="bold red")
    header.append(f" {finding.message}")
    yield header
    if not show_source or not finding.source_lines:
        return
    lines: List[str] = list(finding.source_lines)
    first = finding.start.line
    gutter = len(str(first + min(len(lines), 3) - 1))
    yield Text(" " * gutter + " |", style="blue")
    for offset, line in enumerate(lines[:3]):
        number = first + offset
        row = Text(f"{number:>{gutter}} | ", style="blue")
        row.append(_displayed(line)[0])
        yield row
        caret_start, caret_end = _caret_span(finding, number, line)
        if caret_end > caret_start:
            marks = Text(" " * gutter + " | ", style="blue")
            marks.append(" " * caret_start)
            marks.append("^" * (caret_end - caret_start), style="bold red")
            if number == first:
                marks.append(f" {finding.code}", style="bold red")
            yield marks
    if len(lines) > 3:
        yield Text(" " * gutter + " | ...", style="blue")
    yield Text(" " * gutter + " |", style="blue")
    if finding.fix_title or (rule is not None and rule.fix_title):
        yield Text(" " * gutter + f" = help: {finding.fix_title or rule.fix_title}", style="cyan")
    yield Text("")


def _caret_span(finding: Finding, number: int, line: str) -> tuple:
    """Screen columns [start, end) to underline on source line `number`."""
    if number == finding.start.line:
        raw_start = finding.start.column - 1
    else:
        raw_start = len(line) - len(line.lstrip())
    raw_end = finding.end.column - 1 if number == finding.end.line else _code_end(line)
    if finding.start.line == finding.end.line and raw_end <= raw_start:
        raw_end = raw_start + 1  # a point (where parsing stopped): one caret
    return _screen_column(line, raw_start), max(_screen_column(line, raw_end), _screen_column(line, raw_start))


TAB_SIZE = 4


def _displayed(line: str) -> Tuple[str, List[int]]:
    """The line as shown (a tab moves to the next multiple of four columns) and the screen
    column each character starts at, plus the column past the end. Wide characters (CJK)
    take two columns, combining marks none, as a terminal shows them."""
    shown: List[str] = []
    columns: List[int] = []
    column = 0
    for char in line:
        columns.append(column)
        if char == "\t":
            width = TAB_SIZE - column % TAB_SIZE
            shown.append(" " * width)
        else:
            width = cell_len(char)
            shown.append(char)
        column += width
    columns.append(column)
    return "".join(shown), columns


def _screen_column(line: str, index: int) -> int:
    columns = _displayed(line)[1]
    if index <= len(line):
        return columns[index]
    return columns[-1] + index - len(line)


def _code_end(line: str) -> int:
    """Where the code on a line ends: before a trailing comment and trailing blanks."""
    quote = None
    index = 0
    while index < len(line):
        char = line[index]
        if quote:
            if char == "\\":
                index += 1
            elif line.startswith(quote, index):
                index += len(quote) - 1
                quote = None
        elif char in "\"'":
            quote = line[index : index + 3] if line[index : index + 3] in ('"""', "\'\'\'") else char
            index += len(quote) - 1
        elif char == "#":
            return len(line[:index].rstrip())
        index += 1
    return len(line.rstrip())


RULE_COLUMNS = ("Code", "Name", "Family", "Fixable", "Default", "Why off by default")


def render_rules_table(rules: List[RuleInfo], color: bool, plain: bool = False, width: int = 100) -> str:
    """`ffscan rules`: code, name, family, fixable, default, and why a rule is off. On a
    terminal a table `width` wide whose cells wrap between words (a code or name never
    breaks); through a pipe (`plain`) plain columns, one line per rule."""
    from ffscan.report.console import plain_table

    rows = [
        (
            rule.code,
            rule.name,
            rule.family.value,
            rule.fix_applicability.value if rule.fix_applicability else "-",
            "on" if rule.default_on else "off",
            rule.off_reason or "",
        )
        for rule in rules
    ]
    if plain:
        return plain_table(RULE_COLUMNS, rows)
    from rich.table import Table

    table = Table(show_lines=False, header_style="bold")
    for index, column in enumerate(RULE_COLUMNS):
        if column in ("Code", "Name", "Fixable", "Default"):
            widest = max([len(column), *(len(row[index]) for row in rows)])
            table.add_column(column, no_wrap=True, min_width=widest)  # squeezed, the others wrap
        else:
            table.add_column(column, overflow="fold")
    for row in rows:
        table.add_row(*(Text(cell) for cell in row))
    return _to_text(table, color, width)


def render_rule_doc(rule: RuleInfo, color: bool, width: int = 100) -> str:
    """`ffscan rule FF201` on a terminal: the rule's doc as rendered Markdown."""
    from rich.markdown import Markdown

    return _to_text(Markdown(rule.doc), color, width)


def _to_text(renderable, color: bool, width: int = 100) -> str:
    buffer = io.StringIO()
    console = Console(file=buffer, force_terminal=color, no_color=not color, width=width, highlight=False)
    console.print(renderable)
    return buffer.getvalue()
