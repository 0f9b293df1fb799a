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
    return ".".join(destination.with_suffix("").parts).lstrip(".")
