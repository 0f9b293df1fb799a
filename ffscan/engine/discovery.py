"""Find the files to check: recursive, honouring excludes and `.gitignore` files."""

from __future__ import annotations

import fnmatch
import os
import re
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Dict, Iterable, List, Optional, Sequence, Tuple

from ffscan.config import Settings

PYTHON_SUFFIXES = (".py", ".pyi")


@dataclass
class Discovered:
    files: List[Tuple[str, str]] = field(default_factory=list)  # (filesystem path, path relative to the root)
    missing: List[str] = field(default_factory=list)  # paths given that do not exist
    excluded: int = 0  # files and folders skipped by exclude/extend-exclude (or force-exclude)
    gitignored: int = 0  # files and folders skipped because a .gitignore lists them


def matches_glob(relative: str, pattern: str) -> bool:
    """Match a posix relative path against a pattern.

    A pattern without `/` matches any one component (`build` excludes every `build/` folder,
    `test_*.py` every such file); with `/` it matches the path or any tail of it.
    """
    pattern = pattern.strip().rstrip("/")
    if not pattern:
        return False
    parts = relative.split("/")
    if "/" not in pattern:
        return any(fnmatch.fnmatchcase(part, pattern) for part in parts)
    pattern = pattern.lstrip("/")
    for start in range(len(parts)):
        tail = "/".join(parts[start:])
        if fnmatch.fnmatchcase(tail, pattern) or fnmatch.fnmatchcase(tail, pattern + "/*"):
            return True
    return False


def matches_any(relative: str, patterns: Sequence[str]) -> bool:
    """Whether `relative` matches one of `patterns` (as `matches_glob` reads each)."""
    components, others = _split_patterns(tuple(patterns))
    if components is not None and any(components(part) for part in relative.split("/")):
        return True
    return any(matches_glob(relative, pattern) for pattern in others)


@lru_cache(maxsize=64)
def _split_patterns(patterns: Tuple[str, ...]):
    """One compiled test for the patterns that match a single component (every file asks
    the test paths and per-file ignores this), and the patterns with a `/`."""
    cleaned = [p.strip().rstrip("/") for p in patterns]
    single = [p for p in cleaned if p and "/" not in p]
    others = tuple(p for p in cleaned if "/" in p)
    if not single:
        return None, others
    return re.compile("|".join(fnmatch.translate(p) for p in single)).match, others


def display_path(path: "str | Path", root: Path) -> str:
    if os.sep == "/":
        # The same answer as the pathlib spelling below, in string operations: a rerun from the
        # cache asks this twice for every file of the project.
        text = os.fspath(path)
        absolute = text if text.startswith("/") else os.getcwd() if text == "." else os.path.join(os.getcwd(), text)
        base = os.fspath(root)
        if absolute == base:
            return "."
        prefix = base if base.endswith("/") else base + "/"
        return absolute[len(prefix):] if absolute.startswith(prefix) else Path(path).as_posix()
    try:
        return Path(path).absolute().relative_to(root).as_posix()
    except ValueError:
        return Path(path).as_posix()


class _GitIgnore:
    """`.gitignore` files from the repository root down, loaded lazily per directory."""

    def __init__(self) -> None:
        self.specs: Dict[Path, Optional[object]] = {}
        self.absolute: Dict[str, Path] = {}  # a folder as the walk spells it -> its absolute path

    def _spec(self, directory: Path):
        if directory not in self.specs:
            spec = None
            ignore_file = directory / ".gitignore"
            if ignore_file.is_file():
                import pathspec  # only for trees that have a .gitignore

                try:
                    lines = ignore_file.read_text(encoding="utf-8", errors="replace").splitlines()
                    spec = pathspec.GitIgnoreSpec.from_lines(lines)
                except (OSError, ValueError):
                    spec = None  # an unreadable .gitignore ignores nothing, like git
            self.specs[directory] = spec
        return self.specs[directory]

    def ignored_in(self, directory: str, name: str, is_dir: bool) -> bool:
        """`ignored` for the entry `name` of `directory` (as the walk spells it), asking
        the file system about the folder once, not once for every file in it."""
        absolute = self.absolute.get(directory)
        if absolute is None:
            absolute = self.absolute[directory] = Path(os.path.abspath(directory))
        if _repo_root(absolute) is None:
            return False
        return self.ignored(absolute / name, is_dir)

    def ignored(self, path: Path, is_dir: bool) -> bool:
        repo = _repo_root(path.parent)
        if repo is None:
            return False
        directory = path.parent
        chain = []
        while True:
            chain.append(directory)
            if directory == repo or directory.parent == directory:
                break
            directory = directory.parent
        verdict = False
        for directory in reversed(chain):
            spec = self._spec(directory)
            if spec is None:
                continue
            relative = path.relative_to(directory).as_posix() + ("/" if is_dir else "")
            result = spec.check_file(relative)  # type: ignore[attr-defined]
            if result.include is not None:
                verdict = bool(result.include)
        return verdict


@lru_cache(maxsize=None)
def _repo_root(directory: Path) -> Optional[Path]:
    for candidate in (directory, *directory.parents):
        if (candidate / ".git").exists():
            return candidate
    return None


def discover(paths: Sequence[str], settings: Settings) -> Discovered:
    found = Discovered()
    seen: set = set()
    excludes = [pattern.strip().rstrip("/") for pattern in (*settings.exclude, *settings.extend_exclude)]
    # The walk tests each folder before it descends, so a pattern without `/` (it matches any
    # one component) needs testing against the last component only; plain names, the usual
    # case, by set membership.
    plain = {p for p in excludes if p and "/" not in p and not any(c in p for c in "*?[")}
    wild = [p for p in excludes if p and "/" not in p and p not in plain]
    pathy = [p for p in excludes if "/" in p]
    gitignore = _GitIgnore() if settings.respect_gitignore else None

    def excluded(directory: str, name: str, is_dir: bool, top: str) -> bool:
        if (
            name in plain
            or any(fnmatch.fnmatchcase(name, pattern) for pattern in wild)
            # relative to the directory given: naming an excluded folder explicitly checks it
            or (pathy and _pathy_excluded(os.path.join(directory, name), top, pathy))
        ):
            found.excluded += 1
            return True
        if gitignore is not None and gitignore.ignored_in(directory, name, is_dir):
            found.gitignored += 1
            return True
        return False

    def add(path: str) -> None:
        key = os.path.normcase(os.path.abspath(path))
        if key not in seen:
            seen.add(key)
            found.files.append((path, display_path(path, settings.root)))

    for given in paths:
        path = Path(given)
        if not path.exists() and not path.is_symlink():
            found.missing.append(given)
        elif settings.force_exclude and excluded_by_configuration(path, settings):
            found.excluded += 1
        elif path.is_dir():
            top = str(path)
            for file in _walk(top, lambda directory, name, is_dir, top=top: excluded(directory, name, is_dir, top)):
                add(file)
        else:
            add(str(path))  # an explicit file is checked, excluded or not, unless force-exclude
    return found


def excluded_by_configuration(path: Path, settings: Settings) -> bool:
    """Ruff's `force-exclude` test: the path or a folder above it (up to the project root)
    matches `exclude` or `extend-exclude`; a .gitignore does not count here, as in Ruff."""
    relative = display_path(path, settings.root)
    return any(matches_glob(relative, pattern) for pattern in (*settings.exclude, *settings.extend_exclude))


def _pathy_excluded(path: str, top: str, patterns: Sequence[str]) -> bool:
    relative = Path(path).relative_to(top).as_posix()
    return any(matches_glob(relative, pattern) for pattern in patterns)


def _walk(top: str, excluded) -> Iterable[str]:
    """The Python files under `top`, sorted, as `os.path.join` spells them (what `Path`
    would print); `excluded(directory, name, is_dir)` prunes folders and files."""
    here = os.curdir + os.sep
    for directory, dirnames, filenames in os.walk(top, followlinks=False):
        if top == os.curdir:  # `Path(".") / "a"` is `a`, not `./a`
            directory = "" if directory == os.curdir else directory[len(here):] if directory.startswith(here) else directory
        dirnames[:] = sorted(
            d for d in dirnames
            if not excluded(directory or os.curdir, d, True) and not os.path.islink(os.path.join(directory, d))
        )
        for name in sorted(filenames):
            if name.endswith(PYTHON_SUFFIXES) and not excluded(directory or os.curdir, name, False):
                yield os.path.join(directory, name)


@lru_cache(maxsize=None)
def _package_root(directory: str) -> Tuple[str, Tuple[str, ...]]:
    parts: List[str] = []
    current = Path(directory)
    while (current / "__init__.py").is_file() and current.parent != current:
        parts.append(current.name)
        current = current.parent
    return str(current), tuple(reversed(parts))


def module_name(fs_path: str) -> str:
    """Dotted module name, found by walking up through packages (`__init__.py`)."""
    path = fs_path if os.path.isabs(fs_path) else os.path.join(os.getcwd(), fs_path)
    _, package = _package_root(os.path.dirname(path))
    stem = os.path.basename(path).rsplit(".", 1)[0]
    if stem == "__init__":
        return ".".join(package)
    return ".".join((*package, stem)) if stem.isidentifier() else ""


def namespace_name(fs_path: str, root: Path, module: Optional[str] = None) -> Optional[str]:
    """The module name a file has in a namespace package (PEP 420: folders without
    `__init__.py`), read from the project's source root (`src/`, else the root), when that
    differs from the name `module_name` finds (`module`, when the caller has it); None otherwise."""
    path = os.path.abspath(fs_path)
    top = os.path.abspath(root)
    for base in (os.path.join(top, "src"), top):
        relative = _relative_parts(path, base)
        if relative is None:
            continue
        parts = [*relative[:-1], relative[-1].rsplit(".", 1)[0]]
        if parts[-1] == "__init__":
            parts.pop()
        if not parts or not all(part.isidentifier() for part in parts):
            return None
        dotted = ".".join(parts)
        return dotted if dotted != (module if module is not None else module_name(fs_path)) else None
    return None


def _relative_parts(path: str, base: str) -> Optional[List[str]]:
    """The parts of absolute `path` below absolute `base`, or None when it is not below."""
    if os.sep == "/":  # the common case in string operations: asked once for every file
        prefix = base if base.endswith("/") else base + "/"
        return path[len(prefix):].split("/") if path.startswith(prefix) else None
    try:
        return list(Path(path).relative_to(base).parts) or None
    except ValueError:
        return None
