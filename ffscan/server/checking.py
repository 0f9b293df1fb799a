"""What the language server asks of the engine: the settings for a document, its check, and
the text a fix or a `# noqa` comment would give it. No protocol types here."""

from __future__ import annotations

import io
import os
import tokenize
from dataclasses import dataclass, field
from pathlib import Path
from typing import Dict, List, Optional, Sequence, Tuple

from ffscan.config import CACHE_DIR_NAME, ConfigError, Settings, find_config, load_settings
from ffscan.engine import Analysis, WorkItem, analyse_stdin
from ffscan.engine.fixing import import_sections
from ffscan.engine.noqa import add_noqa
from ffscan.fix.apply import CannotEdit, apply_fixes
from ffscan.model import Finding, Fix, RunResult
from ffscan.rules import rule_names


@dataclass
class Snapshot:
    """One check of one version of a document."""

    version: Optional[int]
    text: str
    result: RunResult = field(default_factory=RunResult)
    settings: Optional[Settings] = None
    analysis: Optional[Analysis] = None
    problem: Optional[str] = None  # why it was not checked (its configuration cannot be read)

    @property
    def findings(self) -> List[Finding]:
        return self.result.findings

    @property
    def item(self) -> Optional[WorkItem]:
        return self.analysis.work[0] if self.analysis is not None and self.analysis.work else None


class SettingsCache:
    """`[tool.ffscan]` for each document, found from its path as `ffscan check PATH` finds it,
    and read again when the configuration file changes."""

    def __init__(self) -> None:
        self._loaded: Dict[Tuple[Optional[Path], Path], Tuple[Tuple[int, int], Settings]] = {}

    def for_path(self, path: Optional[str], fallback_root: Path) -> Settings:
        """The settings for the file at `path` (None: a buffer that is no file); raises
        ConfigError for a configuration that cannot be used."""
        start = Path(path) if path is not None else fallback_root
        config = find_config(start)
        root = config.resolve().parent if config is not None else fallback_root
        key = (config, root)
        stamp = _stamp(config)
        cached = self._loaded.get(key)
        if cached is not None and cached[0] == stamp:
            return cached[1]
        settings = load_settings(config, root, rule_names(), search_from=start)
        # As `ffscan check` does with a configuration: the project's other files come from
        # .ffscan_cache when they are unchanged. Without one only the document is read, and
        # no cache folder is made in whatever folder it is in.
        cache_dir = settings.root / CACHE_DIR_NAME if config is not None and not os.environ.get("FFSCAN_NO_CACHE") else None
        # Files the configuration excludes get no findings, as `ffscan check` of the project gives none.
        settings = settings.with_overrides(cache_dir=cache_dir, force_exclude=True)
        self._loaded[key] = (stamp, settings)
        return settings


def _stamp(config: Optional[Path]) -> Tuple[int, int]:
    if config is None:
        return (0, 0)
    try:
        info = config.stat()
    except OSError:
        return (-1, -1)  # gone: load_settings says so
    return (info.st_mtime_ns, info.st_size)


def check_document(text: str, version: Optional[int], path: Optional[str], settings_cache: SettingsCache, root: Path) -> Snapshot:
    """Check the editor's text as the file at `path`, with the rest of the project as it is on
    disk (read from the cache where unchanged)."""
    try:
        settings = settings_cache.for_path(path, root)
    except ConfigError as error:
        return Snapshot(version, text, problem=f"{error}; the files it configures are not checked until it is fixed")
    analysis = analyse_stdin(as_bytes(text), path, settings)
    return Snapshot(version, text, analysis.result, settings, analysis)


def as_bytes(text: str) -> bytes:
    """The editor's text as the bytes the file would hold: in the encoding its coding cookie
    names (PEP 263), else UTF-8. Text the named encoding cannot hold stays UTF-8, so the check
    names the first character that does not decode (FF002), as it would for the saved file."""
    data = text.encode("utf-8", "surrogatepass")
    try:
        encoding, _ = tokenize.detect_encoding(io.BytesIO(data).readline)
    except SyntaxError:
        return data  # an unknown encoding: the check reports it
    if encoding in ("utf-8", "utf-8-sig"):
        return data
    try:
        return text.encode(encoding)
    except (UnicodeEncodeError, LookupError):
        return data


class NoEdit(Exception):
    """A fix or a comment that cannot be offered for this text, and why."""


def fixed_text(snapshot: Snapshot, fix: Fix) -> str:
    """The document's text with one fix applied and its imports placed (as `ffscan fix` places
    them); raises NoEdit when the result would not compile."""
    assert snapshot.settings is not None and snapshot.item is not None
    try:
        applied = apply_fixes(snapshot.text, [fix], import_sections(snapshot.settings, snapshot.item))
    except CannotEdit as problem:
        raise NoEdit(str(problem)) from None
    if not applied.fixes:
        raise NoEdit("the fix overlaps itself")
    _compiles(applied.text)
    return applied.text


def noqa_text(snapshot: Snapshot, findings: Sequence[Finding]) -> str:
    """The document's text with `# noqa` for these findings, as `ffscan check --add-noqa` writes it."""
    outcome = add_noqa(snapshot.text, findings)
    if outcome.left:
        raise NoEdit(outcome.left[0][1])
    _compiles(outcome.text)
    return outcome.text


def _compiles(text: str) -> None:
    try:
        compile(text, "<fixed>", "exec", dont_inherit=True)
    except (SyntaxError, ValueError) as error:
        raise NoEdit(f"the result would not compile ({error})") from None
