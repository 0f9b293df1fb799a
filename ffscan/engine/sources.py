"""Read and decode one source file; anything that stops analysis becomes an `Unanalysable`."""

from __future__ import annotations

import ast
import hashlib
import io
import os
import re
import stat
import sys
import tokenize
from dataclasses import dataclass, field
from typing import Optional, Tuple

from ffscan.engine.newer_syntax import Downgrade, downgrade
from ffscan.model import LINE_BREAK


@dataclass(frozen=True)
class SourceFile:
    path: str  # as shown to users: relative to the project root where possible
    text: str
    lines: Tuple[str, ...]  # without line endings
    encoding: str
    newline: str  # the file's first line ending, kept by fixes
    # Why Python would refuse these bytes (text then holds replacement characters); raised
    # by parse_source so the file becomes an FF002 finding.
    problem: Optional["Unanalysable"] = field(default=None, compare=False)

    def line(self, number: int) -> str:
        return self.lines[number - 1] if 0 < number <= len(self.lines) else ""


class Unanalysable(Exception):
    """Why a file cannot be analysed; becomes an FF0xx finding on that file."""

    def __init__(self, code: str, detail: str, line: int = 1, column: int = 1) -> None:
        super().__init__(detail)
        self.code = code
        self.detail = detail
        self.line = line
        self.column = column


SYNTAX_ERROR = "FF001"
UNDECODABLE = "FF002"
TOO_LARGE = "FF003"
TOO_DEEP = "FF004"
UNREADABLE = "FF005"


def content_digest(data: bytes) -> str:
    """What the cache knows a file's content by."""
    return hashlib.blake2b(data, digest_size=16).hexdigest()


def read_bytes(fs_path: str, max_size: int) -> bytes:
    """Read and size-check `fs_path`; raise Unanalysable with the reason."""
    try:
        info = os.stat(fs_path)
        if stat.S_ISDIR(info.st_mode):
            raise Unanalysable(UNREADABLE, "is a directory, not a file")
        if not stat.S_ISREG(info.st_mode):  # a FIFO or device would block or never end
            raise Unanalysable(UNREADABLE, "is not a regular file")
        size = info.st_size
        if size > max_size:
            raise Unanalysable(
                TOO_LARGE, f"{size:,} bytes is over the {max_size:,}-byte limit (`max-file-size`)"
            )
        with open(fs_path, "rb") as handle:
            data = handle.read(max_size + 1)
    except IsADirectoryError:
        raise Unanalysable(UNREADABLE, "is a directory, not a file") from None
    except OSError as error:
        raise Unanalysable(UNREADABLE, describe_os_error(error)) from None
    if len(data) > max_size:  # grew since stat
        raise Unanalysable(TOO_LARGE, f"over the {max_size:,}-byte limit (`max-file-size`)")
    return data


def describe_os_error(error: OSError) -> str:
    if isinstance(error, FileNotFoundError):
        return "does not exist (a broken symlink?)"
    if isinstance(error, PermissionError):
        return "cannot be read: permission denied"
    if error.errno == 40:  # ELOOP
        return "is a symlink loop"
    return f"cannot be read: {error.strerror or error}"


def decode_source(data: bytes, display_path: str) -> SourceFile:
    """Decode as Python does (BOM, PEP 263 cookie, else UTF-8).

    Never raises: bytes Python would refuse (NUL bytes, UTF-16, an unknown or wrong encoding)
    are decoded with replacement characters and the reason is kept in `problem`, which
    `parse_source` raises, so the FF002 finding can show the offending line.
    """
    encoding = "utf-8"
    try:
        encoding = _check_bytes(data)
        text = data.decode(encoding)
        problem = None
    except Unanalysable as found:
        problem = found
        text = data.decode(encoding, errors="replace")
    if text.startswith("\ufeff"):
        text = text[1:]
    return SourceFile(
        path=display_path,
        text=text,
        lines=split_lines(text),
        encoding=encoding,
        newline=_first_newline(text),
        problem=problem,
    )


def _check_bytes(data: bytes) -> str:
    """The encoding Python would use for `data`; raise Unanalysable where Python would refuse it."""
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        raise Unanalysable(UNDECODABLE, "is UTF-16 (it starts with a UTF-16 byte order mark); Python source must be UTF-8")
    nul = data.find(b"\0")
    if nul != -1:
        line, column = _line_and_column(data, nul, "utf-8")
        raise Unanalysable(UNDECODABLE, "contains a NUL byte, so it is not Python source", line, column)
    try:
        encoding, _ = tokenize.detect_encoding(io.BytesIO(data).readline)
    except SyntaxError as error:
        # detect_encoding reads the first two lines; bytes there that are not UTF-8 (and no
        # cookie) give "invalid or missing encoding declaration": name the byte instead.
        if str(error).startswith("invalid or missing encoding declaration"):
            _raise_first_undecodable(data, "utf-8")
        raise Unanalysable(UNDECODABLE, str(error).split(" for ", 1)[0].split(" (", 1)[0]) from None
    try:
        data.decode(encoding)
    except UnicodeDecodeError:
        _raise_first_undecodable(data, encoding)
    except LookupError:  # detect_encoding checks the name; a codec can still fail to load
        raise Unanalysable(UNDECODABLE, f"declares an unknown encoding {encoding!r}") from None
    return encoding


def split_lines(text: str) -> Tuple[str, ...]:
    """Lines as Python counts them: only \\n, \\r\\n and \\r end a line.

    `str.splitlines` also splits at form feeds, U+2028 and other separators that Python's
    tokenizer keeps inside a line, which would shift every line number after them.
    """
    lines = text.split("\n") if "\r" not in text else LINE_BREAK.split(text)  # the plain split is 4x faster
    if lines and lines[-1] == "":
        lines.pop()
    return tuple(lines)


def _raise_first_undecodable(data: bytes, encoding: str) -> None:
    """Raise Unanalysable naming the first byte that is not valid `encoding`, and its line."""
    skip = 0
    if encoding == "utf-8-sig":  # its error offsets do not count the BOM: decode past it
        encoding, skip = "utf-8", 3 if data.startswith(b"\xef\xbb\xbf") else 0
    try:
        data[skip:].decode(encoding)
    except UnicodeDecodeError as error:
        offset = skip + error.start
        line, column = _line_and_column(data, offset, encoding)
        raise Unanalysable(
            UNDECODABLE, f"byte 0x{data[offset]:02x} on line {line} is not valid {encoding}", line, column
        ) from None
    raise Unanalysable(UNDECODABLE, f"not valid {encoding}")


def _line_and_column(data: bytes, offset: int, encoding: str) -> Tuple[int, int]:
    """1-based line and character column of byte `offset` (lines end at \\n, \\r\\n or \\r)."""
    line_start = max(data.rfind(b"\n", 0, offset), data.rfind(b"\r", 0, offset)) + 1
    line = len(LINE_BREAK.findall(data[:line_start].decode("latin-1"))) + 1
    prefix = data[line_start:offset]
    if line == 1 and prefix.startswith(b"\xef\xbb\xbf"):
        prefix = prefix[3:]
    return line, len(prefix.decode(encoding, errors="replace")) + 1


def _first_newline(text: str) -> str:
    index = text.find("\n")
    if index > 0 and text[index - 1] == "\r":
        return "\r\n"
    if index == -1 and "\r" in text:
        return "\r"
    return "\n"


class NeedsNewerPython(Exception):
    """The file parses, but only on a newer Python than the one running ffscan: not a bug of the
    project, so it becomes a notice (never a finding) saying which Python would parse it."""

    def __init__(self, found: Downgrade) -> None:
        newest = found.newest()
        required = f"{found.version[0]}.{found.version[1]}"
        super().__init__(
            f"not checked: {newest.what} needs Python {required} and ffscan runs on {_version(RUNNING)}; "
            f"run ffscan on Python {required} or newer to check this file"
        )
        self.required = required
        self.line = newest.line
        self.column = newest.column


RUNNING = (sys.version_info[0], sys.version_info[1])
_ADDED_IN = re.compile(r"Python (\d+)\.(\d+) and (?:greater|newer)")


def parse_source(source: SourceFile, target: Optional[Tuple[int, int]] = None, target_source: str = "") -> ast.Module:
    """Parse with `ast`, as the `target` Python would (the project's oldest, when known).

    Undecodable bytes, a syntax error, syntax newer than `target` or overwhelming nesting raise
    Unanalysable; syntax that only a Python newer than this one parses, within `target`, raises
    NeedsNewerPython.
    """
    if source.problem is not None:
        raise source.problem
    strict = target if target is not None and target < RUNNING else None
    try:
        return _parse(source, source.text, strict)
    except SyntaxError as error:
        failure = error
    found = downgrade(source.text, RUNNING)
    text = found.text if found is not None else source.text
    if found is None and strict is None:
        raise _syntax_error(source, failure)
    try:
        _parse(source, text, None)
    except SyntaxError as error:  # still fails with the newer constructs rewritten: a real error
        raise _syntax_error(source, error) from None
    if strict is not None:
        try:
            _parse(source, text, strict)
        except SyntaxError as error:  # this Python's parser knows the construct is newer than the target
            added = _ADDED_IN.search(error.msg or "")
            detail = (error.msg or "invalid syntax").rstrip(".")
            if added is None:
                raise _syntax_error(source, error) from None
            raise Unanalysable(SYNTAX_ERROR, f"{detail}; {_target(target, target_source)}", *_position(source, error)) from None
    too_new = [c for c in found.constructs if target is not None and c.version > target] if found else []
    if too_new:
        construct = too_new[0]
        detail = f"{construct.what} needs Python {_version(construct.version)}; {_target(target, target_source)}"
        raise Unanalysable(SYNTAX_ERROR, detail, construct.line, construct.column)
    if found is None:  # not reached: strict parsing fails the same way twice
        raise _syntax_error(source, failure)
    raise NeedsNewerPython(found)


def _parse(source: SourceFile, text: str, feature: Optional[Tuple[int, int]]) -> ast.Module:
    try:
        return ast.parse(text, filename=source.path, type_comments=False, feature_version=feature)
    except SyntaxError as error:
        if "too many nested" in (error.msg or ""):
            raise Unanalysable(TOO_DEEP, error.msg, error.lineno or 1) from None
        raise
    except (RecursionError, MemoryError):
        raise Unanalysable(TOO_DEEP, "nested too deeply for Python's parser") from None
    except ValueError as error:  # e.g. source that still holds a lone surrogate
        raise Unanalysable(UNDECODABLE, str(error)) from None


def _syntax_error(source: SourceFile, error: SyntaxError) -> Unanalysable:
    detail = error.msg or "invalid syntax"
    line, column = _position(source, error)
    if "Python 2" not in detail and _looks_like_python2(source.line(line)):
        detail += " (Python 2 code?)"
    return Unanalysable(SYNTAX_ERROR, detail, line, column)


def _position(source: SourceFile, error: SyntaxError) -> Tuple[int, int]:
    line = error.lineno or 1
    return line, _character_column(source, line, error.offset) if error.offset else 1


def _version(version: Tuple[int, int]) -> str:
    return f"{version[0]}.{version[1]}"


def _target(target: Tuple[int, int], target_source: str) -> str:
    return f"the target is Python {_version(target)}" + (f" ({target_source})" if target_source else "")


_PYTHON2 = re.compile(
    r"""^\s*print\s+[^\s(=.,)\]]"""  # print statement
    r"""|^\s*print\s*$"""
    r"""|^\s*exec\s+["'\w]"""  # exec statement
    r"""|\bexcept\s*\(?[\w.]+(\s*,\s*[\w.]+)*\)?\s*,\s*\w+\s*:"""  # except E, e:
    r"""|^\s*raise\s+[\w.]+\s*,"""  # raise E, "message"
    r"""|`[^`]*`"""  # backtick repr
    r"""|<>"""
    r"""|\b0[0-7]+\b"""  # 0777 octal
    r"""|\b\d+[lL]\b"""  # 10L long literal
    r"""|\bur["']"""
)


def _looks_like_python2(line: str) -> bool:
    """Whether the line holding a syntax error has a Python 2 only construct."""
    return bool(_PYTHON2.search(line.split("#", 1)[0] if "#" in line and "`" not in line else line))


def _character_column(source: SourceFile, line: int, offset: int) -> int:
    """SyntaxError.offset is already in characters for str input; clamp it to the line."""
    return max(1, min(offset, len(source.line(line)) + 1))
