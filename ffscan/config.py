"""`[tool.ffscan]` in pyproject.toml (or an `ffscan.toml`) -> frozen Settings."""

from __future__ import annotations

import difflib
import re
import sys
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Dict, Mapping, Optional, Tuple

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - exercised on Python < 3.11 only
    import tomli as tomllib


class ConfigError(Exception):
    """A configuration file that cannot be used; the CLI exits 2 with this message."""


CACHE_DIR_NAME = ".ffscan_cache"

DEFAULT_EXCLUDE = (
    ".bzr", ".direnv", ".eggs", ".git", ".hg", ".ipynb_checkpoints", ".mypy_cache", ".nox",
    ".ffscan_cache", ".pants.d", ".pytest_cache", ".pytype", ".ruff_cache", ".svn", ".tox", ".venv", "__pycache__",
    "__pypackages__", "_build", "buck-out", "build", "dist", "node_modules", "site-packages",
    "venv",
)

# Test code detaches tasks on purpose and checks results other ways: every peer finding in
# test code of ten real projects was a false alarm. A never-awaited coroutine in a test is still
# a test that silently checks nothing, so FF0 and FF1 stay on there.
DEFAULT_TEST_PATHS = (
    "test_*.py", "*_test.py", "tests", "test", "testing", "conftest.py",
)
DEFAULT_TEST_SELECT = ("FF0", "FF1")


@dataclass(frozen=True)
class FixSettings:
    """`[tool.ffscan.fix]`: where rewritten code imports the tracked runtime from, and which
    durable queue the project already uses (unsafe fixes move work onto its registered tasks)."""

    runtime_module: str = "ffscan.runtime"
    durable_target: Optional[str] = None  # "celery" or "dramatiq"
    queue: Optional[str] = None  # a named queue of [tool.ffscan.queues] that fixes spawn onto


@dataclass(frozen=True)
class RuleSelection:
    """One layer of rule selection: the configuration file's, or the command line's.

    Resolved as Ruff resolves `lint.rule_selections`: a layer with `select` starts afresh
    (the earlier layers' select, extend-select and ignore no longer count), a layer without
    one adds to and subtracts from the set so far; within a layer the most specific selector
    wins, and `ignore` wins a tie.
    """

    select: Optional[Tuple[str, ...]] = None
    extend_select: Tuple[str, ...] = ()
    ignore: Tuple[str, ...] = ()


@dataclass(frozen=True)
class Settings:
    """Everything a run needs to know; paths in globs are relative to `root`."""

    root: Path = field(default_factory=Path.cwd)
    config_path: Optional[Path] = None
    select: Optional[Tuple[str, ...]] = None  # None: the rules that are on by default
    extend_select: Tuple[str, ...] = ()
    ignore: Tuple[str, ...] = ()
    exclude: Tuple[str, ...] = DEFAULT_EXCLUDE
    extend_exclude: Tuple[str, ...] = ()
    per_file_ignores: Tuple[Tuple[str, Tuple[str, ...]], ...] = ()
    respect_gitignore: bool = True
    force_exclude: bool = False  # excludes apply to paths named on the command line too
    test_paths: Tuple[str, ...] = DEFAULT_TEST_PATHS
    test_select: Tuple[str, ...] = DEFAULT_TEST_SELECT
    tracked_spawners: Tuple[str, ...] = ()
    error_reporters: Tuple[str, ...] = ()
    coroutine_functions: Tuple[str, ...] = ()
    spawn_apis: Tuple[str, ...] = ()
    fanout_threshold: int = 8
    max_file_size: int = 8 * 1024 * 1024
    fix: FixSettings = field(default_factory=FixSettings)
    # The oldest Python the project supports: `target-version`, else `requires-python`.
    target_version: Optional[Tuple[int, int]] = None
    target_source: str = ""  # where it came from, for messages: "`requires-python` in pyproject.toml"
    # Where results are cached (`.ffscan_cache` next to the configuration); None: no cache.
    cache_dir: Optional[Path] = None
    # The project's interpreter or virtual environment, whose installed packages are
    # summarised (`--python`, `python = "..."`); None: a .venv/venv beside the config, else
    # $VIRTUAL_ENV, else the shipped catalogue alone.
    python: Optional[Path] = None
    # `--select`, `--extend-select`, `--ignore`: a layer over the file's own.
    command_line: RuleSelection = field(default_factory=RuleSelection)

    @property
    def rule_selections(self) -> Tuple[RuleSelection, ...]:
        """The configuration's selection, then the command line's."""
        return (RuleSelection(self.select, self.extend_select, self.ignore), self.command_line)

    def with_overrides(self, **changes: Any) -> "Settings":
        return replace(self, **{k: v for k, v in changes.items() if v is not None})


_LIST_KEYS = {
    "select": "select",
    "extend-select": "extend_select",
    "ignore": "ignore",
    "exclude": "exclude",
    "extend-exclude": "extend_exclude",
    "test-paths": "test_paths",
    "test-select": "test_select",
    "tracked-spawners": "tracked_spawners",
    "error-reporters": "error_reporters",
    "coroutine-functions": "coroutine_functions",
    "spawn-apis": "spawn_apis",
}
_INT_KEYS = {
    "fanout-threshold": "fanout_threshold",
    "max-file-size": "max_file_size",
}
_BOOL_KEYS = {"respect-gitignore": "respect_gitignore", "force-exclude": "force_exclude"}
_TABLE_KEYS = ("per-file-ignores", "fix", "target-version", "queues", "python")
_FIX_KEYS = {"runtime-module": "runtime_module", "durable-target": "durable_target", "queue": "queue"}
DURABLE_TARGETS = ("celery", "dramatiq")
KNOWN_KEYS = tuple(sorted({*_LIST_KEYS, *_INT_KEYS, *_BOOL_KEYS, *_TABLE_KEYS}))


def find_config(start: Path) -> Optional[Path]:
    """Walk up from `start` to the first pyproject.toml with a [tool.ffscan] table or ffscan.toml."""
    here = start.resolve()
    if here.is_file() or not here.exists():
        here = here.parent
    for directory in (here, *here.parents):
        own = directory / "ffscan.toml"
        if own.is_file():
            return own
        pyproject = directory / "pyproject.toml"
        if pyproject.is_file() and _has_ffscan_table(pyproject):
            return pyproject
    return None


def _has_ffscan_table(pyproject: Path) -> bool:
    try:
        text = pyproject.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError):
        return False  # not ours to judge here; an explicit --config reports it
    return "[tool.ffscan" in text


def load_settings(
    config_path: Optional[Path],
    fallback_root: Path,
    rules: Optional[Mapping[str, str]] = None,
    search_from: Optional[Path] = None,
) -> Settings:
    """Read `config_path` (or return defaults rooted at `fallback_root`).

    `rules` (code -> name) is what rule codes in the file are checked against; without it only
    their form (`ALL`, `FF`, `FF2`, `FF20`, `FF201`) is. Without `target-version`, the target
    Python is the minimum of `requires-python`: in the same pyproject.toml, else in the nearest
    pyproject.toml above the configuration file (or above `search_from`, the first path checked,
    when there is no configuration file).
    """
    if config_path is None:
        # As Ruff does without a configuration: the nearest pyproject.toml's requires-python.
        return _requires_python_above(Settings(root=fallback_root.resolve()), search_from or fallback_root)
    try:
        with open(config_path, "rb") as handle:
            document = tomllib.load(handle)
    except FileNotFoundError:
        raise ConfigError(f"{config_path}: no such configuration file") from None
    except OSError as error:
        raise ConfigError(f"{config_path}: cannot read: {error.strerror}") from None
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as error:
        raise ConfigError(f"{config_path}: invalid TOML: {error}") from None
    if config_path.name == "pyproject.toml":
        table = document.get("tool", {}).get("ffscan", {})
        prefix = "tool.ffscan"
    else:
        table, prefix = document, ""
        tool = document.get("tool")
        if isinstance(tool, Mapping) and "ffscan" in tool:
            raise ConfigError(
                f"{config_path}: `tool` is not a known setting; "
                f"{config_path.name} holds the settings at top level; drop the [tool.ffscan] header"
            )
    settings = Settings(root=config_path.resolve().parent, config_path=config_path)
    settings = parse_table(table, settings, source=str(config_path), prefix=prefix, rules=rules)
    if settings.target_version is not None:
        return settings
    if config_path.name == "pyproject.toml":
        project = document.get("project", {})
        requires = project.get("requires-python") if isinstance(project, Mapping) else None
        if requires is not None and not isinstance(requires, str):
            raise ConfigError(f"{config_path}: `project.requires-python` must be a string, got {requires!r}")
        minimum = minimum_python(requires) if requires else None
        if minimum is not None:
            return replace(settings, target_version=minimum, target_source=f"`requires-python` in {_shown(config_path.resolve())}")
    return _requires_python_above(settings, config_path.resolve().parent)


# Versions `target-version` accepts, as Ruff's; `requires-python` maps onto these or nothing.
PYTHON_VERSIONS = tuple((3, minor) for minor in range(7, 16))


def _target_version(value: Any, where: str) -> Tuple[int, int]:
    names = [f"py3{minor}" for _, minor in PYTHON_VERSIONS]
    if isinstance(value, str) and value in names:
        return PYTHON_VERSIONS[names.index(value)]
    hint = _did_you_mean(value.lower().replace(".", ""), names) if isinstance(value, str) else ""
    raise ConfigError(f'{where} must be one of "py37" to "py315", got {value!r}{hint}')


_SPECIFIER = re.compile(r"^\s*(===|==|~=|!=|<=|>=|<|>)\s*v?(\d+(?:\.(?:\d+|\*))*)")


def minimum_python(requires: str) -> Optional[Tuple[int, int]]:
    """The oldest Python a `requires-python` specifier admits, as Ruff reads it.

    The lowest major.minor among its `==`, `===`, `~=`, `>` and `>=` clauses (`>=3.9.2` is 3.9,
    `>3.9` is 3.9 too); None when there is none or it is not one of PYTHON_VERSIONS.
    """
    found = []
    for clause in requires.split(","):
        match = _SPECIFIER.match(clause)
        if match is None or match.group(1) in ("!=", "<=", "<"):
            continue
        parts = match.group(2).split(".")
        if len(parts) >= 2 and parts[0].isdigit() and parts[1].isdigit():
            found.append((int(parts[0]), int(parts[1])))
    if not found:
        return None
    lowest = min(found)
    return lowest if lowest in PYTHON_VERSIONS else None


def _requires_python_above(settings: Settings, start: Path) -> Settings:
    """Settings with the target from the nearest pyproject.toml at or above `start` that has
    a usable `requires-python`; unreadable files on the way are passed over, as Ruff does."""
    here = start.resolve()
    if here.is_file() or not here.exists():
        here = here.parent
    for directory in (here, *here.parents):
        pyproject = directory / "pyproject.toml"
        if not pyproject.is_file():
            continue
        try:
            with open(pyproject, "rb") as handle:
                project = tomllib.load(handle).get("project", {})
        except (OSError, tomllib.TOMLDecodeError, UnicodeDecodeError):
            continue  # not this run's configuration: look further up
        requires = project.get("requires-python") if isinstance(project, Mapping) else None
        minimum = minimum_python(requires) if isinstance(requires, str) else None
        if minimum is not None:
            return replace(settings, target_version=minimum, target_source=f"`requires-python` in {_shown(pyproject)}")
    return settings


def _shown(path: Path) -> str:
    """`path` relative to the working directory when it is inside it, as reports show paths."""
    try:
        return str(path.relative_to(Path.cwd().resolve()))
    except ValueError:
        return str(path)


def parse_table(
    table: Mapping[str, Any], base: Settings, source: str, prefix: str = "", rules: Optional[Mapping[str, str]] = None
) -> Settings:
    """Validate a configuration table; unknown keys and wrong types raise ConfigError."""
    if not isinstance(table, Mapping):
        raise ConfigError(f"{source}: `{prefix or 'ffscan'}` must be a table")
    changes: Dict[str, Any] = {}
    for key, value in table.items():
        where = f"{source}: `{prefix + '.' if prefix else ''}{key}`"
        if key in _LIST_KEYS:
            changes[_LIST_KEYS[key]] = _string_list(value, where)
        elif key in _INT_KEYS:
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise ConfigError(f"{where} must be a positive integer, got {value!r}")
            changes[_INT_KEYS[key]] = value
        elif key in _BOOL_KEYS:
            if not isinstance(value, bool):
                raise ConfigError(f"{where} must be true or false, got {value!r}")
            changes[_BOOL_KEYS[key]] = value
        elif key == "per-file-ignores":
            if not isinstance(value, Mapping):
                raise ConfigError(f"{where} must be a table of glob = [codes]")
            changes["per_file_ignores"] = tuple(
                (glob, _string_list(codes, f"{where[:-1]}.\"{glob}\"`")) for glob, codes in value.items()
            )
        elif key == "fix":
            changes["fix"] = _parse_fix(value, where)
        elif key == "target-version":
            changes["target_version"] = _target_version(value, where)
            changes["target_source"] = f"`target-version` in {source}"
        elif key == "queues":
            changes["queue_names"] = _parse_queues(value, where)
        elif key == "python":
            if not isinstance(value, str) or not value:
                raise ConfigError(f"{where} must be a path to an interpreter or a virtual environment, got {value!r}")
            changes["python"] = base.root / value  # relative to the configuration's folder
        else:
            raise ConfigError(f"{where} is not a known setting{_did_you_mean(key, KNOWN_KEYS)}")
    dotted = prefix + "." if prefix else ""
    for codes_key in ("select", "extend_select", "ignore", "test_select"):
        for code in changes.get(codes_key, ()):
            _check_code(code, f"{source}: `{dotted}{codes_key.replace('_', '-')}`", rules)
    for glob, codes in changes.get("per_file_ignores", ()):
        for code in codes:
            _check_code(code, f"{source}: `{dotted}per-file-ignores.\"{glob}\"`", rules)
    queue_names = changes.pop("queue_names", ())
    chosen = changes["fix"].queue if "fix" in changes else None
    if chosen is not None and chosen != "background" and chosen not in queue_names:
        raise ConfigError(f"{source}: `{dotted}fix.queue` names {chosen!r}, which no [{dotted}queues.{chosen}] table defines")
    return replace(base, **changes)


def _parse_queues(value: Any, where: str) -> Tuple[str, ...]:
    """Validate `[tool.ffscan.queues.<name>]` with the runtime's own parser; the runtime reads it."""
    from ffscan.runtime.options import (
        parse_queue_table,  # standard library only, like the runtime
    )

    if not isinstance(value, Mapping):
        raise ConfigError(f"{where} must be a table of [queues.<name>] tables")
    for name, table in value.items():
        try:
            parse_queue_table(name, table, f"{where[:-1]}.{name}`")
        except ValueError as error:
            raise ConfigError(str(error)) from None
    return tuple(value)


def _parse_fix(value: Any, where: str) -> FixSettings:
    if not isinstance(value, Mapping):
        raise ConfigError(f"{where} must be a table")
    changes = {}
    for key, item in value.items():
        inner = f"{where[:-1]}.{key}`"  # where ends in a backtick: name the nested key inside it
        if key not in _FIX_KEYS:
            raise ConfigError(f"{inner} is not a known setting{_did_you_mean(key, _FIX_KEYS)}")
        if key == "durable-target":
            if not isinstance(item, str) or item not in DURABLE_TARGETS:
                choices = " or ".join(f'"{name}"' for name in DURABLE_TARGETS)
                hint = _did_you_mean(item.lower(), DURABLE_TARGETS) if isinstance(item, str) else ""
                raise ConfigError(f"{inner} must be {choices}, got {item!r}{hint}")
        elif not isinstance(item, str) or not item:
            raise ConfigError(f"{inner} must be a module name, got {item!r}")
        changes[_FIX_KEYS[key]] = item
    return FixSettings(**changes)


def _string_list(value: Any, where: str) -> Tuple[str, ...]:
    if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
        raise ConfigError(f"{where} must be a list of strings, got {value!r}")
    return tuple(value)


_SELECTOR = re.compile(r"^(ALL|FF\d{0,3})$")


def is_known_selector(selector: str, rules: Optional[Mapping[str, str]] = None) -> bool:
    """`ALL`, `FF`, a family (`FF2`), a group (`FF20`) or a full code (`FF201`) of a rule in `rules`."""
    selector = selector.strip().upper()
    if not _SELECTOR.match(selector):
        return False
    return rules is None or selector == "ALL" or any(code.startswith(selector) for code in rules)


def _check_code(code: str, where: str, rules: Optional[Mapping[str, str]]) -> None:
    if not is_known_selector(code, rules):
        raise ConfigError(f"{where}: unknown rule code or prefix {code!r}{suggest_code(code, rules or {})}")


def suggest_code(selector: str, rules: Mapping[str, str]) -> str:
    """`; did you mean `FF201`?` for a near miss of a rule code or name in `rules` (code -> name)."""
    typed = selector.strip().upper().replace("O", "0")  # FF2O1: a letter O for a zero
    if typed != selector.strip().upper() and typed in rules:
        return f"; did you mean `{typed}`?"
    by_name = {name: code for code, name in rules.items()}
    if selector.strip().lower() in by_name:
        return f"; did you mean `{by_name[selector.strip().lower()]}` ({selector.strip().lower()})?"
    return _did_you_mean(selector.strip().upper(), rules)


def _did_you_mean(word: str, choices) -> str:
    close = difflib.get_close_matches(word, list(choices), n=1)
    return f"; did you mean `{close[0]}`?" if close else ""
