"""FF004 too-deeply-nested: raised by the engine before any rule runs."""

from __future__ import annotations

from ffscan.model import Severity
from ffscan.rules.base import Rule


class TooDeeplyNested(Rule):
    """## What it does
    Finds files whose expressions or blocks are nested beyond what Python's parser or ffscan's recursive analysis can follow.

    ## Why is this bad?
    Such code (often generated: thousands of chained operators or nested brackets) makes parsers and linters hit recursion limits. ffscan reports the file and goes on with the rest of the run instead of crashing.

    ## Example
    ```python
    x = -(-(-(-(...2,000 levels...))))
    ```

    ## Fix
    ```python
    x = compute()  # build deep structures at run time, not in source
    ```

    ## Fix safety
    No automatic fix.
    """

    code = "FF004"
    name = "too-deeply-nested"
    subject = ("file nested too deeply to analyse", "files nested too deeply to analyse")
    message = "File is nested too deeply to analyse: {detail}"
    severity = Severity.ERROR
    risk = "Nothing in this file is checked for fire-and-forget bugs until it can be analysed."
