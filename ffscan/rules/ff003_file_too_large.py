"""FF003 file-too-large: raised by the engine before any rule runs."""

from __future__ import annotations

from ffscan.model import Severity
from ffscan.rules.base import Rule


class FileTooLarge(Rule):
    """## What it does
    Finds files over the `max-file-size` limit (8 MiB by default), usually generated code.

    ## Why is this bad?
    A very large file takes most of a run's time and memory and is rarely written by hand. It is reported, not silently skipped, so that the run says what it did not cover.

    ## Example
    ```python
    # a 12 MB generated protobuf module
    ```

    ## Fix
    ```python
    [tool.ffscan]
    extend-exclude = ["generated/"]  # or raise max-file-size
    ```

    ## Fix safety
    No automatic fix: exclude the file or raise `max-file-size`.
    """

    code = "FF003"
    name = "file-too-large"
    subject = ("file too large to analyse", "files too large to analyse")
    message = "File is too large to analyse: {detail}"
    severity = Severity.ERROR
    risk = "Nothing in this file is checked for fire-and-forget bugs until it can be analysed."
