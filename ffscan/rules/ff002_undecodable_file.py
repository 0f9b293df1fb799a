"""FF002 undecodable-file: raised by the engine before any rule runs."""

from __future__ import annotations

from ffscan.model import Severity
from ffscan.rules.base import Rule


class UndecodableFile(Rule):
    """## What it does
    Finds files that are not valid text in their declared encoding (UTF-8 unless a PEP 263 cookie says otherwise), or that contain NUL bytes.

    ## Why is this bad?
    Python refuses to import such a file, and ffscan cannot read it, so nothing in it is checked. Mixed encodings usually come from a bad merge or a file saved by another tool.

    ## Example
    ```python
    # -*- coding: utf-8 -*-
    name = "caf\xe9"  # a Latin-1 byte in a UTF-8 file
    ```

    ## Fix
    ```python
    # -*- coding: utf-8 -*-
    name = "café"
    ```

    ## Fix safety
    No automatic fix: re-save the file in its declared encoding.
    """

    code = "FF002"
    name = "undecodable-file"
    subject = ("file that cannot be decoded", "files that cannot be decoded")
    message = "File cannot be decoded as Python source: {detail}"
    severity = Severity.ERROR
    risk = "Nothing in this file is checked for fire-and-forget bugs until it can be analysed."
