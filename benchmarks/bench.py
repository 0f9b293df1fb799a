#!/usr/bin/env python3
"""Time ffscan against its peers on one tree, in one run, and print the ratios.

    python -m venv .bench && .bench/bin/pip install -e . -r benchmarks/requirements.txt
    .bench/bin/python benchmarks/bench.py                 # the standard library, tests excluded
    .bench/bin/python benchmarks/bench.py --tree ../eval-corpus/aio-libs__aiohttp --runs 5

Every tool reads the same copy of the tree. The baseline is `ast.parse` of every file in one
process, measured in the same run: ffscan's target is a cold check (no cache, the
whole-program pass included) within 2x of it. With the cache, a rerun on the unchanged tree is
timed (interpreter start included) against ruff's cold run, and a rerun after one file of
median size changed against ffscan's cold run (target: under 15%); the largest file changed is
timed too, as the worst case. Peers
that are not installed are reported as missing, never faked. Memory is the peak resident
set of the largest process a tool started (ru_maxrss of waited-for children).
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import sysconfig
import tempfile
import time
from pathlib import Path
from typing import Callable, List, Optional, Sequence, Tuple

TARGET_RATIO = 2.0
CHANGED_TARGET = 0.15
SLOW_SECONDS = 60.0
EXCLUDED_PARTS = {"test", "tests", "idle_test", "site-packages", "__pycache__"}

_MEASURE = r"""
import resource, subprocess, sys, time
start = time.perf_counter()
done = subprocess.run(sys.argv[1:], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
elapsed = time.perf_counter() - start
rss_kb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
sys.stderr.write(done.stderr.decode(errors="replace")[-2000:] if done.returncode not in (0, 1) else "")
print(f"{elapsed} {rss_kb} {done.returncode}")
"""

_PARSE_ALL = r"""
import ast, sys
from pathlib import Path
for path in sorted(Path(sys.argv[1]).rglob("*.py")):
    try:
        ast.parse(path.read_bytes())
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        pass
"""


def copy_tree(source: Path, destination: Path) -> Tuple[int, int]:
    files = lines = 0
    for path in sorted(source.rglob("*.py")):
        relative = path.relative_to(source)
        if EXCLUDED_PARTS & set(relative.parts[:-1]) or not path.is_file():
            continue
        target = destination / relative
        target.parent.mkdir(parents=True, exist_ok=True)
        data = path.read_bytes()
        target.write_bytes(data)
        files += 1
        lines += data.count(b"\n")
    return files, lines


# As an installed tool runs: its modules' bytecode cached (a shell with PYTHONDONTWRITEBYTECODE
# set would compile every module of every tool on every run).
_ENV = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}


def measure(
    command: Sequence[str], runs: int, timeout: float, before: Optional[Callable[[], None]] = None
) -> Optional[Tuple[float, float, int]]:
    """Median seconds, peak MiB and the last exit code over `runs` runs, or None if it failed.

    `before` runs (untimed) ahead of each run. A run past `timeout` seconds counts as that many
    seconds with exit code -1.
    """
    times, peaks, code = [], [], 0
    for _ in range(runs):
        if before is not None:
            before()
        try:
            done = subprocess.run(
                [sys.executable, "-c", _MEASURE, *command],
                capture_output=True, text=True, check=False, timeout=timeout, env=_ENV,
            )
        except subprocess.TimeoutExpired:
            return timeout, float("nan"), -1
        if done.returncode != 0 or not done.stdout.strip():
            sys.stderr.write(done.stderr)
            return None
        elapsed, rss_kb, code = done.stdout.split()
        if int(code) not in (0, 1):
            sys.stderr.write(f"{command[0]} exited {code}: {done.stderr.strip()[:400]}\n")
            return None
        times.append(float(elapsed))
        peaks.append(int(rss_kb) / 1024)
        if float(elapsed) > SLOW_SECONDS:
            break  # one run of a tool this slow says enough, and repeats would take minutes
    return statistics.median(times), max(peaks), int(code)


def tool(name: str) -> Optional[str]:
    beside = Path(sys.executable).parent / name
    return str(beside) if beside.exists() else shutil.which(name)


def main(argv: Optional[List[str]] = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tree", type=Path, default=Path(sysconfig.get_paths()["stdlib"]))
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--no-peers", action="store_true", help="time ffscan and the baseline only")
    parser.add_argument("--timeout", type=float, default=300.0, help="seconds before a run is stopped")
    args = parser.parse_args(argv)

    with tempfile.TemporaryDirectory(prefix="ffscan-bench-") as scratch:
        tree = Path(scratch) / "tree"
        files, lines = copy_tree(args.tree, tree)
        print(f"tree: {args.tree} ({files} files, {lines:,} lines), {args.runs} runs each, {os.cpu_count()} cores")
        python = sys.executable
        (tree / "ffscan.toml").write_text("# the benchmark's project root: the cache lives beside it\n", encoding="utf-8")
        cache = tree / ".ffscan_cache"
        # A typical edit touches a file of typical size (the median); the largest file, whose
        # own parse may be a good share of the tree's, is timed beside it as the worst case.
        by_size = sorted(tree.rglob("*.py"), key=lambda p: (p.stat().st_size, str(p)))
        typical, largest = by_size[len(by_size) // 2], by_size[-1]
        largest_size = largest.stat().st_size
        ffscan = [python, "-m", "ffscan", "check", str(tree), "--exit-zero", "--format", "concise", "--no-color"]

        def cold() -> None:
            shutil.rmtree(cache, ignore_errors=True)

        def warm() -> None:
            if not cache.exists():
                subprocess.run(ffscan, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=False)

        def changing(path: Path) -> Callable[[], None]:
            def change() -> None:
                warm()
                path.write_text(path.read_text(encoding="utf-8") + "\n# changed\n", encoding="utf-8")

            return change

        rows = [
            ("ast.parse, 1 process (baseline)", [python, "-c", _PARSE_ALL, str(tree)], None),
            ("ffscan check, cold (default rules)", ffscan, cold),
            ("ffscan check, unchanged tree (cache)", ffscan, warm),
            ("ffscan check, one file changed (cache)", ffscan, changing(typical)),
            ("ffscan check, largest file changed", ffscan, changing(largest)),
            ("ffscan check --select ALL, cold", [*ffscan, "--select", "ALL"], cold),
            ("ffscan check -j 1, cold", [*ffscan, "-j", "1"], cold),
        ]
        if not args.no_peers:
            ruff, flake8, pylint = tool("ruff"), tool("flake8"), tool("pylint")
            flake8_async = tool("flake8-async")
            if ruff:
                rows.append(("ruff --select RUF006,ASYNC, cold", [ruff, "check", "--no-cache", "--select", "RUF006,ASYNC", "--exit-zero", "--isolated", str(tree)], None))
            if flake8:
                rows.append(("flake8 --select ASYNC (flake8-async)", [flake8, "--select", "ASYNC", "--exit-zero", "-j", "2", str(tree)], None))
            elif flake8_async:  # the plugin's own command line, one process, libcst-based
                files = [str(p) for p in sorted(tree.rglob("*.py"))]
                rows.append(("flake8-async (standalone)", [flake8_async, "--asyncio", *files], None))
            if pylint:
                rows.append(("pylint (3 checks, -j 2)", [pylint, "--disable=all", "--enable=W0106,W0612,W0718", "-j", "2", "--exit-zero", str(tree)], None))
            missing = [n for n, p in (("ruff", ruff), ("flake8-async", flake8 or flake8_async), ("pylint", pylint)) if not p]
            if missing:
                print(f"not installed, not timed: {', '.join(missing)} (pip install -r benchmarks/requirements.txt)")

        results = []
        for label, command, before in rows:
            measured = measure(command, args.runs, args.timeout, before)
            results.append((label, measured))
            shown = "failed" if measured is None else f"{measured[0]:.2f} s"
            if measured is not None and measured[2] == -1:
                shown = f"stopped after {args.timeout:.0f} s"
            print(f"  measured {label}: {shown}", file=sys.stderr)

    baseline = results[0][1]
    ours = results[1][1]
    print()
    print(f"{'tool':40} {'median s':>9} {'x baseline':>11} {'x ffscan':>9} {'peak MiB':>9}")
    for label, measured in results:
        if measured is None:
            print(f"{label:40} {'failed':>9}")
            continue
        seconds, peak, code = measured
        vs_base = seconds / baseline[0] if baseline else float("nan")
        vs_ours = seconds / ours[0] if ours else float("nan")
        over = ">" if code == -1 else " "
        peak_text = "-" if peak != peak else f"{peak:.0f}"  # NaN: the run was stopped
        print(f"{label:40} {over}{seconds:8.2f} {over}{vs_base:10.2f} {over}{vs_ours:8.2f} {peak_text:>9}")
    by_label = dict(results)
    warm_run = by_label.get("ffscan check, unchanged tree (cache)")
    changed_run = by_label.get("ffscan check, one file changed (cache)")
    largest_run = by_label.get("ffscan check, largest file changed")
    ruff_run = by_label.get("ruff --select RUF006,ASYNC, cold")
    if warm_run and ruff_run:
        print(f"\nunchanged tree, cache: {warm_run[0]:.2f} s, {warm_run[0] / ruff_run[0]:.1f}x ruff's cold run")
    if changed_run and ours:
        share = changed_run[0] / ours[0]
        verdict = "within" if share <= CHANGED_TARGET else "OVER"
        print(f"one file changed ({typical.name}, median size): {share:.0%} of the cold run: {verdict} the {CHANGED_TARGET:.0%} target")
    if largest_run and ours:
        print(f"largest file changed ({largest.name}, {largest_size:,} bytes): "
              f"{largest_run[0] / ours[0]:.0%} of the cold run")
    if baseline and ours:
        ratio = ours[0] / baseline[0]
        verdict = "within" if ratio <= TARGET_RATIO else "OVER"
        print(f"cold check is {ratio:.2f}x the one-process ast.parse time: {verdict} the {TARGET_RATIO:.0f}x target")
        return 0 if ratio <= TARGET_RATIO else 1
    return 1


if __name__ == "__main__":
    start = time.perf_counter()
    code = main()
    print(f"(benchmark took {time.perf_counter() - start:.0f} s)", file=sys.stderr)
    sys.exit(code)
