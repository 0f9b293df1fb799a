"""Read and decode one source file; anything that stops analysis becomes an `Unanalysable`."""

from __future__ import annotations

import ast
import io
import os
import tokenize
from dataclasses import dataclass
from typing import Tuple


@dataclass(frozen=True)
class SourceFile:
    path: str  # as shown to users: relative to the project root where possible
    text: str
    lines: Tuple[str, ...]  # without line endings
    encoding: str
    newline: str  # the file's first line ending, kept by fixes

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


def read_source(fs_path: str, display_path: str, max_size: int) -> SourceFile:
    """Read, size-check and decode `fs_path`; raise Unanalysable with the reason."""
    try:
        size = os.stat(fs_path).st_size
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
    return decode_source(data, display_path)


def describe_os_error(error: OSError) -> str:
    if isinstance(error, FileNotFoundError):
        return "does not exist (a broken symlink?)"
    if isinstance(error, PermissionError):
        return "cannot be read: permission denied"
    if error.errno == 40:  # ELOOP
        return "is a symlink loop"
    return f"cannot be read: {error.strerror or error}"


def decode_source(data: bytes, display_path: str) -> SourceFile:
    """Decode as Python does (BOM, PEP 263 cookie, else UTF-8); refuse NUL bytes."""
    nul = data.find(b"\0")
    if nul != -1:
        line = data.count(b"\n", 0, nul) + 1
        raise Unanalysable(UNDECODABLE, "contains a NUL byte, so it is not Python source", line)
    try:
        encoding, _ = tokenize.detect_encoding(io.BytesIO(data).readline)
    except SyntaxError as error:
        raise Unanalysable(UNDECODABLE, str(error).split(" (", 1)[0]) from None
    try:
        text = data.decode(encoding)
    except UnicodeDecodeError as error:
        line = data.count(b"\n", 0, error.start) + 1
        raise Unanalysable(
            UNDECODABLE, f"byte 0x{data[error.start]:02x} is not valid {encoding}", line
        ) from None
    except LookupError:
        raise Unanalysable(UNDECODABLE, f"declares an unknown encoding {encoding!r}") from None
    if text.startswith("\ufeff"):
        text = text[1:]
    return SourceFile(
        path=display_path,
        text=text,
        lines=tuple(text.splitlines()),
        encoding=encoding,
        newline=_first_newline(text),
    )


def _first_newline(text: str) -> str:
    index = text.find("\n")
    if index > 0 and text[index - 1] == "\r":
        return "\r\n"
    if index == -1 and "\r" in text:
        return "\r"
    return "\n"


def parse_source(source: SourceFile) -> ast.Module:
    """Parse with `ast`; a syntax error or overwhelming nesting raises Unanalysable."""
    try:
        return ast.parse(source.text, filename=source.path, type_comments=False)
    except SyntaxError as error:
        detail = error.msg or "invalid syntax"
        if "too many nested" in detail:
            raise Unanalysable(TOO_DEEP, detail, error.lineno or 1) from None
        if _looks_like_python2(source.text) and "print" in detail:
            detail += " (Python 2 code?)"
        line = error.lineno or 1
        column = _character_column(source, line, error.offset) if error.offset else 1
        raise Unanalysable(SYNTAX_ERROR, detail, line, column) from None
    except (RecursionError, MemoryError):
        raise Unanalysable(TOO_DEEP, "nested too deeply for Python's parser") from None
    except ValueError as error:  # e.g. source that still holds a lone surrogate
        raise Unanalysable(UNDECODABLE, str(error)) from None


def _looks_like_python2(text: str) -> bool:
    return "print " in text or "except Exception, " in text


def _character_column(source: SourceFile, line: int, offset: int) -> int:
    """SyntaxError.offset is already in characters for str input; clamp it to the line."""
    return max(1, min(offset, len(source.line(line)) + 1))
