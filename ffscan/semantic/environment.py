"""The project's own environment: summaries of the third-party packages it has installed.

`libraries_for(settings)` is what the engine hands the index (`ProjectIndex(libraries=...)`):
asked for a top-level package, it returns the summaries of the version the project has
installed, else the shipped catalogue's. Nothing is imported: the interpreter is asked once
for its `sys.path`, and the package's files are read and parsed.

The interpreter is the first of: `--python PATH` / `python = "..."` in the configuration (an
interpreter or a virtual environment), a `.venv` or `venv` beside the configuration, the
active `$VIRTUAL_ENV`. Without one, only the shipped catalogue is used.

Summaries are built on first use, only for the packages a run asks about, and cached under
`<config dir>/.ffscan_cache/libraries/`: one file per package, named by a digest of the
package's files (paths, sizes, modification times), the summary format and the ffscan
version, so an upgrade or an edit makes a new entry. Entries are written to a temporary file
and renamed into place, so two runs at once never see half a file; an entry that cannot be
read is rebuilt.
"""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
import tempfile
import warnings
from functools import lru_cache
from pathlib import Path
from typing import Callable, Dict, List, Optional, Sequence, Tuple

from ffscan.config import ConfigError, Settings
from ffscan.semantic.catalogue import FORMAT, OVERLAY_PATH, dumps, loads, shipped
from ffscan.semantic.libraries import package_files, summarize_package, trim
from ffscan.semantic.summary import ModuleSummary

Libraries = Callable[[str], Sequence[ModuleSummary]]

CACHE_FOLDER = Path(".ffscan_cache") / "libraries"
_STDLIB = frozenset(getattr(sys, "stdlib_module_names", ())) | {"builtins", "__future__"}
_QUERY = "import json, sys; print(json.dumps(sys.path))"
_QUERY_TIMEOUT = 60  # seconds: an interpreter that does not answer is not used


class _Everything(frozenset):
    """Every other package may lead somewhere (an installed package's references are kept)."""

    def __contains__(self, item: object) -> bool:
        return True


def libraries_for(settings: Settings) -> Libraries:
    """The loader of third-party summaries for a run with `settings`; raises ConfigError when
    the configured interpreter does not exist."""
    python = find_interpreter(settings)
    return _loader(str(python) if python is not None else "", str(settings.root))


def find_interpreter(settings: Settings) -> Optional[Path]:
    """The project's interpreter (see the module's docstring), or None."""
    if settings.python is not None:
        found = _interpreter_in(settings.python)
        if found is None:
            raise ConfigError(f"`python`: {settings.python} is neither a Python interpreter nor a virtual environment")
        return found
    for name in (".venv", "venv"):
        found = _interpreter_in(settings.root / name)
        if found is not None:
            return found
    active = os.environ.get("VIRTUAL_ENV")
    return _interpreter_in(Path(active)) if active else None


def _interpreter_in(path: Path) -> Optional[Path]:
    if path.is_file():
        return path
    for candidate in (path / "bin" / "python", path / "Scripts" / "python.exe"):
        if candidate.is_file():
            return candidate
    return None


@lru_cache(maxsize=None)
def _loader(python: str, root: str) -> Libraries:
    if not python:
        return shipped
    return _Environment(Path(python), Path(root) / CACHE_FOLDER).summaries


class _Environment:
    """One interpreter's installed packages, summarised on demand (memoised per process)."""

    def __init__(self, python: Path, cache: Path) -> None:
        self.python = python
        self.cache = cache
        self._paths: Optional[List[Path]] = None
        self._loaded: Dict[str, Tuple[ModuleSummary, ...]] = {}

    def summaries(self, top: str) -> Sequence[ModuleSummary]:
        found = self._loaded.get(top)
        if found is None:
            found = self._loaded[top] = self._summaries(top)
        return found

    def _summaries(self, top: str) -> Sequence[ModuleSummary]:
        if top in _STDLIB or not top.isidentifier():
            return ()
        site = self._site_of(top)
        if site is None:
            return shipped(top)
        files = [(module, path) for module, _, path in package_files(site, top)]
        if not files:
            return shipped(top)  # an extension module or an empty folder: nothing to read
        key = _entry_key(top, site, files)
        entry = self.cache / f"{top}-{key}.json.gz"
        try:
            return loads(entry.read_bytes())
        except FileNotFoundError:
            pass  # first use of this version: build it below
        except (OSError, ValueError, KeyError, EOFError, TypeError):
            pass  # a damaged entry (an interrupted disk, a hand edit): rebuilt below
        summaries = trim(summarize_package(site, top), _Everything())
        self._store(top, entry, dumps(summaries, {"package": top, "site": str(site)}))
        return summaries

    def _site_of(self, top: str) -> Optional[Path]:
        """The first folder on the interpreter's path that holds `top` (as Python finds it)."""
        for folder in self.paths():
            if (folder / top / "__init__.py").is_file() or (folder / f"{top}.py").is_file():
                return folder
            if (folder / top).is_dir():
                return folder  # a namespace package: this portion is what is read
            try:
                if any(name.startswith(top + ".") and name.endswith((".so", ".pyd")) for name in os.listdir(folder)):
                    return None  # an extension module comes first: no source to read
            except OSError:  # a folder on sys.path that is gone or unreadable: Python skips it too
                continue
        return None

    def paths(self) -> List[Path]:
        """The interpreter's `sys.path` (asked once, remembered while its folders are unchanged)."""
        if self._paths is None:
            self._paths = self._read_paths()
        return self._paths

    def _read_paths(self) -> List[Path]:
        record = self.cache / f"interpreter-{_digest(str(self.python))}.json"
        try:
            saved = json.loads(record.read_text(encoding="utf-8"))
            if saved.get("stamp") == _stamp([self.python, *map(Path, saved["paths"])]):
                return [Path(p) for p in saved["paths"]]
        except FileNotFoundError:
            pass  # never asked: ask below
        except (OSError, ValueError, KeyError, TypeError, AttributeError):
            pass  # a damaged record: ask again below
        paths, problem = None, ""
        try:
            answer = subprocess.run(
                [str(self.python), "-c", _QUERY],
                capture_output=True, text=True, timeout=_QUERY_TIMEOUT, stdin=subprocess.DEVNULL,
            )
            if answer.returncode == 0:
                paths = [p for p in json.loads(answer.stdout) if isinstance(p, str) and p]
            else:
                lines = answer.stderr.strip().splitlines()
                problem = lines[-1] if lines else f"exit {answer.returncode}"
        except (OSError, subprocess.SubprocessError, ValueError, TypeError) as error:
            problem = f"{type(error).__name__}: {error}"  # not runnable, too slow, or no JSON list
        if paths is None:
            warnings.warn(f"ffscan: {self.python} did not report its sys.path ({problem}); using the shipped catalogue")
            return []
        folders = [Path(p) for p in paths]
        stamp = _stamp([self.python, *folders])
        self._store_text(record, json.dumps({"python": str(self.python), "paths": paths, "stamp": stamp}))
        return folders

    def _store(self, top: str, entry: Path, data: bytes) -> None:
        if not self._write(entry, data):
            return
        for old in entry.parent.glob(f"{top}-*.json.gz"):
            if old.name != entry.name:
                try:
                    old.unlink()
                except OSError:  # another run removed it, or it is read-only: it is only stale
                    pass

    def _store_text(self, path: Path, text: str) -> None:
        self._write(path, text.encode("utf-8"))

    @staticmethod
    def _write(path: Path, data: bytes) -> bool:
        """Write `data` to `path` whole or not at all; False when the cache cannot be written
        (the summaries are still used, only not kept)."""
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
        except OSError:
            return False
        try:
            with os.fdopen(handle, "wb") as stream:
                stream.write(data)
            os.chmod(temporary, 0o644)  # mkstemp's 0600 would keep the cache from other users
            os.replace(temporary, path)
            return True
        except OSError:  # a full or read-only disk: leave no temporary file behind
            try:
                os.unlink(temporary)
            except OSError:  # already gone
                pass
            return False


def _entry_key(top: str, site: Path, files: Sequence[Tuple[str, Path]]) -> str:
    from ffscan import __version__

    digest = hashlib.blake2b(digest_size=12)
    digest.update(f"{FORMAT}\0{__version__}\0{_overlay_digest()}\0{top}\0{site}\0".encode())
    for module, path in files:
        try:
            status = path.stat()
        except OSError:  # gone since the folder was read: the key still differs from before
            digest.update(f"{module}\0-\0".encode())
            continue
        digest.update(f"{module}\0{path.name}\0{status.st_size}\0{status.st_mtime_ns}\0".encode())
    return digest.hexdigest()


@lru_cache(maxsize=None)
def _overlay_digest() -> str:
    try:
        return _digest(OVERLAY_PATH.read_bytes().decode("utf-8", "replace"))
    except OSError:  # no overlay installed: the key says so
        return "-"


def _digest(text: str) -> str:
    return hashlib.blake2b(text.encode("utf-8", "surrogatepass"), digest_size=8).hexdigest()


def _stamp(paths: Sequence[Path]) -> List[List]:
    """What would change when packages are installed or removed: each folder's mtime."""
    stamp = []
    for path in paths:
        try:
            status = path.stat()
            stamp.append([str(path), status.st_mtime_ns, status.st_size if path.is_file() else 0])
        except OSError:  # a missing folder is part of the answer too
            stamp.append([str(path), None, None])
    return stamp
