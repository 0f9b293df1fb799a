"""Fingerprints: one stable identity per finding, shared by SARIF, GitLab and the baseline.

A fingerprint is a SHA-256 of the rule code, the path (with `/` separators), the finding's
first source line with all whitespace removed, and how many identical (code, path, line text)
findings come before it in the file. Line numbers are left out on purpose: inserting lines
above a finding, or re-indenting it, does not make it "new"; editing its line does.
"""

from __future__ import annotations

import hashlib
import re
from typing import Dict, Iterable, List, Tuple

from ffscan.model import Finding

FINGERPRINT_KEY = "ffscan/v1"  # the scheme; SARIF's partialFingerprints key

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
