"""Build the shipped catalogue: `ffscan/semantic/catalogue/<top>.json.gz` for every package
pinned in `tools/catalogue-packages.txt`.

    python tools/build_catalogue.py                  # rebuild from PyPI
    python tools/build_catalogue.py --check          # exit 1 if a file would change
    python tools/build_catalogue.py --find-links DIR --no-index   # from wheels on disk

The pinned wheels are installed (`--no-deps --only-binary=:all:`: installing a wheel copies
files, no package code runs) into a throw-away virtual environment outside the repository;
each top-level package they install is summarised from its source, trimmed to what the index
evaluates (ffscan/semantic/libraries.py) and written with its distribution, version and the
Python that built it in `meta`. The same list on the same Python gives the same bytes.
Files of packages no longer listed are removed.
"""

from __future__ import annotations

import argparse
import os
import platform
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Dict, List, NamedTuple, Sequence, Tuple

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from ffscan.semantic.catalogue import CATALOGUE_DIR, dumps  # noqa: E402
from ffscan.semantic.libraries import summarize_package, top_level_names, trim  # noqa: E402

PACKAGES = ROOT / "tools" / "catalogue-packages.txt"
_PIN = re.compile(r"^([A-Za-z0-9][A-Za-z0-9._-]*)==([A-Za-z0-9.+!-]+)$")


class Pin(NamedTuple):
    name: str
    version: str


class BuildError(Exception):
    """The list or an install cannot be used; the script exits 2 with this message."""


def read_pins(path: Path) -> List[Pin]:
    """`name==version` lines; `#` starts a comment."""
    pins: List[Pin] = []
    for number, raw in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        line = raw.split("#", 1)[0].strip()
        if not line:
            continue
        match = _PIN.match(line)
        if match is None:
            raise BuildError(f"{path}:{number}: expected `name==version`, got {line!r}")
        pins.append(Pin(match.group(1), match.group(2)))
    names = [_normalised(p.name) for p in pins]
    duplicate = next((n for n in names if names.count(n) > 1), None)
    if duplicate:
        raise BuildError(f"{path}: {duplicate} is listed twice")
    return pins


def _normalised(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def install(pins: Sequence[Pin], where: Path, pip_args: Sequence[str]) -> Path:
    """A new venv under `where` with the pinned wheels installed; returns its site-packages."""
    venv = where / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    python = venv / ("Scripts/python.exe" if os.name == "nt" else "bin/python")
    command = [
        str(python), "-m", "pip", "install", "--quiet", "--disable-pip-version-check",
        "--no-deps", "--only-binary=:all:", "--no-compile", *pip_args,
        *(f"{p.name}=={p.version}" for p in pins),
    ]
    result = subprocess.run(command)
    if result.returncode != 0:
        raise BuildError(f"pip could not install the pinned wheels (exit {result.returncode})")
    purelib = subprocess.run(
        [str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
        check=True, capture_output=True, text=True,
    ).stdout.strip()
    return Path(purelib)


def distribution_tops(site: Path, pin: Pin) -> List[str]:
    """The top-level packages the installed distribution `pin` provides (from its RECORD)."""
    wanted = _normalised(pin.name)
    for info in sorted(site.glob("*.dist-info")):
        name, _, version = info.name[: -len(".dist-info")].rpartition("-")
        if _normalised(name) == wanted:
            if version != pin.version:
                raise BuildError(f"{pin.name}: installed {version}, pinned {pin.version}")
            return top_level_names((info / "RECORD").read_text(encoding="utf-8").splitlines())
    raise BuildError(f"{pin.name}: not installed")


def build(pins: Sequence[Pin], site: Path) -> Dict[str, bytes]:
    """`<top>.json.gz` name -> bytes, for every top-level package of every pin."""
    tops: List[Tuple[str, Pin]] = []
    for pin in pins:
        provided = distribution_tops(site, pin)
        if not provided:
            raise BuildError(f"{pin.name}: installs no importable package")
        tops.extend((top, pin) for top in provided)
    seen: Dict[str, Pin] = {}
    for top, pin in tops:
        if top in seen:
            raise BuildError(f"{top} is installed by both {seen[top].name} and {pin.name}")
        seen[top] = pin
    others = frozenset(seen)
    python = platform.python_version()
    files: Dict[str, bytes] = {}
    for top, pin in sorted(tops):
        summaries = trim(summarize_package(site, top), others)
        meta = {"package": pin.name, "version": pin.version, "python": python, "top": top}
        files[f"{top}.json.gz"] = dumps(summaries, meta)
    return files


def write(files: Dict[str, bytes], out: Path, check: bool) -> List[str]:
    """Write what changed and remove what is no longer built; the names that differ."""
    changed = []
    existing = {p.name for p in out.glob("*.json.gz")} if out.is_dir() else set()
    for name, data in sorted(files.items()):
        path = out / name
        if not path.is_file() or path.read_bytes() != data:
            changed.append(name)
            if not check:
                out.mkdir(parents=True, exist_ok=True)
                path.write_bytes(data)
    for name in sorted(existing - set(files)):
        changed.append(name)
        if not check:
            (out / name).unlink()
    return changed


def main(argv: Sequence[str] = ()) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--packages", type=Path, default=PACKAGES, help="the list of pins (default: %(default)s)")
    parser.add_argument("--out", type=Path, default=CATALOGUE_DIR, help="where the files go (default: %(default)s)")
    parser.add_argument("--check", action="store_true", help="write nothing; exit 1 if a file would change")
    parser.add_argument("--find-links", action="append", default=[], metavar="DIR", help="passed to pip")
    parser.add_argument("--no-index", action="store_true", help="passed to pip: use --find-links only")
    args = parser.parse_args(list(argv))
    pip_args = [f"--find-links={d}" for d in args.find_links] + (["--no-index"] if args.no_index else [])
    started = time.perf_counter()
    where = Path(tempfile.mkdtemp(prefix="ffscan-catalogue-"))
    try:
        pins = read_pins(args.packages)
        files = build(pins, install(pins, where, pip_args))
    except BuildError as error:
        print(f"build_catalogue: {error}", file=sys.stderr)
        return 2
    finally:
        shutil.rmtree(where, ignore_errors=True)
    changed = write(files, args.out, args.check)
    total = sum(len(data) for data in files.values())
    for name in changed:
        print(f"{'would change' if args.check else 'wrote'}: {name}")
    print(
        f"{len(files)} packages, {total / 1024:.0f} KiB in all, {len(changed)} changed, "
        f"{time.perf_counter() - started:.1f} s"
    )
    return 1 if args.check and changed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
