"""Apply a fix's text edits to a few source lines, to show the rewritten code in a ticket.

Pure and small on purpose: the report shows what a fix would write without importing the
fixer (`ffscan.fix` applies fixes to whole files, adds imports and verifies the result).
Positions are those of findings: 1-based lines, 1-based columns counted in characters.
"""

from __future__ import annotations

from typing import List, Sequence

from ffscan.model import Edit, Fix, Location


def apply_edits(lines: Sequence[str], first_line: int, edits: Sequence[Edit]) -> List[str]:
    """`lines` (the first of them is line `first_line`) with `edits` applied.

    Raises ValueError when an edit falls outside the lines. Edits are applied from the end,
    so insertions at one point keep their order, as the fixer applies them.
    """
    starts: List[int] = []
    offset = 0
    for line in lines:
        starts.append(offset)
        offset += len(line) + 1  # the "\n" they are joined with below

    def position(location: Location) -> int:
        index = location.line - first_line
        if not 0 <= index < len(lines) or not 1 <= location.column <= len(lines[index]) + 1:
            raise ValueError(f"{location.line}:{location.column} is outside lines {first_line}-{first_line + len(lines) - 1}")
        return starts[index] + location.column - 1

    spans = [(position(edit.start), position(edit.end), edit.content) for edit in edits]
    text = "\n".join(lines)
    for start, end, content in sorted(spans, key=lambda span: (span[0], span[1]), reverse=True):
        text = text[:start] + content + text[end:]
    return text.split("\n")


def touches(first: Fix, second: Fix) -> bool:
    """Whether the two fixes' spans overlap or touch: the fixer applies only one of them per pass."""
    (low, high), (other_low, other_high) = first.span, second.span
    return low <= other_high and other_low <= high
