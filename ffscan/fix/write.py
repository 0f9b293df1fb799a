"""Write a fixed file: through a temporary file and `os.replace`, only if it did not change.

A symlink is written through: the file it points to gets the fix, the link stays a link. A
file with other hard links, or one that is read-only, is left as it is unless `force` is
given: a replaced file would drop out of its hard links (they would keep the old text), and a
read-only file says "do not edit" (with `force`, a hard-linked file is rewritten in place, so
every link sees the fix, and a read-only one is replaced and stays read-only).
"""

from __future__ import annotations

import os
import stat
import tempfile

_BOM = b"\xef\xbb\xbf"


class WriteRefused(Exception):
    """The fixed text was not written, and why. `is_failure`: the write was tried and failed
    (the CLI exits 2), rather than declined (the file's findings are left, exit 1)."""

    def __init__(self, reason: str, is_failure: bool = False) -> None:
        super().__init__(reason)
        self.reason = reason
        self.is_failure = is_failure


def write_fixed(fs_path: str, text: str, encoding: str, original: bytes, read_stat: os.stat_result, force: bool = False) -> None:
    """Write `text` in place of `fs_path`, keeping its mode, encoding and BOM, or raise
    WriteRefused. A file whose bytes are no longer `original` is left as it is."""
    target = os.path.realpath(fs_path)
    try:
        info = os.stat(target)
        with open(target, "rb") as handle:
            if handle.read() != original:
                raise WriteRefused("the file changed since it was read; left as it was")
    except OSError as error:
        raise WriteRefused(f"cannot write: {error.strerror or error}", is_failure=True) from None
    if not force:
        if info.st_nlink > 1:
            raise WriteRefused(
                f"has {info.st_nlink} hard links, which a rewritten file would no longer share; "
                "left as it was (--force-write rewrites it in place)"
            )
        if not info.st_mode & (stat.S_IWUSR | stat.S_IWGRP | stat.S_IWOTH) or not os.access(target, os.W_OK):
            raise WriteRefused("is read-only; left as it was (--force-write writes it anyway)")
    try:
        encoded = encode_like(text, encoding, original)
    except UnicodeEncodeError as error:
        raise WriteRefused(f"cannot write: the fixed text cannot be encoded as {encoding} ({error.reason})", is_failure=True) from None
    if info.st_nlink > 1:
        _write_in_place(target, encoded)
    else:
        _replace(target, encoded, stat.S_IMODE(read_stat.st_mode))


def encode_like(text: str, encoding: str, original: bytes) -> bytes:
    """`text` in the encoding of `original`, with its UTF-8 BOM if it had one."""
    encoded = text.encode(encoding)
    if original.startswith(_BOM) and not encoded.startswith(_BOM):
        encoded = _BOM + encoded
    return encoded


def _write_in_place(target: str, encoded: bytes) -> None:
    try:
        with open(target, "r+b") as handle:
            handle.write(encoded)
            handle.truncate()
            handle.flush()
            os.fsync(handle.fileno())
    except OSError as error:
        raise WriteRefused(f"cannot write: {error.strerror or error}", is_failure=True) from None


def _replace(target: str, encoded: bytes, mode: int) -> None:
    directory = os.path.dirname(target)
    try:
        handle_fd, temporary = tempfile.mkstemp(prefix=".ffscan-", suffix=".tmp", dir=directory)
    except OSError as error:  # a read-only directory: nothing was written
        raise WriteRefused(f"cannot write: {error.strerror or error}", is_failure=True) from None
    try:
        with os.fdopen(handle_fd, "wb") as handle:
            handle.write(encoded)
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(temporary, mode)
        os.replace(temporary, target)
    except OSError as error:
        try:
            os.unlink(temporary)
        except OSError:
            pass  # already gone; the original is untouched either way
        raise WriteRefused(f"cannot write: {error.strerror or error}", is_failure=True) from None
