"""Syntax newer than the running Python: find it, and rewrite it to older syntax to see what is left.

A file that the running Python cannot parse may be valid on a newer one (a `type` statement
on 3.11, say). To tell that from a real syntax error, `downgrade` finds every construct that
only a newer Python accepts and rewrites it, in place and keeping every other character where
it was, to something the running Python does parse (`type X[T] = ...` becomes `X        = ...`,
an f-string that reuses its quotes becomes a blank string). If the rewritten text then
parses, the file is valid on the newest Python any construct needs; if it still fails, the
error is real, and its line and column are the original file's.

Standard library only, no ffscan imports: the tests load this module into older and newer
interpreters and compare its answers with what their own parsers accept.
"""

from __future__ import annotations

import io
import keyword
import sys
import tokenize
from dataclasses import dataclass
from typing import List, Optional, Sequence, Tuple

Version = Tuple[int, int]

# Soft keywords are NAME tokens; only hard keywords can never be a name.
_HARD_KEYWORDS = frozenset(keyword.kwlist)
_STRING_PREFIXES = frozenset(
    "".join(p) for p in (
        "", "r", "u", "b", "br", "rb", "f", "fr", "rf", "t", "tr", "rt",
    )
)
_COMPOUND = frozenset({"if", "elif", "else", "while", "for", "try", "except", "finally", "with", "def", "class", "async"})


@dataclass(frozen=True)
class Construct:
    """One use of syntax that only `version` and later parse, at a 1-based line and column."""

    version: Version
    what: str
    line: int
    column: int


@dataclass(frozen=True)
class Downgrade:
    constructs: Tuple[Construct, ...]  # in source order
    text: str  # the source with each construct rewritten to older syntax, same length and lines

    @property
    def version(self) -> Version:
        """The oldest Python that parses every construct."""
        return max(c.version for c in self.constructs)

    def newest(self) -> Construct:
        """The first construct that needs `version`."""
        return next(c for c in self.constructs if c.version == self.version)


def downgrade(text: str, running: Optional[Version] = None) -> Optional[Downgrade]:
    """The constructs of `text` newer than `running` (default: this Python), rewritten; or None."""
    running = running or (sys.version_info[0], sys.version_info[1])
    buffer = _Buffer(text)
    found: List[Construct] = []
    strings = _scan_strings(text)
    if strings is None:  # a string that no Python lexes: a real error, nothing to downgrade
        return None
    for start, end, version, what in strings:
        if version > running and buffer.blank_string(start, end):
            found.append(Construct(version, what, *buffer.line_column(start)))
    tokens = _tokens(buffer.text())
    if tokens is not None:
        found.extend(c for c in _TokenRules(tokens, buffer, running).run() if c.version > running)
    if not found:
        return None
    found.sort(key=lambda c: (c.line, c.column))
    return Downgrade(tuple(found), buffer.text())


# -- the buffer: same-length, line-preserving edits ---------------------------------------------


class _Buffer:
    def __init__(self, text: str) -> None:
        self.chars = list(text)
        self.line_starts = [0]
        for index, char in enumerate(text):
            if char == "\n" or (char == "\r" and text[index + 1 : index + 2] != "\n"):
                self.line_starts.append(index + 1)

    def text(self) -> str:
        return "".join(self.chars)

    def offset(self, line: int, column: int) -> int:
        """Offset of a tokenize position (1-based line, 0-based character column)."""
        return self.line_starts[line - 1] + column

    def line_column(self, offset: int) -> Tuple[int, int]:
        low, high = 0, len(self.line_starts) - 1
        while low < high:  # the last line start at or before offset
            middle = (low + high + 1) // 2
            if self.line_starts[middle] <= offset:
                low = middle
            else:
                high = middle - 1
        return low + 1, offset - self.line_starts[low] + 1

    def put(self, offset: int, replacement: str) -> None:
        self.chars[offset : offset + len(replacement)] = list(replacement)

    def blank(self, start: int, end: int, last: str = "") -> bool:
        """Spaces over [start, end), ending with `last`; line breaks stay, each continued by a
        backslash (the region may span lines inside brackets that are being removed)."""
        for index in range(start, end):
            if self.chars[index] not in "\r\n":
                self.chars[index] = " "
        for index in range(start, end):
            if self.chars[index] == "\n" or (self.chars[index] == "\r" and self.chars[index + 1 : index + 2] != ["\n"]):
                before = index - 1
                if self.chars[index] == "\n" and before >= 0 and self.chars[before] == "\r":
                    before -= 1
                if before < start or self.chars[before] != " ":
                    return False  # an empty line inside the region: nowhere to put the backslash
                self.chars[before] = "\\"
        if last:
            if self.chars[end - len(last) : end] != [" "] * len(last):
                return False
            self.put(end - len(last), last)
        return True

    def blank_string(self, start: int, end: int) -> bool:
        """Replace the string literal at [start, end) by a plain one of the same length and lines."""
        span = self.chars[start:end]
        if "\n" not in span and "\r" not in span:
            self.put(start, '"' + " " * (end - start - 2) + '"')
            return True
        if end - start < 6:
            return False
        for index in range(start + 3, end - 3):
            if self.chars[index] not in "\r\n":
                self.chars[index] = " "
        self.put(start, '"""')
        self.put(end - 3, '"""')
        return True


# -- strings: f-strings as Python 3.12 lexes them (PEP 701), and t-strings -------------------------


class _Incompatibility:
    """What keeps an f-string from being valid before 3.12, beyond where it ends."""

    def __init__(self) -> None:
        self.reason = ""


def _scan_strings(text: str) -> Optional[List[Tuple[int, int, Version, str]]]:
    """Every f-string needing 3.12 and every t-string (3.14), as (start, end, version, what)."""
    found = []
    index, length = 0, len(text)
    while index < length:
        char = text[index]
        if char == "#":
            index = _line_end(text, index)
            continue
        if char.isalpha() or char == "_" or ord(char) > 127 or char.isdigit():
            word_end = index
            while word_end < length and (text[word_end].isalnum() or text[word_end] == "_" or ord(text[word_end]) > 127):
                word_end += 1
            prefix = text[index:word_end].lower()
            if word_end < length and text[word_end] in "'\"" and prefix in _STRING_PREFIXES:
                scanned = _scan_literal(text, index, word_end, prefix)
                if scanned is None:
                    return None
                end, version, what = scanned
                if version is not None:
                    found.append((index, end, version, what))
                index = end
            else:
                index = word_end
            continue
        if char in "'\"":
            end = _plain_end(text, index, _quote_at(text, index))
            if end is None:
                return None
            index = end
            continue
        index += 1
    return found


def _scan_literal(text: str, start: int, quote_at: int, prefix: str):
    """(end, version or None, what) of the string literal whose prefix starts at `start`."""
    quote = _quote_at(text, quote_at)
    if "f" not in prefix and "t" not in prefix:
        end = _plain_end(text, quote_at, quote)
        return None if end is None else (end, None, "")
    flags = _Incompatibility()
    end = _fstring_end(text, quote_at + len(quote), quote, "r" in prefix, flags, 0)
    if end is None:
        return None
    if "t" in prefix:
        return end, (3, 14), "a t-string"
    if _plain_end(text, quote_at, quote) != end:
        flags.reason = flags.reason or "reuses its quotes inside a replacement field"
    if flags.reason:
        return end, (3, 12), f"an f-string that {flags.reason}"
    return end, None, ""


def _quote_at(text: str, index: int) -> str:
    char = text[index]
    return char * 3 if text.startswith(char * 3, index) else char


def _plain_end(text: str, quote_at: int, quote: str) -> Optional[int]:
    """Where a string ends as every Python before 3.12 lexes it (also plain strings on any)."""
    index, length = quote_at + len(quote), len(text)
    while index < length:
        if text.startswith(quote, index):
            return index + len(quote)
        char = text[index]
        if char == "\\":
            index += 2
            continue
        if char in "\r\n" and len(quote) == 1:
            return None
        index += 1
    return None


def _fstring_end(text: str, index: int, quote: str, raw: bool, flags: _Incompatibility, spec_depth: int) -> Optional[int]:
    """End of an f-string's literal part from `index` (just past its opening quote)."""
    length = len(text)
    while index < length:
        if text.startswith(quote, index):
            return index + len(quote)
        char = text[index]
        if char == "\\":
            following = text[index + 1 : index + 2]
            if not raw and following == "N" and text[index + 2 : index + 3] == "{":
                index = text.find("}", index) + 1 or length  # \N{NAME}: its braces are no field
            elif following in ("{", "}"):
                index += 1  # a backslash does not escape a brace: `\{x}` is a field after a backslash
            else:
                index += 2
        elif char in "\r\n" and len(quote) == 1:
            return None
        elif char == "{":
            if text.startswith("{{", index):
                index += 2
                continue
            index = _field_end(text, index + 1, quote, flags, spec_depth)
            if index is None:
                return None
        elif char == "}":
            if not text.startswith("}}", index):
                return None
            index += 2
        else:
            index += 1
    return None


def _field_end(text: str, index: int, quote: str, flags: _Incompatibility, spec_depth: int) -> Optional[int]:
    """End (past the `}`) of a replacement field whose expression starts at `index`."""
    depth, length = 0, len(text)
    while index < length:
        char = text[index]
        if char in "([{":
            depth += 1
            index += 1
        elif char in ")]":
            depth -= 1
            index += 1
            if depth < 0:
                return None
        elif char == "}":
            if depth == 0:
                return index + 1
            depth -= 1
            index += 1
        elif char == "#":
            flags.reason = flags.reason or "holds a comment"
            index = _line_end(text, index)
        elif char == "\\":
            flags.reason = flags.reason or "holds a backslash in a replacement field"
            index += 1
        elif char == ":" and depth == 0:
            return _spec_end(text, index + 1, quote, flags, spec_depth + 1)
        elif char == "!" and depth == 0 and not text.startswith("!=", index):
            index += 1
            while index < length and text[index].isalnum():
                index += 1
            if index < length and text[index] not in ":}":
                flags.reason = flags.reason or "has blanks after its `!` conversion"
        elif char in "'\"" or char.isalpha() or char == "_":
            word_end = index
            while word_end < length and (text[word_end].isalnum() or text[word_end] == "_"):
                word_end += 1
            prefix = text[index:word_end].lower()
            if word_end < length and text[word_end] in "'\"" and prefix in _STRING_PREFIXES:
                nested_quote = _quote_at(text, word_end)
                if "f" in prefix or "t" in prefix:
                    end = _fstring_end(text, word_end + len(nested_quote), nested_quote, "r" in prefix, flags, 0)
                else:
                    end = _plain_end(text, word_end, nested_quote)
                if end is None:
                    return None
                if "\\" in text[word_end:end]:
                    flags.reason = flags.reason or "holds a backslash in a replacement field"
                index = end
            else:
                index = max(word_end, index + 1)
        else:
            index += 1
    return None


def _spec_end(text: str, index: int, quote: str, flags: _Incompatibility, spec_depth: int) -> Optional[int]:
    """End (past the field's `}`) of a format spec, which may hold replacement fields."""
    if spec_depth >= 2:
        flags.reason = flags.reason or "nests format specs more than two deep"
    length = len(text)
    while index < length:
        if text.startswith(quote, index):
            return None
        char = text[index]
        if char == "{":
            index = _field_end(text, index + 1, quote, flags, spec_depth)
            if index is None:
                return None
        elif char == "}":
            return index + 1
        elif char == "\\":
            index += 2
        elif char in "\r\n" and len(quote) == 1:
            return None
        else:
            index += 1
    return None


def _line_end(text: str, index: int) -> int:
    while index < len(text) and text[index] not in "\r\n":
        index += 1
    return index


# -- statements and expressions, on tokens ------------------------------------------------------


def _tokens(text: str) -> Optional[List[tokenize.TokenInfo]]:
    try:
        return list(tokenize.generate_tokens(io.StringIO(text).readline))
    except (tokenize.TokenError, SyntaxError):  # EOF inside brackets, bad indentation: a real error
        return None


_SKIP = frozenset({tokenize.NL, tokenize.COMMENT, tokenize.INDENT, tokenize.DEDENT, tokenize.ENCODING})


class _TokenRules:
    """Each rule finds one construct in the token stream and rewrites it in the buffer."""

    def __init__(self, tokens: Sequence[tokenize.TokenInfo], buffer: _Buffer, running: Version) -> None:
        self.buffer = buffer
        self.running = running
        self.lines: List[List[tokenize.TokenInfo]] = []  # logical lines, significant tokens only
        current: List[tokenize.TokenInfo] = []
        for token in tokens:
            if token.type in _SKIP:
                continue
            if token.type in (tokenize.NEWLINE, tokenize.ENDMARKER):
                if current:
                    self.lines.append(current)
                current = []
                continue
            current.append(token)
        if current:
            self.lines.append(current)
        self.found: List[Construct] = []
        self.taken: List[Tuple[int, int]] = []  # offset ranges already rewritten by a rule

    def run(self) -> List[Construct]:
        for number, line in enumerate(self.lines):
            for start in self._statement_starts(line):
                self._type_alias(line, start)
                self._lazy_import(line, start)
            if self.running < (3, 10):
                self._match(number)
            for index, token in enumerate(line):
                if self._taken(token):
                    continue
                if token.type == tokenize.NAME and token.string in ("def", "class"):
                    self._generic(line, index)
                elif token.type == tokenize.NAME and token.string == "except":
                    self._except(line, index)
                elif token.type == tokenize.OP and token.string in "([{":
                    self._bracket(line, index)
        return self.found

    # helpers

    def _taken(self, token: tokenize.TokenInfo) -> bool:
        offset = self._offset(token)
        return any(start <= offset < end for start, end in self.taken)

    def _offset(self, token: tokenize.TokenInfo, end: bool = False) -> int:
        line, column = token.end if end else token.start
        return self.buffer.offset(line, column)

    def _report(self, version: Version, what: str, token: tokenize.TokenInfo) -> None:
        self.found.append(Construct(version, what, token.start[0], token.start[1] + 1))

    @staticmethod
    def _is(token: tokenize.TokenInfo, kind: int, string: Optional[str] = None) -> bool:
        return token.type == kind and (string is None or token.string == string)

    @staticmethod
    def _closing(line: Sequence[tokenize.TokenInfo], opening: int) -> Optional[int]:
        depth = 0
        for index in range(opening, len(line)):
            string = line[index].string if line[index].type == tokenize.OP else ""
            if string in ("(", "[", "{"):
                depth += 1
            elif string in (")", "]", "}"):
                depth -= 1
                if depth == 0:
                    return index
        return None

    @staticmethod
    def _top_level(line: Sequence[tokenize.TokenInfo], start: int, stop: int) -> List[int]:
        """Indexes in [start, stop) at bracket depth 0 relative to `start`."""
        depth, indexes = 0, []
        for index in range(start, stop):
            string = line[index].string if line[index].type == tokenize.OP else ""
            if string in (")", "]", "}"):
                depth -= 1
            if depth == 0:
                indexes.append(index)
            if string in ("(", "[", "{"):
                depth += 1
        return indexes

    def _statement_starts(self, line: Sequence[tokenize.TokenInfo]) -> List[int]:
        starts = [0]
        compound = line[0].type == tokenize.NAME and line[0].string in _COMPOUND
        seen_colon = False
        for index in self._top_level(line, 0, len(line)):
            token = line[index]
            if token.type != tokenize.OP or index + 1 >= len(line):
                continue
            if token.string == ";" or (token.string == ":" and compound and not seen_colon):
                starts.append(index + 1)
            if token.string == ":":
                seen_colon = True
        return starts

    # PEP 695 / 696: `type X[T] = ...`, `def f[T](...)`, `class C[T]:`

    def _type_alias(self, line, start: int) -> None:
        if start + 2 >= len(line) or not self._is(line[start], tokenize.NAME, "type"):
            return
        name, after = line[start + 1], line[start + 2]
        if name.type != tokenize.NAME or name.string in _HARD_KEYWORDS or after.string not in ("=", "["):
            return
        parameters = None
        if after.string == "[":
            parameters = self._type_parameters(line, start + 2)
            closing = self._closing(line, start + 2)
            if parameters is None or closing is None or closing + 1 >= len(line) or line[closing + 1].string != "=":
                return
            self._blank_parameters(line, start + 2, parameters, alias=True)
        if self.running < (3, 12):
            head = self._offset(line[start])
            self.buffer.put(head, name.string.ljust(self._offset(name, end=True) - head))
            self._report((3, 12), "a `type` alias statement", line[start])

    def _generic(self, line, index: int) -> None:
        """`def f[T]` / `class C[T]` at the `def` or `class` token `index`; star annotations of a def."""
        if index + 2 >= len(line) or line[index + 1].type != tokenize.NAME:
            return
        opening = index + 2
        parameters = self._type_parameters(line, opening)
        if parameters is not None:
            self._blank_parameters(line, opening, parameters)
            opening = self._closing(line, opening) + 1
        if line[index].string == "def" and opening < len(line) and line[opening].string == "(":
            self._star_annotations(line, opening)

    def _star_annotations(self, line, opening: int) -> None:
        """PEP 646 (3.11): `*args: *Ts` in the parameter list opening at `opening`."""
        closing = self._closing(line, opening)
        if closing is None:
            return
        for index in self._top_level(line, opening + 1, closing):
            if (
                line[index].string == "*"
                and index >= opening + 4
                and line[index - 1].string == ":"
                and line[index - 2].type == tokenize.NAME
                and line[index - 3].string == "*"
            ):
                self.buffer.put(self._offset(line[index]), " ")
                self._report((3, 11), "a star annotation", line[index])

    def _type_parameters(self, line, opening: int) -> Optional[Version]:
        """The version a type parameter list at `opening` needs (3.13 with defaults), if it is one."""
        if opening >= len(line) or not self._is(line[opening], tokenize.OP, "["):
            return None
        closing = self._closing(line, opening)
        if closing is None or closing == opening + 1:
            return None
        top = set(self._top_level(line, opening + 1, closing))
        version = (3, 12)
        items, item = [], []
        for index in range(opening + 1, closing):
            if index in top and line[index].string == ",":
                items.append(item)
                item = []
            else:
                item.append(index)
        items.append(item)
        for item in filter(None, items):
            tokens = [line[i] for i in item]
            stars = 1 if tokens[0].string in ("*", "**") else 0
            if stars >= len(tokens) or tokens[stars].type != tokenize.NAME or tokens[stars].string in _HARD_KEYWORDS:
                return None
            if len(tokens) > stars + 1 and tokens[stars + 1].string not in (":", "="):
                return None
            if any(i in top and line[i].string == "=" for i in item):
                version = (3, 13)
        return version

    def _blank_parameters(self, line, opening: int, version: Version, alias: bool = False) -> None:
        """Blank a type parameter list; report it, unless it is an alias's (the statement is reported)
        and needs no more than the statement does."""
        if version <= self.running:
            return
        closing = self._closing(line, opening)
        start, end = self._offset(line[opening]), self._offset(line[closing], end=True)
        if self.buffer.blank(start, end):
            self.taken.append((start, end))
            if version == (3, 13):
                self._report(version, "a type parameter default", line[opening])
            elif not alias:
                self._report(version, "a type parameter list", line[opening])

    # PEP 810 (3.15): `lazy import x`, `lazy from x import y`

    def _lazy_import(self, line, start: int) -> None:
        if start + 1 >= len(line) or not self._is(line[start], tokenize.NAME, "lazy"):
            return
        keyword_token = line[start + 1]
        if not (keyword_token.type == tokenize.NAME and keyword_token.string in ("import", "from")):
            return
        head = self._offset(line[start])
        width = self._offset(keyword_token, end=True) - head
        self.buffer.put(head, keyword_token.string.ljust(width))
        self._report((3, 15), "a `lazy` import", line[start])

    # PEP 654 (3.11) `except*`; PEP 758 (3.14) `except A, B:` without parentheses

    def _except(self, line, index: int) -> None:
        cursor = index + 1
        if cursor < len(line) and self._is(line[cursor], tokenize.OP, "*"):
            self.buffer.put(self._offset(line[cursor]), " ")
            self._report((3, 11), "`except*`", line[index])
            cursor += 1
        top = [i for i in self._top_level(line, cursor, len(line))]
        colon = next((i for i in top if line[i].string == ":"), None)
        if colon is None:
            return
        header = [i for i in top if i < colon]
        commas = [i for i in header if line[i].string == ","]
        if commas and not any(self._is(line[i], tokenize.NAME, "as") for i in header):
            for comma in commas:
                self.buffer.put(self._offset(line[comma]), "|")
            self._report((3, 14), "exception types without parentheses", line[index])

    # PEP 634 (3.10): `match` statements, for Python 3.9

    def _match(self, number: int) -> None:
        line = self.lines[number]
        if not self._is(line[0], tokenize.NAME, "match") or len(line) < 3 or line[1].string in ("=", ".", ":"):
            return
        top = self._top_level(line, 0, len(line))
        colons = [i for i in top if line[i].string == ":"]
        if not colons or colons[0] != len(line) - 1 or number + 1 >= len(self.lines):
            return
        indent = line[0].start[1]
        first_case = self.lines[number + 1]
        case_indent = first_case[0].start[1]
        if case_indent <= indent or not self._is(first_case[0], tokenize.NAME, "case"):
            return
        cases = []
        for case in self.lines[number + 1 :]:
            if case[0].start[1] <= indent:
                break
            if case[0].start[1] != case_indent:
                continue
            case_top = self._top_level(case, 0, len(case))
            case_colon = next((i for i in case_top if case[i].string == ":"), None)
            if not self._is(case[0], tokenize.NAME, "case") or case_colon is None or case_colon < 2:
                return
            cases.append((case, case_colon))
        self.buffer.put(self._offset(line[0]), "with ")
        start, end = self._offset(line[1]), self._offset(line[colons[0]])
        self.buffer.blank(start, end, last="0")  # `with x,:` would not parse: the subject goes too
        self.taken.append((start, end))
        for case, case_colon in cases:
            self.buffer.put(self._offset(case[0]), "with")
            start, end = self._offset(case[1]), self._offset(case[case_colon])
            self.buffer.blank(start, end, last="0")
            self.taken.append((start, end))
        self._report((3, 10), "a `match` statement", line[0])

    # PEP 646 (3.11) `a[*b]` and `*args: *Ts`; PEP 798 (3.15) `[*x for x in y]`

    def _bracket(self, line, opening: int) -> None:
        closing = self._closing(line, opening)
        if closing is None:
            return
        inner = [i for i in self._top_level(line, opening + 1, closing)]
        before = line[opening - 1] if opening > 0 else None
        pattern_start = opening == 1 and before.string in ("case", "match")
        is_subscript = line[opening].string == "[" and before is not None and not pattern_start and (
            (before.type == tokenize.NAME and before.string not in _HARD_KEYWORDS)
            or before.string in (")", "]")
            or before.type == tokenize.STRING
        )
        if is_subscript:
            for index in inner:
                previous = line[index - 1].string
                if line[index].string == "*" and (index == opening + 1 or previous == ","):
                    self.buffer.put(self._offset(line[index]), " ")
                    self._report((3, 11), "a star expression in an index", line[index])
                elif line[index].string == ":=":
                    self.buffer.put(self._offset(line[index]), "==")
                    self._report((3, 10), "an unparenthesized `:=` in an index", line[index])
            return
        starred = inner and line[inner[0]].string in ("*", "**")
        if starred and any(self._is(line[i], tokenize.NAME, "for") for i in inner):
            token = line[inner[0]]
            self.buffer.put(self._offset(token), " " * len(token.string))
            self._report((3, 15), "unpacking in a comprehension", token)
            return
