"""The cache that makes reruns nearly free: per-file results by content, and whole runs.

`.ffscan_cache/` sits next to the configuration. Under a key made of ffscan's version and the
files it runs from (so two checkouts of one version never share results), the Python that
runs it and every setting that changes what a file's check finds, it keeps:

- `files-<n>.pickle` (16 shards, so that one changed file rewrites one shard): for each
  file, its size, modification time and content hash, and what
  checking it gave (findings, the module summary, the questions left for the whole program).
  A file whose size and time are unchanged is not read; one whose content is unchanged is not
  parsed. A file whose check crashed ffscan itself is never kept. Nothing about other files
  is stored with a file's entry: the whole-program answers
  are settled again on every run, so a changed module never leaves a stale finding elsewhere.
- `runs.pickle`: the final result of a run, with the size and time of every file it read. An
  unchanged tree is answered from it without loading anything else. A run in which any file
  gave an error is not kept.

Writes go to a temporary file that is renamed into place, so two runs at once each leave a
whole file; an entry that cannot be read is ignored and rebuilt.
"""

from __future__ import annotations

import hashlib
import os
import pickle
import shutil
import sys
import tempfile
from dataclasses import replace
from pathlib import Path
from typing import Dict, Iterable, Optional, Tuple

from ffscan import __version__
from ffscan.config import CACHE_DIR_NAME, Settings
from ffscan.engine import collector
from ffscan.engine.runner import FileResult
from ffscan.engine.sources import content_digest
from ffscan.model import RunResult

_FORMAT = 4
_README = (
    "This directory holds ffscan's cache (see `ffscan clean`). It is safe to delete.\n"
)


def settings_key(settings: Settings, extra: str = "") -> str:
    """What every cached result depends on besides the file: ffscan, Python, settings."""
    neutral = replace(settings, root=Path("."), config_path=None, cache_dir=None)
    text = f"{_FORMAT}|{__version__}|{_code_identity()}|{sys.version_info[:3]}|{neutral!r}|{extra}"
    return hashlib.blake2b(text.encode("utf-8"), digest_size=12).hexdigest()


_CODE_IDENTITY: Optional[str] = None


def _code_identity() -> str:
    """Where ffscan's own files are and their sizes and times: an editable install that
    changes, or a second checkout of the same version, gets a cache of its own (a stat of
    about a hundred files, under a millisecond)."""
    global _CODE_IDENTITY
    if _CODE_IDENTITY is None:
        package = Path(__file__).resolve().parent.parent
        digest = hashlib.blake2b(str(package).encode("utf-8", "surrogatepass"), digest_size=12)
        for folder, subfolders, names in os.walk(package):
            subfolders[:] = sorted(name for name in subfolders if name != "__pycache__")
            for name in sorted(names):
                if name.endswith((".py", ".toml")):
                    try:
                        info = os.stat(os.path.join(folder, name))
                    except OSError:
                        continue  # gone while walking: the next run sees the change
                    digest.update(f"{folder}/{name}|{info.st_size}|{info.st_mtime_ns}".encode("utf-8", "surrogatepass"))
        _CODE_IDENTITY = digest.hexdigest()
    return _CODE_IDENTITY


class Stat:
    """Size and modification time of a file, the fast test for "unchanged"."""

    __slots__ = ("size", "mtime")

    def __init__(self, size: int, mtime: int) -> None:
        self.size = size
        self.mtime = mtime

    @classmethod
    def of(cls, fs_path: str) -> Optional["Stat"]:
        try:
            info = os.stat(fs_path)
        except OSError:  # gone or unreadable: the check reports it
            return None
        return cls(info.st_size, info.st_mtime_ns)

    def key(self) -> Tuple[int, int]:
        return (self.size, self.mtime)


class Cache:
    def __init__(self, directory: Path, key: str) -> None:
        self.directory = directory
        self.key = key
        # absolute path (`_key_of`) -> (size, mtime, bytes digest, (display, module, codes),
        # FileResult, the result pickled or None), by shard; on disk the pickled result alone
        self.shards: Dict[int, Dict[str, tuple]] = {}
        self.runs: Dict[tuple, tuple] = {}  # run key -> (manifest, RunResult)
        self._dirty_shards: set = set()
        self._dirty = False

    @property
    def _folder(self) -> Path:
        return self.directory / self.key

    # ---- whole runs -------------------------------------------------------------------------

    def run_result(self, run_key: tuple, manifest: Dict[str, Tuple[int, int]]) -> Optional[RunResult]:
        """The result of a run of the same paths over files that all still have the sizes
        and times `manifest` gives."""
        if not self.runs:
            self.runs = _load(self._folder / "runs.pickle") or {}
        found = self.runs.get(run_key)
        if found is None or found[0] != manifest:
            return None
        return found[1]

    def store_run(self, run_key: tuple, manifest: Dict[str, Tuple[int, int]], result: RunResult) -> None:
        self.runs[run_key] = (manifest, result)
        self._dirty = True

    # ---- files --------------------------------------------------------------------------------

    def lookup(self, fs_path: str, stat: Optional[Stat], identity: tuple) -> Optional[FileResult]:
        """The cached result for this file when its content and identity are unchanged."""
        if stat is None:
            return None
        key = _key_of(fs_path)
        files = self._shard(key)
        entry = files.get(key)
        if entry is None or entry[3] != identity:
            return None
        if (entry[0], entry[1]) == stat.key():
            return entry[4]
        digest = _digest(fs_path)
        if digest is not None and digest == entry[2]:
            files[key] = (stat.size, stat.mtime, digest, identity, entry[4], entry[5])  # touched only
            self._touch(key)
            return entry[4]
        return None

    def store(
        self, fs_path: str, stat: Optional[Stat], identity: tuple, result: FileResult, pickled: Optional[bytes] = None
    ) -> None:
        """Keep `result` for the file; `pickled`, when the pool sent it so, is written as it is."""
        if stat is None or result.errors:
            return  # a crash of ffscan itself is never remembered
        # The check's own digest is of the bytes it read: a file changed since then is not
        # stored under its new content.
        digest = result.content or _digest(fs_path)
        if digest is None:
            return
        key = _key_of(fs_path)
        self._shard(key)[key] = (stat.size, stat.mtime, digest, identity, result, pickled)
        self._touch(key)

    def _shard(self, key: str) -> Dict[str, tuple]:
        number = _shard_of(key)
        files = self.shards.get(number)
        if files is None:
            files = self.shards[number] = _load_shard(self._folder / f"files-{number}.pickle")
        return files

    def _touch(self, key: str) -> None:
        self._dirty_shards.add(_shard_of(key))
        self._dirty = True

    def save(self) -> None:
        """Write what changed; a cache that cannot be written is skipped, never an error."""
        if not self._dirty:
            return
        try:
            self._folder.mkdir(parents=True, exist_ok=True)
            _mark(self.directory)
            for number in sorted(self._dirty_shards):
                live = {
                    path: (*entry[:4], entry[5] if entry[5] is not None else _pickled(entry[4]))
                    for path, entry in self.shards[number].items()
                    if os.path.exists(path)
                }
                _dump(self._folder / f"files-{number}.pickle", live)
            _dump(self._folder / "runs.pickle", self.runs)
            self._dirty_shards.clear()
        except OSError:
            pass  # a read-only checkout: run without a cache
        self._dirty = False


_SHARDS = 16


def _key_of(fs_path: str) -> str:
    """A file's entry is under its absolute path: `app.py` and `/repo/app.py` are one file
    (a pre-commit hook and an editor name it differently), so neither is checked again for
    the other, nor kept twice."""
    return os.path.normcase(os.path.abspath(fs_path))


def _shard_of(fs_path: str) -> int:
    return hashlib.blake2b(fs_path.encode("utf-8", "surrogatepass"), digest_size=2).digest()[0] % _SHARDS


def clean(directory: Path) -> bool:
    """Remove the cache directory; False when there was none."""
    if not (directory / CACHE_DIR_NAME).is_dir():
        return False
    shutil.rmtree(directory / CACHE_DIR_NAME)
    return True


def _digest(fs_path: str) -> Optional[str]:
    try:
        with open(fs_path, "rb") as handle:
            return content_digest(handle.read())
    except OSError:  # unreadable now: not cached
        return None


def _load(path: Path):
    try:
        with open(path, "rb") as handle:
            return pickle.load(handle)
    except FileNotFoundError:
        return None
    except (OSError, pickle.UnpicklingError, EOFError, AttributeError, ImportError, IndexError, TypeError, ValueError):
        return None  # corrupt or from another version: rebuilt on this run


def _load_shard(path: Path) -> Dict[str, tuple]:
    """A shard's entries with their results read back (their pickled form kept, to be
    written again as it is); {} for a shard that cannot be read."""
    # Reading a shard makes a few hundred thousand objects and frees none: collections run
    # meanwhile only rescan them (a fifth of the load's time on prefect).
    with collector.paused():
        stored = _load(path)
        if not isinstance(stored, dict):
            return {}
        try:
            return {
                fs_path: (size, mtime, digest, identity, pickle.loads(pickled), pickled)
                for fs_path, (size, mtime, digest, identity, pickled) in stored.items()
            }
        except (pickle.UnpicklingError, EOFError, AttributeError, ImportError, IndexError, TypeError, ValueError):
            return {}  # corrupt or from another version: rebuilt on this run


def _pickled(result: FileResult) -> bytes:
    return pickle.dumps(result, protocol=pickle.HIGHEST_PROTOCOL)


def _dump(path: Path, value) -> None:
    handle, temporary = tempfile.mkstemp(prefix=".tmp-", dir=path.parent)
    try:
        with os.fdopen(handle, "wb") as stream:
            pickle.dump(value, stream, protocol=pickle.HIGHEST_PROTOCOL)
        os.replace(temporary, path)
    except BaseException:
        try:
            os.unlink(temporary)
        except OSError:
            pass  # already gone
        raise


def _mark(directory: Path) -> None:
    """A .gitignore and a CACHEDIR.TAG, as Ruff and pytest leave in theirs."""
    ignore = directory / ".gitignore"
    if not ignore.exists():
        ignore.write_text("# Created by ffscan\n*\n", encoding="utf-8")
        (directory / "CACHEDIR.TAG").write_text(
            "Signature: 8a477f597d28d172789f06886806bc55\n# This file is a cache directory tag created by ffscan.\n",
            encoding="utf-8",
        )
        (directory / "README.md").write_text(_README, encoding="utf-8")


def manifest_of(paths: Iterable[str]) -> Dict[str, Tuple[int, int]]:
    found = {}
    for path in paths:
        stat = Stat.of(path)
        found[path] = stat.key() if stat is not None else (-1, -1)
    return found
