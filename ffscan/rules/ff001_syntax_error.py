"""FF001 syntax-error: raised by the engine before any rule runs."""

from __future__ import annotations

from ffscan.model import Severity
from ffscan.rules.base import Rule


class UnparsableFile(Rule):
    """## What it does
    Finds files that Python cannot parse, including Python 2 code.

    ## Why is this bad?
    A file that does not parse cannot be checked, so every bug in it is invisible to ffscan; it also fails at import time in production. Reporting it (instead of crashing or skipping quietly) keeps a run honest about what it covered.

    ## Example
    ```python
    def handler(request)
        return 1
    ```

    ## Fix
    ```python
    def handler(request):
        return 1
    ```

    ## Fix safety
    No automatic fix: the file's author decides what the code meant.
    """

    code = "FF001"
    name = "syntax-error"
    subject = ("file that does not parse", "files that do not parse")
    message = "File does not parse: {detail}"
    severity = Severity.ERROR
    risk = "Nothing in this file is checked for fire-and-forget bugs until it can be analysed."
