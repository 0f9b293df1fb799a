#!/usr/bin/env python3
"""Print what reading third-party summaries costs a check of one tree.

    python benchmarks/libraries.py ../eval-corpus/PrefectHQ__prefect
    python benchmarks/libraries.py TREE --python TREE/.venv    # the project's environment

Runs `ffscan check` in one process (`-j 1`, so every load is seen) with the tree's own
configuration, and times each package the index asks for the first time (shipped catalogue
or environment). Prints the packages read, their load times and sizes in memory, and the
share of the run they take. Wall-clock comparisons of whole runs on a busy machine drown this
cost in noise; timing the loads themselves does not.
"""

from __future__ import annotations

import argparse
import sys
import time
import tracemalloc
from pathlib import Path
from typing import Dict, Tuple

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import ffscan.engine  # noqa: E402
import ffscan.engine.runner  # noqa: E402
from ffscan.config import find_config, load_settings  # noqa: E402
from ffscan.rules import rule_names  # noqa: E402
from ffscan.semantic import environment  # noqa: E402


def main(argv) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("tree", type=Path)
    parser.add_argument("--python", type=Path, help="the project's interpreter or venv (default: as ffscan finds it)")
    parser.add_argument("--memory", action="store_true", help="also measure each package's size in memory (slower)")
    args = parser.parse_args(argv)
    tree = args.tree.resolve()
    settings = load_settings(find_config(tree), tree, rule_names(), search_from=tree)
    if args.python is not None:
        settings = settings.with_overrides(python=args.python.resolve())
    loads: Dict[str, Tuple[float, int, int]] = {}  # top -> (seconds, modules, bytes)
    real = environment.libraries_for

    def timed_libraries_for(run_settings):
        loader = real(run_settings)

        def timed(top: str):
            if top in loads:
                return loader(top)
            if args.memory:
                tracemalloc.start()
            started = time.perf_counter()
            found = loader(top)
            seconds = time.perf_counter() - started
            size = 0
            if args.memory:
                size = tracemalloc.get_traced_memory()[0]
                tracemalloc.stop()
            loads[top] = (seconds, len(found), size)
            return found

        return timed

    ffscan.engine.libraries_for = timed_libraries_for
    ffscan.engine.runner.libraries_for = timed_libraries_for
    import os

    os.chdir(tree)
    started = time.perf_counter()
    result = ffscan.engine.run_check(["."], settings, jobs=1)
    total = time.perf_counter() - started
    read = {top: v for top, v in loads.items() if v[1]}
    spent = sum(v[0] for v in read.values())
    interpreter = environment.find_interpreter(settings)
    print(f"{tree.name}: {result.files_checked} files, {len(result.findings)} findings, {total:.2f} s in one process")
    print(f"source: {interpreter or 'the shipped catalogue (no environment)'}")
    print(f"{len(loads)} top-level names asked for, {len(read)} read:")
    for top, (seconds, modules, size) in sorted(read.items()):
        memory = f", {size / 1e6:.1f} MB" if args.memory else ""
        print(f"  {top:16} {1000 * seconds:7.1f} ms  {modules:5} modules{memory}")
    print(f"reading them: {1000 * spent:.0f} ms, {100 * spent / total:.1f}% of the run")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
