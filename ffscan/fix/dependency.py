"""Whether the code a fix writes can run where the project runs: the runtime module it imports.

`ffscan.runtime` is part of the `ffscan` package, so fixed code that imports it needs ffscan
installed in production, not only where `ffscan fix` ran. Whether it will be is the project's
own metadata to say: its `pyproject.toml` (`[project] dependencies`, Poetry's
`[tool.poetry.dependencies]`), `setup.cfg` (`[options] install_requires`), `setup.py`, or its
runtime requirements files (`requirements.txt`, `requirements/*.txt`, except those named for
development, tests, docs or linting). Extras, groups and dev requirements are not runtime
dependencies. A project with none of these files says nothing, and then the Python that runs
ffscan is asked instead.
"""

from __future__ import annotations

import configparser
import importlib.util
import re
from pathlib import Path
from typing import List, NamedTuple, Optional

try:
    import tomllib
except ImportError:  # Python before 3.11: the backport ffscan depends on there
    import tomli as tomllib  # type: ignore[no-redef]

RUNTIME = "ffscan.runtime"
# Requirements files that are not what the project needs to run.
_NOT_RUNTIME = re.compile(r"dev|test|doc|lint|typ|check|ci|build|bench|example|constraint", re.IGNORECASE)
_NAME = re.compile(r"\s*([A-Za-z0-9][A-Za-z0-9._-]*)")


class Declared(NamedTuple):
    """What the project's metadata says of ffscan: `declared` (True, or False when metadata
    exists and does not list it), and the files read, for messages."""

    declared: bool
    read: tuple


def runtime_importable(module: str, root: Path) -> bool:
    """Whether `module` can be imported from the project (its root or src/) or this Python."""
    relative = Path(*module.split("."))
    for base in (root, root / "src"):
        if (base / relative).with_suffix(".py").is_file() or (base / relative / "__init__.py").is_file():
            return True
    try:
        return importlib.util.find_spec(module) is not None
    except (ImportError, ValueError):
        return False  # a parent package that is not there: not importable


def declared_dependency(root: Path) -> Optional[Declared]:
    """Whether the project at `root` lists `ffscan` among what it needs to run; None when it
    has no metadata at all. A file that cannot be read or parsed counts as read and silent:
    nothing in it can be relied on."""
    read: List[str] = []
    found = False
    pyproject = root / "pyproject.toml"
    if pyproject.is_file():
        # Only `[project]` and Poetry's table speak of dependencies; a pyproject.toml that
        # holds tools' settings alone says nothing.
        document = _toml(pyproject)
        project = document.get("project")
        tool = document.get("tool")
        poetry = tool.get("poetry") if isinstance(tool, dict) else None
        if isinstance(project, dict):
            read.append("pyproject.toml")
            if _normalised(str(project.get("name", ""))) == "ffscan":
                return Declared(True, tuple(read))  # the project is ffscan itself
            found |= any(_is_ffscan(item) for item in _strings(project.get("dependencies")))
        if isinstance(poetry, dict) and isinstance(poetry.get("dependencies"), dict):
            if "pyproject.toml" not in read:
                read.append("pyproject.toml")
            found |= any(_normalised(name) == "ffscan" for name in poetry["dependencies"])
    setup_cfg = root / "setup.cfg"
    if setup_cfg.is_file():
        parser = configparser.ConfigParser(interpolation=None)
        try:
            parser.read(setup_cfg, encoding="utf-8")
            requires = parser.get("options", "install_requires", fallback="")
        except (configparser.Error, UnicodeDecodeError):
            requires = ""  # unreadable: says nothing
        if parser.has_section("metadata") and _normalised(parser.get("metadata", "name", fallback="")) == "ffscan":
            return Declared(True, (*read, "setup.cfg"))
        if parser.has_option("options", "install_requires") or parser.has_section("metadata"):
            read.append("setup.cfg")
        found |= any(_is_ffscan(line) for line in requires.splitlines())
    setup_py = root / "setup.py"
    if setup_py.is_file():
        read.append("setup.py")
        found |= _setup_py_requires_ffscan(setup_py)
    for requirements in _requirements_files(root):
        read.append(requirements.relative_to(root).as_posix())
        found |= any(_is_ffscan(line) for line in _requirement_lines(requirements, root, set()))
    if not read:
        return None
    return Declared(found, tuple(read))


def _toml(path: Path) -> dict:
    try:
        with path.open("rb") as handle:
            return tomllib.load(handle)
    except (OSError, ValueError):  # tomllib.TOMLDecodeError is a ValueError: says nothing
        return {}


def _strings(value: object) -> List[str]:
    return [item for item in value if isinstance(item, str)] if isinstance(value, list) else []


def _normalised(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def _is_ffscan(requirement: str) -> bool:
    """Whether a PEP 508 requirement line names ffscan (`ffscan`, `ffscan[celery]>=1`, ...)."""
    line = requirement.split("#", 1)[0].strip()
    if not line or line.startswith("-"):
        return False
    match = _NAME.match(line)
    return match is not None and _normalised(match.group(1)) == "ffscan"


def _requirements_files(root: Path) -> List[Path]:
    candidates = sorted(root.glob("requirements*.txt")) + sorted((root / "requirements").glob("*.txt"))
    return [path for path in candidates if path.is_file() and not _NOT_RUNTIME.search(path.name)]


def _requirement_lines(path: Path, root: Path, seen: set) -> List[str]:
    """The lines of a requirements file, with the files it includes (`-r other.txt`)."""
    if path in seen:
        return []
    seen.add(path)
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError):
        return []  # unreadable: says nothing
    found: List[str] = []
    for line in lines:
        stripped = line.strip()
        if stripped.startswith(("-r ", "--requirement ")):
            included = (path.parent / stripped.split(None, 1)[1].strip()).resolve()
            if included.is_file() and root.resolve() in included.parents:
                found.extend(_requirement_lines(included, root, seen))
        else:
            found.append(stripped)
    return found


def _setup_py_requires_ffscan(path: Path) -> bool:
    """A quoted "ffscan..." requirement inside `install_requires=[...]` of setup.py (read as
    text: setup.py is a program, not data)."""
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError):
        return False
    for block in re.findall(r"install_requires\s*=\s*\[([^\]]*)\]", text):
        if any(_is_ffscan(item) for item in re.findall(r"['\"]([^'\"]+)['\"]", block)):
            return True
    return False


def runtime_refusal(module: str, root: Path) -> Optional[str]:
    """Why fixes must not import `module` in the project at `root`, or None when they may.

    A vendored runtime (any module but ffscan's own) must be importable from the project. For
    `ffscan.runtime`, the project's metadata decides; without metadata, this Python does.
    """
    folder = _vendor_folder(root)
    if module != RUNTIME:
        if runtime_importable(module, root):
            return None
        shown = module.replace(".", "/")
        if (root / "src" / module.split(".")[0]).is_dir():
            shown = f"src/{shown}"  # a src layout: the package lives under src/
        return (
            f"fixes import `{module}`, which cannot be imported from {root} (`[tool.ffscan.fix] runtime-module` "
            f"names it); write it with `ffscan vendor-runtime {shown}`"
        )
    declared = declared_dependency(root)
    if declared is None:
        if runtime_importable(module, root):
            return None
        return (
            f"fixes import `{RUNTIME}`, which cannot be imported from {root}; install ffscan, or copy the runtime "
            f"into the project with `ffscan fix --vendor {folder}` (or `ffscan vendor-runtime {folder}` and "
            "`[tool.ffscan.fix] runtime-module`)"
        )
    if declared.declared:
        return None
    return (
        f"fixes would import `{RUNTIME}`, but ffscan is not a runtime dependency of this project "
        f"({', '.join(declared.read)} {'does' if len(declared.read) == 1 else 'do'} not list it), so the fixed code "
        f"would fail to import where it runs; add ffscan to its dependencies, or copy the runtime into the project "
        f"with `ffscan fix --vendor {folder}` (or `ffscan vendor-runtime {folder}` and "
        "`[tool.ffscan.fix] runtime-module`)"
    )


def _vendor_folder(root: Path) -> str:
    """Where a vendored runtime would go, for messages: `<package>/_tracked` when the root holds
    one package (under src/ in a src layout), else `_tracked`."""
    for base, prefix in ((root / "src", "src/"), (root, "")):
        packages = sorted(p.parent.name for p in base.glob("*/__init__.py") if p.parent.name not in ("tests", "test", "docs"))
        if len(packages) == 1:
            return f"{prefix}{packages[0]}/_tracked"
    return "_tracked"
