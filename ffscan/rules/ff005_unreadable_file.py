"""FF005 unreadable-file: raised by the engine before any rule runs."""

from __future__ import annotations

from ffscan.model import Severity
from ffscan.rules.base import Rule


class UnreadableFile(Rule):
    """## What it does
    Finds paths that cannot be read: permission denied, a broken symlink, a symlink loop, or a directory given where a file was expected.

    ## Why is this bad?
    A file that cannot be read is not checked. Reporting it keeps the run honest instead of crashing or skipping it silently.

    ## Example
    ```python
    $ chmod 000 app/tasks.py && ffscan check app/
    ```

    ## Fix
    ```python
    $ chmod 644 app/tasks.py && ffscan check app/
    ```

    ## Fix safety
    No automatic fix.
    """

    code = "FF005"
    name = "unreadable-file"
    subject = ("unreadable file", "unreadable files")
    message = "File cannot be read: {detail}"
    severity = Severity.ERROR
    risk = "Nothing in this file is checked for fire-and-forget bugs until it can be analysed."
