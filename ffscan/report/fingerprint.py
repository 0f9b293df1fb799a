"""Fingerprints: one stable identity per finding, shared by SARIF, GitLab, the baseline, the
JSON report and the tickets; and the id of the ticket a finding is filed in.

A fingerprint is a SHA-256 of the rule code, the path (with `/` separators), the finding's
first source line with all whitespace removed, and how many identical (code, path, line text)
findings come before it in the file. Line numbers are left out on purpose: inserting lines
above a finding, or re-indenting it, does not make it "new"; editing its line does.

A ticket is the function (or the module level of a file) its findings are in, so its id is a
hash of the path and that function's qualified name: fixing some of its findings, or moving
the function down the file, keeps the id of what is left.
"""

from __future__ import annotations

import hashlib
import re
from typing import Dict, Iterable, List, Tuple

from ffscan.model import Finding

FINGERPRINT_KEY = "ffscan/v1"  # the scheme; SARIF's partialFingerprints key
TICKET_PREFIX = "FFSCAN-"
TICKET_DIGITS = 8  # hex digits: 32 bits, enough to tell one project's tickets apart

_WHITESPACE = re.compile(r"\s+")


def fingerprints_for(findings: Iterable[Finding]) -> List[str]:
    """One fingerprint per finding, in the order given (which should be the sorted order).

    A finding that already carries one (set where the run's full set of findings was known,
    as a baseline does before it hides some) keeps it, so a subset reports the same values.
    """
    seen: Dict[Tuple[str, str, str], int] = {}
    prints = []
    for finding in findings:
        text = _WHITESPACE.sub("", finding.source_lines[0]) if finding.source_lines else ""
        key = (finding.code, finding.path, text)
        occurrence = seen.get(key, 0)
        seen[key] = occurrence + 1
        if finding.fingerprint:
            prints.append(finding.fingerprint)
            continue
        material = "\0".join((finding.code, posix_path(finding.path), text, str(occurrence)))
        prints.append(hashlib.sha256(material.encode("utf-8")).hexdigest())
    return prints


def posix_path(path: str) -> str:
    return path.replace("\\", "/")


def ticket_id(path: str, enclosing: str) -> str:
    """`FFSCAN-` and 8 hex digits, from the file and the function the ticket is about."""
    material = "\0".join(("ticket", posix_path(path), enclosing))
    return TICKET_PREFIX + hashlib.sha256(material.encode("utf-8")).hexdigest()[:TICKET_DIGITS]
