"""Open documents and positions as the Language Server Protocol counts them.

LSP ends a line only at \\n, \\r\\n and \\r (as Python does, and unlike `str.splitlines`, which
also splits at form feeds and U+2028), and counts a position's character in the code units of
the negotiated encoding: UTF-16 unless client and server agreed on UTF-8 or UTF-32. Findings
count columns in characters (code points), so every position crosses this module.
"""

from __future__ import annotations

import bisect
from dataclasses import dataclass, field
from typing import Optional, Tuple

from ffscan.model import Location, line_starts

UTF8, UTF16, UTF32 = "utf-8", "utf-16", "utf-32"


def units(text: str, encoding: str) -> int:
    """How many code units of `encoding` `text` takes."""
    if encoding == UTF32:
        return len(text)
    if encoding == UTF8:
        return len(text.encode("utf-8", "surrogatepass"))
    return len(text) + sum(1 for char in text if ord(char) > 0xFFFF)  # a surrogate pair each


def _char_units(char: str, encoding: str) -> int:
    if encoding == UTF32:
        return 1
    if encoding == UTF8:
        return len(char.encode("utf-8", "surrogatepass"))
    return 2 if ord(char) > 0xFFFF else 1


@dataclass
class Document:
    """One open text document: its text as the editor holds it, and its version."""

    uri: str
    path: Optional[str]  # None for a document that is no file (an untitled buffer)
    text: str
    version: Optional[int] = None
    language_id: str = "python"
    _starts: Tuple[int, ...] = field(default=(), repr=False)

    def __post_init__(self) -> None:
        self._starts = line_starts(self.text)

    def replace(self, text: str, version: Optional[int]) -> None:
        self.text = text
        self._starts = line_starts(text)
        self.version = version

    def apply_change(self, start: Tuple[int, int], end: Tuple[int, int], new_text: str, encoding: str) -> None:
        """Replace the text between two LSP positions (line, character), both 0-based."""
        low = self.offset_at(start, encoding)
        high = max(low, self.offset_at(end, encoding))
        self.text = self.text[:low] + new_text + self.text[high:]
        self._starts = line_starts(self.text)

    def _line_bounds(self, line: int) -> Tuple[int, int]:
        """Offsets of the start of a 0-based line and of its end, before its line break."""
        start = self._starts[line]
        if line + 1 == len(self._starts):
            return start, len(self.text)  # the last line has no line break
        end = self._starts[line + 1]
        return start, end - (2 if self.text.endswith("\r\n", start, end) else 1)

    def offset_at(self, position: Tuple[int, int], encoding: str) -> int:
        """The index into the text of an LSP position; past the end of a line is its end (as
        the protocol says), past the last line is the end of the text."""
        line, character = position
        if line >= len(self._starts):
            return len(self.text)
        start, end = self._line_bounds(line)
        counted = 0
        offset = start
        while offset < end:
            width = _char_units(self.text[offset], encoding)
            if counted + width > character:
                break
            counted += width
            offset += 1
        return offset

    def position_at(self, offset: int, encoding: str) -> Tuple[int, int]:
        """The LSP position (0-based line, character in code units) of an index into the text."""
        offset = max(0, min(offset, len(self.text)))
        line = bisect.bisect_right(self._starts, offset) - 1
        return line, units(self.text[self._starts[line] : offset], encoding)

    def offset_of(self, location: Location) -> int:
        """The index into the text of a finding's position (1-based line and character column)."""
        if location.line - 1 >= len(self._starts):
            return len(self.text)
        start, end = self._line_bounds(location.line - 1)
        return min(start + location.column - 1, end)

    def position_of(self, location: Location, encoding: str) -> Tuple[int, int]:
        """The LSP position of a finding's position."""
        return self.position_at(self.offset_of(location), encoding)

    def location_at(self, position: Tuple[int, int], encoding: str) -> Location:
        """A finding-style position (1-based line and character column) of an LSP position."""
        offset = self.offset_at(position, encoding)
        line = bisect.bisect_right(self._starts, offset) - 1
        return Location(line + 1, offset - self._starts[line] + 1)

    def line_end(self, line: int) -> int:
        """The offset of the end of a 1-based line, before its line break."""
        if line - 1 >= len(self._starts):
            return len(self.text)
        return self._line_bounds(line - 1)[1]
