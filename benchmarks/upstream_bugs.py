#!/usr/bin/env python3
"""Count the real, upstream-fixed bugs that ffscan and its peers find, in one run.

    python3 -m venv ../peers && ../peers/bin/pip install -r benchmarks/requirements.txt
    python benchmarks/upstream_bugs.py                      # every case, every tool
    python benchmarks/upstream_bugs.py --only faust-update-topicmap,red-rpc-load
    python benchmarks/upstream_bugs.py --tools ffscan,ffscan-all --markdown

Each case in benchmarks/upstream-bugs/cases.tsv is a bug that a project fixed: the fix
commit, the file, and the line that was wrong in the fix's parent. The whole tree is checked
out twice, at the parent ("before") and at the fix ("after"), from a bare mirror of the
repository ($MIRROR_ROOT/<owner>+<name>/repo) with a throw-away index, into
$EVAL_BUGS_DIR/<id>/{before,after} (default ../eval-bugs, outside the repository). Every tool
then checks each tree:

    ffscan        ffscan check --format json (default rules)
    ffscan-all    ffscan check --format json --select ALL
    mypy          --ignore-missing-imports --check-untyped-defs
                  --enable-error-code unused-awaitable --enable-error-code unused-coroutine,
                  on the bug's top-level package, from its import root
    pyright       reportUnusedCoroutine as an error, on the same package
    ruff          ruff check --select RUF006,ASYNC

A tool finds a case when it reports on the bug's statement before the fix and on none of the
lines that statement became after it. "still" means it reported both times (the fix was not
recognised), "-" that it did not report before. No project dependency is installed, so
third-party APIs are known to a tool only if it knows them itself.

Checkouts and tool outputs are cached per case; a tool's output is redone when the tool
changes (its version, and for ffscan a digest of its source). Tools come from flags or
FFSCAN, MYPY, PYRIGHT and RUFF; a tool that is not found is reported as missing, never faked.
"""

from __future__ import annotations

import argparse
import ast
import concurrent.futures
import csv
import difflib
import hashlib
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Dict, Iterable, List, Optional, Sequence, Set, Tuple

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
DEFAULT_CASES = HERE / "upstream-bugs" / "cases.tsv"
TOOLS = ("ffscan", "ffscan-all", "mypy", "pyright", "ruff")
FAMILIES = ("FF1", "FF2", "FF3", "FF4", "FF5")
SIDES = ("before", "after")
TOOL_TIMEOUT = 1800.0
INVOCATION = 3  # part of every cache key: bump it when a tool's command line changes
MYPY_CODES = {"unused-awaitable", "unused-coroutine"}
PYRIGHT_RULES = {"reportUnusedCoroutine"}
MYPY_LINE = re.compile(r"^(?P<path>[^:\n]+):(?P<line>\d+):(?:\d+:)? error: .*\[(?P<code>[a-z-]+)\]$")


@dataclass(frozen=True)
class Case:
    id: str
    repo: str
    fix_commit: str
    path: str
    lines: Tuple[int, ...]  # the bug line first, then other lines that show the same bug
    family: str
    what: str
    reference: str


@dataclass
class Outcome:
    """What one tool said about one case."""

    state: str  # "found", "still", "miss", "error", "missing"
    codes: Tuple[str, ...] = ()
    detail: str = ""


@dataclass
class CaseResult:
    case: Case
    outcomes: Dict[str, Outcome] = field(default_factory=dict)
    note: str = ""


# --- cases ------------------------------------------------------------------------------


def read_cases(path: Path) -> List[Case]:
    cases = []
    with open(path, newline="", encoding="utf-8") as handle:
        for number, row in enumerate(csv.DictReader(handle, delimiter="\t"), start=2):
            try:
                lines = (int(row["line"]),) + tuple(int(x) for x in row["also"].split(",") if x.strip())
                if row["family"] not in FAMILIES or not re.fullmatch(r"[0-9a-f]{40}", row["fix_commit"]):
                    raise ValueError("family must be FF1..FF5 and fix_commit a full sha")
            except (KeyError, ValueError, AttributeError) as error:
                raise SystemExit(f"{path}:{number}: bad case row: {error}") from None
            cases.append(Case(row["id"], row["repo"], row["fix_commit"], row["path"], lines,
                              row["family"], row["what"], row["reference"]))
    ids = [c.id for c in cases]
    if len(set(ids)) != len(ids):
        raise SystemExit(f"{path}: duplicate case ids")
    return cases


# --- checkouts --------------------------------------------------------------------------


def git(git_dir: Path, *args: str, env: Optional[Dict[str, str]] = None) -> subprocess.CompletedProcess:
    return subprocess.run(["git", "--git-dir", str(git_dir), *args], capture_output=True, text=True,
                          errors="replace", env=env)


def mirror_for(mirror_root: Path, repo: str) -> Path:
    owner, name = repo.split("/", 1)
    for candidate in (mirror_root / f"{owner}+{name}" / "repo", mirror_root / f"{owner}+{name}"):
        if git(candidate, "rev-parse", "--git-dir").returncode == 0:
            return candidate
    raise LookupError(f"no mirror of {repo} under {mirror_root} (fetch github:{repo} there first)")


def materialize(git_dir: Path, commit: str, dest: Path) -> None:
    """Check out `commit` into `dest` without touching the mirror's index or HEAD."""
    marker = dest / ".ffscan-bench-commit"
    if marker.is_file() and marker.read_text().strip() == commit:
        return
    if dest.exists():
        shutil.rmtree(dest)
    dest.mkdir(parents=True)
    with tempfile.TemporaryDirectory(prefix="upstream-bugs-index-") as scratch:
        env = dict(os.environ, GIT_INDEX_FILE=str(Path(scratch) / "index"))
        done = git(git_dir, "read-tree", commit, env=env)
        if done.returncode:
            raise RuntimeError(f"read-tree {commit} in {git_dir}: {done.stderr.strip()}")
        done = git(git_dir, f"--work-tree={dest}", "checkout-index", "-a", "-f", env=env)
    # Snapshots may lack their largest blobs; that is fine unless a Python file is missing.
    missing = re.findall(r"unable to read sha1 file of (\S+)", done.stderr)
    if done.returncode and (not missing or any(p.endswith((".py", ".pyi")) for p in missing)):
        raise RuntimeError(f"checkout-index {commit}: {done.stderr.strip()[-2000:]}")
    marker.write_text(commit + "\n")


def parent_of(git_dir: Path, commit: str) -> str:
    done = git(git_dir, "rev-parse", f"{commit}^")
    if done.returncode:
        raise LookupError(f"{commit} has no parent in {git_dir}: {done.stderr.strip()}")
    return done.stdout.strip()


# --- where a bug statement is, before and after -------------------------------------------


def statement_span(source: str, line: int) -> Tuple[int, int]:
    """The lines of the innermost statement holding `line` (a compound one's header only)."""
    try:
        tree = ast.parse(source)
    except (SyntaxError, ValueError):
        return line, line
    best: Optional[Tuple[int, int]] = None
    for node in ast.walk(tree):
        if not isinstance(node, ast.stmt):
            continue
        start, end = node.lineno, node.end_lineno or node.lineno
        body = getattr(node, "body", None)
        if isinstance(body, list) and body and not isinstance(node, (ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef)):
            end = max(start, body[0].lineno - 1)
        elif isinstance(node, (ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef)):
            end = max(start, node.body[0].lineno - 1)
        if start <= line <= end and (best is None or end - start < best[1] - best[0]):
            best = (start, end)
    return best or (line, line)


def bug_lines_before(source: str, lines: Sequence[int]) -> Set[int]:
    covered: Set[int] = set()
    for line in lines:
        start, end = statement_span(source, line)
        covered.update(range(start, end + 1))
    return covered


def map_lines_after(before: str, after: Optional[str], lines: Set[int]) -> Set[int]:
    """The lines of `after` that the `lines` of `before` became (whole statements)."""
    if after is None:
        return set()
    old, new = before.splitlines(), after.splitlines()
    mapped: Set[int] = set()
    matcher = difflib.SequenceMatcher(None, old, new, autojunk=False)
    for tag, i1, i2, j1, j2 in matcher.get_opcodes():
        touched = [line for line in lines if i1 < line <= i2]
        if not touched:
            continue
        if tag == "equal":
            mapped.update(j1 + (line - i1) for line in touched)
        elif tag == "replace":
            mapped.update(range(j1 + 1, j2 + 1))
    widened: Set[int] = set()
    for line in mapped:
        start, end = statement_span(after, line)
        widened.update(range(start, end + 1))
    return widened


# --- tools ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Tool:
    name: str
    path: Optional[str]
    identity: str  # changes when the tool does; part of the cache key


def tool_version(path: str, *args: str) -> str:
    try:
        done = subprocess.run([path, *args], capture_output=True, text=True, timeout=600)
    except (OSError, subprocess.TimeoutExpired) as error:
        return f"unknown ({error})"
    return (done.stdout or done.stderr).strip().splitlines()[0] if (done.stdout or done.stderr).strip() else "unknown"


def ffscan_identity(path: str) -> str:
    """ffscan's version plus a digest of the source of the ffscan package it runs."""
    python = Path(path).with_name("python")
    probe = "import ffscan, os; print(os.path.dirname(ffscan.__file__))"
    digest = hashlib.sha256()
    try:
        package = subprocess.run([str(python), "-c", probe], capture_output=True, text=True, check=True).stdout.strip()
    except (OSError, subprocess.CalledProcessError) as error:
        return f"{tool_version(path, '--version')} (source unknown: {error})"
    for file in sorted(Path(package).rglob("*")):
        if file.is_file() and file.suffix in {".py", ".json", ".toml"}:
            digest.update(str(file.relative_to(package)).encode())
            digest.update(file.read_bytes())
    return f"{tool_version(path, '--version')} src:{digest.hexdigest()[:16]}"


def find_tools(args: argparse.Namespace) -> Dict[str, Tool]:
    def locate(flag: Optional[str], env: str, fallback: Optional[str]) -> Optional[str]:
        for candidate in (flag, os.environ.get(env), fallback):
            if candidate and (Path(candidate).is_file() or shutil.which(candidate)):
                return str(Path(candidate).resolve()) if Path(candidate).is_file() else shutil.which(candidate)
        return None

    ffscan = locate(args.ffscan, "FFSCAN", str(REPO / ".venv" / "bin" / "ffscan"))
    mypy = locate(args.mypy, "MYPY", None)
    pyright = locate(args.pyright, "PYRIGHT", None)
    ruff = locate(args.ruff, "RUFF", None)
    ffscan_id = ffscan_identity(ffscan) if ffscan else ""
    tools = {
        "ffscan": Tool("ffscan", ffscan, ffscan_id),
        "ffscan-all": Tool("ffscan-all", ffscan, ffscan_id + " --select ALL"),
        "mypy": Tool("mypy", mypy, tool_version(mypy, "--version") if mypy else ""),
        "pyright": Tool("pyright", pyright, tool_version(pyright, "--version") if pyright else ""),
        "ruff": Tool("ruff", ruff, tool_version(ruff, "--version") if ruff else ""),
    }
    return {name: tools[name] for name in args.tools}


def import_root(tree: Path, relative: str) -> Tuple[Path, str]:
    """The directory to run a type checker from, and the package (or file) to check."""
    file = tree / relative
    top = file.parent
    if not (top / "__init__.py").is_file():
        return tree, relative  # a script or test outside any package: check it alone
    while (top.parent / "__init__.py").is_file() and top.parent != tree:
        top = top.parent
    return top.parent, top.name


def run(command: Sequence[str], cwd: Path, timeout: float) -> Tuple[int, str, str, float]:
    start = time.perf_counter()
    try:
        done = subprocess.run(list(command), cwd=cwd, capture_output=True, text=True, errors="replace",
                              timeout=timeout, env=dict(os.environ, NO_COLOR="1"))
    except subprocess.TimeoutExpired:
        return -1, "", f"timed out after {timeout:.0f} s", time.perf_counter() - start
    return done.returncode, done.stdout, done.stderr, time.perf_counter() - start


def check(tool: Tool, tree: Path, case: Case, scratch: Path, timeout: float) -> Dict:
    """Run one tool on one tree; returns {"ok", "findings": [[path, line, code]], "seconds", "error"}."""
    findings: List[Tuple[str, int, str]] = []
    if tool.name in ("ffscan", "ffscan-all"):
        config = scratch / "ffscan.toml"  # empty: ffscan's defaults, whatever the project says
        config.write_text("")
        command = [tool.path, "check", "--format", "json", "--exit-zero", "--quiet", "--no-color",
                   "--no-cache", "--config", str(config), str(tree)]
        if tool.name == "ffscan-all":
            command[2:2] = ["--select", "ALL"]
        code, out, err, seconds = run(command, tree, timeout)
        try:
            document = json.loads(out)
        except json.JSONDecodeError:
            return {"ok": False, "error": (err or out)[-1500:], "seconds": seconds, "findings": []}
        crashes = [e["message"] for e in document.get("errors", []) if "internal error" in e.get("message", "")]
        if crashes:  # a bug of ffscan's own: counted as an error, never as "not found"
            return {"ok": False, "error": crashes[0][-1500:], "seconds": seconds, "findings": []}
        for item in document["findings"]:
            findings.append((item["path"], item["start"]["line"], item["code"]))
    elif tool.name == "mypy":
        cwd, target = import_root(tree, case.path)
        command = [tool.path, "--config-file", os.devnull, "--ignore-missing-imports",
                   "--check-untyped-defs", "--enable-error-code", "unused-awaitable",
                   "--enable-error-code", "unused-coroutine", "--show-error-codes",
                   "--no-error-summary", "--no-pretty", "--hide-error-context",
                   "--cache-dir", str(scratch / "mypy-cache"), target]
        code, out, err, seconds = run(command, cwd, timeout)
        if code not in (0, 1):  # 2: a blocking error (a syntax error, a duplicate module)
            blocking = [t for t in out.splitlines() if "error:" in t][-1:] or [(err or out)[-1500:]]
            return {"ok": False, "error": blocking[0], "seconds": seconds, "findings": []}
        for text in out.splitlines():
            match = MYPY_LINE.match(text.strip())
            if match and match["code"] in MYPY_CODES:
                findings.append((str((cwd / match["path"]).resolve()), int(match["line"]), match["code"]))
    elif tool.name == "pyright":
        cwd, target = import_root(tree, case.path)
        # pyright ignores absolute paths in "include"; they are relative to the config file.
        config = scratch / f"pyrightconfig-{tree.name}.json"
        config.write_text(json.dumps({
            "include": [os.path.relpath(cwd / target, scratch)],
            "extraPaths": [os.path.relpath(cwd, scratch)],
            "typeCheckingMode": "standard",
            "reportUnusedCoroutine": "error",
        }))
        command = [tool.path, "--outputjson", "--project", str(config)]
        code, out, err, seconds = run(command, cwd, timeout)
        try:
            document = json.loads(out)
        except json.JSONDecodeError:
            return {"ok": False, "error": (err or out)[-1500:], "seconds": seconds, "findings": []}
        for item in document.get("generalDiagnostics", []):
            if item.get("rule") in PYRIGHT_RULES:
                findings.append((item["file"], item["range"]["start"]["line"] + 1, item["rule"]))
    elif tool.name == "ruff":
        command = [tool.path, "check", "--isolated", "--no-cache", "--exit-zero", "--output-format", "json",
                   "--select", "RUF006,ASYNC", str(tree)]
        code, out, err, seconds = run(command, tree, timeout)
        try:
            document = json.loads(out)
        except json.JSONDecodeError:
            return {"ok": False, "error": (err or out)[-1500:], "seconds": seconds, "findings": []}
        for item in document:
            findings.append((item["filename"], item["location"]["row"], item["code"]))
    else:
        raise ValueError(tool.name)
    return {"ok": True, "error": "", "seconds": seconds, "findings": findings}


def relative_to_tree(path: str, tree: Path) -> str:
    resolved = Path(path) if os.path.isabs(path) else (tree / path)
    try:
        return resolved.resolve().relative_to(tree.resolve()).as_posix()
    except ValueError:
        return Path(path).as_posix()


# --- one case ---------------------------------------------------------------------------


def evaluate(case: Case, tools: Dict[str, Tool], mirror_root: Path, work: Path, refresh: bool,
             timeout: float, log) -> CaseResult:
    result = CaseResult(case)
    home = work / case.id
    try:
        git_dir = mirror_for(mirror_root, case.repo)
        parent = parent_of(git_dir, case.fix_commit)
        trees = {"before": home / "before", "after": home / "after"}
        materialize(git_dir, parent, trees["before"])
        materialize(git_dir, case.fix_commit, trees["after"])
    except (LookupError, RuntimeError, OSError) as error:
        result.note = f"checkout failed: {error}"
        for name in tools:
            result.outcomes[name] = Outcome("error", detail=result.note)
        return result
    before_source = (trees["before"] / case.path).read_text(encoding="utf-8", errors="replace")
    after_file = trees["after"] / case.path
    after_source = after_file.read_text(encoding="utf-8", errors="replace") if after_file.is_file() else None
    # The bug line must be what cases.tsv says it is, or every verdict below is meaningless.
    if max(case.lines) > len(before_source.splitlines()):
        result.note = f"{case.path} has no line {max(case.lines)} before the fix"
    wanted = {"before": bug_lines_before(before_source, case.lines)}
    wanted["after"] = map_lines_after(before_source, after_source, wanted["before"])
    outputs = home / "out"
    outputs.mkdir(exist_ok=True)
    for name, tool in tools.items():
        if tool.path is None:
            result.outcomes[name] = Outcome("missing", detail="not installed")
            continue
        hits: Dict[str, List[str]] = {}
        failed = ""
        for side in SIDES:
            cache = outputs / f"{side}.{name}.json"
            key = hashlib.sha256(f"{INVOCATION}|{tool.identity}|{tool.path}|{case.path}".encode()).hexdigest()
            record = None
            if cache.is_file() and not refresh:
                record = json.loads(cache.read_text())
                if record.get("key") != key or not record.get("ok"):
                    record = None
            if record is None:
                log(f"{case.id}: {name} on {side}")
                record = check(tool, trees[side], case, home, timeout)
                record["key"] = key
                cache.write_text(json.dumps(record))
            if not record["ok"]:
                failed = record["error"].strip().splitlines()[-1] if record["error"].strip() else "failed"
                break
            hits[side] = sorted({code for path, line, code in record["findings"]
                                 if relative_to_tree(path, trees[side]) == case.path and line in wanted[side]})
        if failed:
            result.outcomes[name] = Outcome("error", detail=failed)
        elif not hits["before"]:
            result.outcomes[name] = Outcome("miss")
        elif hits["after"]:
            result.outcomes[name] = Outcome("still", tuple(hits["before"]), detail=",".join(hits["after"]))
        else:
            result.outcomes[name] = Outcome("found", tuple(hits["before"]))
    return result


# --- the report -------------------------------------------------------------------------


def cell(outcome: Outcome) -> str:
    if outcome.state == "found":
        return "yes " + " ".join(outcome.codes) if outcome.codes else "yes"
    if outcome.state == "still":
        return "still " + " ".join(outcome.codes)
    if outcome.state == "miss":
        return "-"
    return outcome.state


def table(results: List[CaseResult], tools: Sequence[str], markdown: bool) -> str:
    header = ["case", "family"] + list(tools)
    rows = [[r.case.id, r.case.family] + [cell(r.outcomes[t]) for t in tools] for r in results]
    totals = []
    for family in FAMILIES + ("all",):
        members = [r for r in results if family == "all" or r.case.family == family]
        if not members:
            continue
        totals.append([f"**{family}**" if markdown else family, str(len(members))] + [
            f"{sum(r.outcomes[t].state == 'found' for r in members)}/{len(members)}" for t in tools])
    total_header = ["family", "cases"] + list(tools)
    return render_rows(header, rows, markdown) + "\n\n" + render_rows(total_header, totals, markdown)


def render_rows(header: List[str], rows: List[List[str]], markdown: bool) -> str:
    if markdown:
        lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
        lines += ["| " + " | ".join(row) + " |" for row in rows]
        return "\n".join(lines)
    widths = [max(len(str(x)) for x in column) for column in zip(header, *rows)]
    fmt = "  ".join("{:<%d}" % w for w in widths)
    return "\n".join(fmt.format(*row) for row in [header] + rows)


def main(argv: Optional[Sequence[str]] = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cases", type=Path, default=DEFAULT_CASES)
    parser.add_argument("--mirror-root", type=Path, default=Path(os.environ.get("MIRROR_ROOT", REPO.parent / ".mirror")))
    parser.add_argument("--work", type=Path, default=Path(os.environ.get("EVAL_BUGS_DIR", REPO.parent / "eval-bugs")),
                        help="where checkouts and tool outputs are cached (default ../eval-bugs)")
    parser.add_argument("--ffscan", help="ffscan executable (default: FFSCAN, then .venv/bin/ffscan)")
    parser.add_argument("--mypy", help="mypy executable (default: MYPY)")
    parser.add_argument("--pyright", help="pyright executable (default: PYRIGHT)")
    parser.add_argument("--ruff", help="ruff executable (default: RUFF)")
    parser.add_argument("--tools", default=",".join(TOOLS), help=f"comma-separated subset of {','.join(TOOLS)}")
    parser.add_argument("--only", help="comma-separated case ids")
    parser.add_argument("--jobs", type=int, default=1, help="cases checked at once")
    parser.add_argument("--refresh", action="store_true", help="rerun the tools even where outputs are cached")
    parser.add_argument("--timeout", type=float, default=TOOL_TIMEOUT, help="seconds per tool run")
    parser.add_argument("--markdown", action="store_true", help="print the tables as Markdown")
    parser.add_argument("--json", type=Path, help="also write every outcome here")
    args = parser.parse_args(argv)
    args.tools = [t.strip() for t in args.tools.split(",") if t.strip()]
    unknown = [t for t in args.tools if t not in TOOLS]
    if unknown:
        parser.error(f"unknown tools: {', '.join(unknown)}")
    cases = read_cases(args.cases)
    if args.only:
        wanted = {x.strip() for x in args.only.split(",")}
        missing = wanted - {c.id for c in cases}
        if missing:
            parser.error(f"no such cases: {', '.join(sorted(missing))}")
        cases = [c for c in cases if c.id in wanted]
    tools = find_tools(args)
    for name, tool in tools.items():
        print(f"{name:10} {tool.path or 'missing'}  {tool.identity}", file=sys.stderr)
    args.work.mkdir(parents=True, exist_ok=True)

    def log(message: str) -> None:
        print(message, file=sys.stderr, flush=True)

    with concurrent.futures.ThreadPoolExecutor(max_workers=max(1, args.jobs)) as pool:
        futures = [pool.submit(evaluate, case, tools, args.mirror_root.resolve(), args.work.resolve(),
                               args.refresh, args.timeout, log) for case in cases]
        results = [future.result() for future in futures]
    print(table(results, list(tools), args.markdown))
    for r in results:
        notes = [f"{t}: {o.detail}" for t, o in r.outcomes.items() if o.state in ("error", "missing") and o.detail]
        if r.note or notes:
            print(f"note {r.case.id}: {'; '.join(([r.note] if r.note else []) + notes)}", file=sys.stderr)
    if args.json:
        args.json.write_text(json.dumps([
            {"id": r.case.id, "family": r.case.family, "note": r.note,
             "outcomes": {t: {"state": o.state, "codes": list(o.codes), "detail": o.detail} for t, o in r.outcomes.items()}}
            for r in results], indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
