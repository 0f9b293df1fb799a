"""Baselines: adopt ffscan on a code base with findings already in it; only new ones fail CI.

`ffscan check --baseline PATH` writes the fingerprints of the run's findings to PATH when the
file does not exist (or with `--update-baseline`), and otherwise reports only the findings
whose fingerprint is not in it. Fingerprints are SARIF's (ffscan.report.fingerprint): they
leave line numbers out, so code moving up or down keeps matching, while an edited line is a
new finding. The file format is versioned JSON, documented in docs/baseline.md:

    {"version": 1, "fingerprint": "ffscan/v1", "tool": {"name": "ffscan", "version": "0.1.0"},
     "findings": [{"fingerprint": "<64 hex>", "code": "FF201", "path": "app/jobs.py",
                   "line": 9, "message": "..."}]}

Only `fingerprint` is matched; the other keys are there for the person reviewing the file.
"""

from __future__ import annotations

import json
import os
import re
import tempfile
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, Dict, FrozenSet, List, Optional

from ffscan.model import Finding, RunResult
from ffscan.report.fingerprint import FINGERPRINT_KEY, fingerprints_for

VERSION = 1
_HEX64 = re.compile(r"[0-9a-f]{64}")


class BaselineError(Exception):
    """A baseline file that cannot be read or written; the CLI exits 2 with this message."""


@dataclass(frozen=True)
class BaselineRun:
    result: RunResult  # the findings not in the baseline, with `baselined` and `baseline_stale` set
    written: Optional[int]  # how many findings were recorded, when the file was (re)written


def apply(result: RunResult, path: Path, update: bool, version: str) -> BaselineRun:
    """Write the baseline if asked (or if it does not exist), then hide the findings it holds."""
    findings = sorted(result.findings, key=Finding.sort_key)
    findings = [replace(f, fingerprint=p) for f, p in zip(findings, fingerprints_for(findings))]
    written = None
    if update or not path.exists():
        if result.missing or result.errors:
            raise BaselineError(
                f"{path}: not written: the run was incomplete (a path not found or an error while "
                "checking), so the baseline would miss findings; fix that first"
            )
        write(path, findings, version)
        written = len(findings)
    known = read(path)
    kept = [f for f in findings if f.fingerprint not in known]
    stale = len(known - {f.fingerprint for f in findings})
    filtered = replace(result, findings=kept, baselined=len(findings) - len(kept), baseline_stale=stale)
    return BaselineRun(filtered, written)


def read(path: Path) -> FrozenSet[str]:
    """The fingerprints a baseline file holds; BaselineError says what is wrong with it."""
    try:
        document = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise BaselineError(f"{path}: no such baseline file") from None
    except OSError as error:
        raise BaselineError(f"{path}: cannot read: {error.strerror or error}") from None
    except UnicodeDecodeError:
        raise BaselineError(f"{path}: not an ffscan baseline (not UTF-8 text)") from None
    except json.JSONDecodeError as error:
        raise BaselineError(f"{path}: not an ffscan baseline (invalid JSON: {error})") from None
    if not isinstance(document, dict) or not isinstance(document.get("version"), int):
        raise BaselineError(f'{path}: not an ffscan baseline (no "version"); see docs/baseline.md')
    if document["version"] > VERSION:
        raise BaselineError(
            f"{path}: written by a newer ffscan (baseline version {document['version']}); this one reads version {VERSION}"
        )
    if document.get("fingerprint") != FINGERPRINT_KEY:
        raise BaselineError(
            f"{path}: holds {document.get('fingerprint')!r} fingerprints, this ffscan computes "
            f"{FINGERPRINT_KEY!r}: rewrite it with --update-baseline"
        )
    entries = document.get("findings")
    if not isinstance(entries, list):
        raise BaselineError(f'{path}: not an ffscan baseline ("findings" must be a list)')
    prints = set()
    for number, entry in enumerate(entries):
        fingerprint = entry.get("fingerprint") if isinstance(entry, dict) else None
        if not isinstance(fingerprint, str) or not _HEX64.fullmatch(fingerprint):
            raise BaselineError(f'{path}: findings[{number}] has no valid "fingerprint" (64 hex digits)')
        prints.add(fingerprint)
    return frozenset(prints)


def write(path: Path, findings: List[Finding], version: str) -> None:
    """Write through a temporary file and os.replace, so a failed write leaves the old file."""
    document = {
        "version": VERSION,
        "fingerprint": FINGERPRINT_KEY,
        "tool": {"name": "ffscan", "version": version},
        "findings": [_entry(f) for f in findings],
    }
    text = json.dumps(document, indent=2, ensure_ascii=False) + "\n"
    directory = path.parent if str(path.parent) else Path(".")
    if not directory.is_dir():
        raise BaselineError(f"{path}: cannot write: no such directory {directory}")
    mode = path.stat().st_mode & 0o777 if path.is_file() else 0o644  # mkstemp's 0600 is for secrets
    try:
        handle, temporary = tempfile.mkstemp(dir=directory, prefix=f".{path.name}.", suffix=".tmp")
    except OSError as error:
        raise BaselineError(f"{path}: cannot write: {error.strerror or error}") from None
    try:
        with os.fdopen(handle, "w", encoding="utf-8", newline="\n") as out:
            out.write(text)
        os.chmod(temporary, mode)
        os.replace(temporary, path)
    except OSError as error:  # disk full, read-only target: remove the partial copy, keep the old file
        try:
            os.unlink(temporary)
        except OSError:
            pass  # already gone (os.replace may have moved it); nothing else to clean up
        raise BaselineError(f"{path}: cannot write: {error.strerror or error}") from None


def _entry(finding: Finding) -> Dict[str, Any]:
    return {
        "fingerprint": finding.fingerprint,
        "code": finding.code,
        "path": finding.path,
        "line": finding.start.line,
        "message": finding.message,
    }
