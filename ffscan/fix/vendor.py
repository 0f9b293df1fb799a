"""Copy the tracked runtime into a project, so fixed code needs no ffscan at run time."""

from __future__ import annotations

import shutil
from pathlib import Path


class VendorError(Exception):
    """The copy could not be made; nothing was replaced."""


def vendor_runtime(destination: Path, force: bool = False) -> str:
    """Copy ffscan/runtime (standard library only, relative imports) to the package directory
    `destination`; return the module name fixes should import from."""
    import ffscan.runtime

    if destination.suffix == ".py":
        destination = destination.with_suffix("")  # the runtime is a package, not one module
    source = Path(ffscan.runtime.__file__).parent
    if destination.exists() and not force:
        raise VendorError(f"{destination} exists; use --force to replace it")
    try:
        if destination.exists():
            shutil.rmtree(destination)
        shutil.copytree(source, destination, ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
    except OSError as error:
        raise VendorError(f"cannot write {destination}: {error.strerror or error}") from None
    return importable_name(destination)


def vendor_target(destination: Path) -> str:
    """The module name fixes import for a copy at `destination` (`ffscan fix --vendor`), which
    is written after the fixes: there must be nothing there yet, or a copy of this runtime."""
    import ffscan.runtime

    if destination.suffix == ".py":
        destination = destination.with_suffix("")
    if destination.exists():
        ours = Path(ffscan.runtime.__file__).read_bytes()
        try:
            same = (destination / "__init__.py").read_bytes() == ours
        except OSError:  # not a package, or unreadable: not a copy of ours
            same = False
        if not same:
            raise VendorError(
                f"{destination} exists and is not a copy of this ffscan's runtime; remove it, or replace it "
                f"with `ffscan vendor-runtime {destination} --force`"
            )
    return importable_name(destination)


def importable_name(destination: Path) -> str:
    """The module name code imports the package at `destination` by: the packages above it
    (folders with `__init__.py`), or, without one, its path from the working directory after
    the last `src/` (a src layout puts packages under `src/`, which is on the path, not part of
    the name)."""
    parts = [destination.name]
    parent = destination.absolute().parent
    while (parent / "__init__.py").is_file() and parent.parent != parent:
        parts.insert(0, parent.name)
        parent = parent.parent
    if len(parts) > 1:
        return ".".join(parts)
    try:
        shown = destination.absolute().relative_to(Path.cwd())
    except ValueError:
        shown = destination
    given = [part for part in shown.parts if part not in (".", shown.anchor)]
    if "src" in given[:-1]:
        given = given[len(given) - 1 - given[::-1].index("src") + 1 :]
    return ".".join(given)
