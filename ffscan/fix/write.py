"""Write a fixed file: through a temporary file and `os.replace`, only if it did not change."""

from __future__ import annotations

import os
import stat
import tempfile
from typing import Optional

_BOM = b"\xef\xbb\xbf"


def write_atomically(fs_path: str, text: str, encoding: str, original: bytes, read_stat: os.stat_result) -> Optional[str]:
    """Write `text` in place of `fs_path`, keeping its mode, encoding and BOM; return why not,
    or None when written. A file whose bytes are no longer `original` is left as it is."""
    try:
        with open(fs_path, "rb") as handle:
            if handle.read() != original:
                return "the file changed since it was read; left as it was"
        encoded = text.encode(encoding)
    except (OSError, UnicodeEncodeError) as error:
        return f"cannot write: {error}"
    if original.startswith(_BOM) and not encoded.startswith(_BOM):
        encoded = _BOM + encoded
    directory = os.path.dirname(os.path.abspath(fs_path))
    try:
        handle_fd, temporary = tempfile.mkstemp(prefix=".ffscan-", suffix=".tmp", dir=directory)
    except OSError as error:  # a read-only directory: nothing was written
        return f"cannot write: {error.strerror or error}"
    try:
        with os.fdopen(handle_fd, "wb") as handle:
            handle.write(encoded)
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(temporary, stat.S_IMODE(read_stat.st_mode))
        os.replace(temporary, fs_path)
    except OSError as error:
        try:
            os.unlink(temporary)
        except OSError:
            pass  # already gone; the original is untouched either way
        return f"cannot write: {error.strerror or error}"
    return None
