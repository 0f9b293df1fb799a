"""Command line: argument parsing and exit codes only.

Exit codes: 0 no findings, 1 findings, 2 usage or configuration error, a path that does not
exist, or a rule that crashed on some file (the rest of the run still completes).
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path
from typing import List, Optional, Sequence

from ffscan import __version__
from ffscan.config import ConfigError, Settings, find_config, load_settings

EXIT_CLEAN, EXIT_FINDINGS, EXIT_ERROR = 0, 1, 2


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> None:  # argparse exits 2 too; keep its message shape
        self.print_usage(sys.stderr)
        self.exit(EXIT_ERROR, f"ffscan: error: {message}\n")


def _selectors(value: str) -> List[str]:
    return [part.strip() for part in value.split(",") if part.strip()]


def _positive_int(value: str) -> int:
    try:
        number = int(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{value!r} is not a whole number") from None
    if number < 1:
        raise argparse.ArgumentTypeError(f"{value!r} must be 1 or more")
    return number


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="ffscan", description="Find fire-and-forget bugs in Python code.")
    parser.add_argument("--version", action="version", version=f"ffscan {__version__}")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)

    check = commands.add_parser("check", help="check files for fire-and-forget bugs")
    check.add_argument("paths", nargs="*", default=["."], metavar="PATH")
    check.add_argument("--select", type=_selectors, help="rule codes or prefixes to enable (replaces the default set)")
    check.add_argument("--extend-select", type=_selectors, help="rule codes or prefixes to enable in addition")
    check.add_argument("--ignore", type=_selectors, help="rule codes or prefixes to disable")
    check.add_argument(
        "--format",
        choices=("text", "concise", "json", "sarif", "github", "ticket"),
        default=None,
        help="output format (default: text)",
    )
    check.add_argument("--output-file", "-o", type=Path, help="write the report here instead of stdout")
    check.add_argument("--exit-zero", action="store_true", help="exit 0 even when there are findings")
    check.add_argument("--statistics", action="store_true", help="print counts per rule instead of findings")
    check.add_argument("--config", type=Path, help="pyproject.toml or ffscan.toml to use (default: found from the first path)")
    check.add_argument("--no-color", action="store_true", help="never colour the output")
    check.add_argument("--jobs", "-j", type=_positive_int, default=None, help="worker processes (default: one per core)")
    check.add_argument("--quiet", "-q", action="store_true", help="print findings only, no summary or progress")
    check.add_argument("--verbose", "-v", action="store_true", help="print the configuration and files used")
    check.add_argument("--no-respect-gitignore", action="store_true", help="check files that .gitignore lists too")
    check.add_argument("--fix", action="store_true", help="apply fixes, as `ffscan fix` does")
    check.add_argument("--unsafe-fixes", action="store_true", help="with --fix: also apply fixes that may change behaviour")
    check.add_argument("--diff", action="store_true", help="with --fix: print the diff, write nothing")

    fix = commands.add_parser("fix", help="rewrite fire-and-forget call sites onto tracked work")
    fix.add_argument("paths", nargs="*", default=["."], metavar="PATH")
    fix.add_argument("--select", type=_selectors, help="rule codes or prefixes to fix")
    fix.add_argument("--extend-select", type=_selectors)
    fix.add_argument("--ignore", type=_selectors)
    fix.add_argument("--unsafe-fixes", action="store_true", help="also apply fixes that may change timing, ordering or what is raised")
    fix.add_argument("--diff", action="store_true", help="print a unified diff and write nothing (exit 1 if there is one)")
    fix.add_argument("--config", type=Path)
    fix.add_argument("--no-respect-gitignore", action="store_true", help="fix files that .gitignore lists too")
    fix.add_argument("--no-color", action="store_true")
    fix.add_argument("--quiet", "-q", action="store_true")

    vendor = commands.add_parser(
        "vendor-runtime", help="copy the tracked runtime into your project, so fixes need no ffscan at run time"
    )
    vendor.add_argument("destination", type=Path, metavar="PATH", help="a package directory, e.g. myapp/_tracked")
    vendor.add_argument("--force", action="store_true", help="replace an existing copy")

    jobs = commands.add_parser("jobs", help="show the queues and jobs recorded in a runtime journal (SQLiteJournal)")
    jobs.add_argument("journal", type=Path, metavar="PATH")
    jobs.add_argument("--format", choices=("text", "json"), default="text")
    jobs.add_argument("--watch", action="store_true", help="redraw the per-queue view live until interrupted")
    jobs.add_argument("--interval", type=float, default=1.0, help="seconds between redraws with --watch")
    jobs.add_argument("--no-color", action="store_true")

    rules = commands.add_parser("rules", help="list every rule")
    rules.add_argument("--format", choices=("text", "json"), default="text")
    rules.add_argument("--no-color", action="store_true")

    rule = commands.add_parser("rule", help="show one rule's documentation")
    rule.add_argument("code", metavar="CODE")
    rule.add_argument("--format", choices=("text", "markdown", "json"), default="text")
    rule.add_argument("--no-color", action="store_true")
    return parser


def main(argv: Optional[Sequence[str]] = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        if args.command == "fix" or (args.command == "check" and args.fix):
            return run_fix_command(args)
        if args.command == "check":
            return run_check_command(args)
        if args.command == "rules":
            return run_rules_command(args)
        if args.command == "vendor-runtime":
            return run_vendor_command(args)
        if args.command == "jobs":
            return run_jobs_command(args)
        if args.command == "rule":
            return run_rule_command(args)
    except ConfigError as error:
        print(f"ffscan: error: {error}", file=sys.stderr)
        return EXIT_ERROR
    except KeyboardInterrupt:
        print("ffscan: interrupted", file=sys.stderr)
        return 130
    except Exception as error:  # a bug in ffscan itself: say so plainly and exit 2, not 1
        import traceback

        frame = traceback.extract_tb(error.__traceback__)[-1]
        where = f"{Path(frame.filename).name}:{frame.lineno}"
        print(
            f"ffscan: internal error: {type(error).__name__}: {error} (at {where}); "
            "please report it with the file that triggered it",
            file=sys.stderr,
        )
        if os.environ.get("FFSCAN_TRACEBACK"):
            traceback.print_exc()
        return EXIT_ERROR
    parser.print_help(sys.stderr)
    return EXIT_ERROR


def use_color(no_color_flag: bool, stream) -> bool:
    if no_color_flag or os.environ.get("NO_COLOR"):
        return False
    if os.environ.get("FORCE_COLOR"):
        return True
    return bool(getattr(stream, "isatty", lambda: False)())


def resolve_settings(args: argparse.Namespace) -> Settings:
    config_path = args.config
    if config_path is None:
        config_path = find_config(Path(args.paths[0]))
    settings = load_settings(config_path, Path.cwd())
    from ffscan.config import suggest_code
    from ffscan.rules import is_known_selector

    for option in ("select", "extend_select", "ignore"):
        for selector in getattr(args, option) or ():
            if not is_known_selector(selector):
                raise ConfigError(
                    f"--{option.replace('_', '-')}: unknown rule code or prefix {selector!r}{suggest_code(selector)}"
                )
    return settings.with_overrides(
        respect_gitignore=False if getattr(args, "no_respect_gitignore", False) else None,
        select=tuple(args.select) if args.select is not None else None,
        extend_select=settings.extend_select + tuple(args.extend_select or ()),
        ignore=settings.ignore + tuple(args.ignore or ()),
    )


def run_check_command(args: argparse.Namespace) -> int:
    from ffscan.engine import run_check
    from ffscan.report import ReportContext, render
    from ffscan.rules import all_rule_infos

    settings = resolve_settings(args)
    fmt = args.format or "text"
    out = sys.stdout
    if args.verbose:
        where = settings.config_path or "defaults (no [tool.ffscan] found)"
        print(f"ffscan {__version__}: configuration from {where}; root {settings.root}", file=sys.stderr)
    interactive = fmt == "text" and not args.quiet and args.output_file is None and sys.stderr.isatty() and not os.environ.get("CI")
    from ffscan.report.text import Progress

    with Progress(enabled=interactive) as progress:
        result = run_check(args.paths, settings, progress=progress.update, jobs=args.jobs)
    if args.verbose:
        print(f"ffscan: checked {result.files_checked} file{'s' if result.files_checked != 1 else ''}", file=sys.stderr)
    if result.files_checked == 0 and not result.missing:
        print(
            "ffscan: warning: no Python files to check under the given paths "
            "(all excluded, or listed in a .gitignore: see --no-respect-gitignore)",
            file=sys.stderr,
        )
    for missing in result.missing:
        print(f"ffscan: error: {missing}: no such file or directory", file=sys.stderr)
    for error in result.errors:
        location = f"{error.path}:{error.line}" if error.line else error.path
        print(f"ffscan: error: {location}: {error.message}", file=sys.stderr)
    context = ReportContext(
        rules=all_rule_infos(),
        root=Path.cwd(),  # findings' paths are relative to it (SARIF's %SRCROOT%)
        version=__version__,
        color=args.output_file is None and use_color(args.no_color, out),
        statistics=args.statistics,
    )
    report = render(fmt, result, context)
    if args.quiet and fmt in ("text", "concise"):
        report = "".join(line for line in report.splitlines(keepends=True)[:-1]) if result.findings else ""
    if args.output_file is not None:
        try:
            args.output_file.parent.mkdir(parents=True, exist_ok=True)
            args.output_file.write_text(report, encoding="utf-8")
        except OSError as error:
            print(f"ffscan: error: cannot write {args.output_file}: {error.strerror}", file=sys.stderr)
            return EXIT_ERROR
    else:
        out.write(report)
        out.flush()
    if result.missing or result.errors:
        return EXIT_ERROR
    if result.findings and not args.exit_zero:
        return EXIT_FINDINGS
    return EXIT_CLEAN


def run_fix_command(args: argparse.Namespace) -> int:
    """Apply fixes (or print their diff); exit 1 while findings remain or a diff is shown."""
    from ffscan.fix.run import run_fix, unified_diff

    settings = resolve_settings(args)
    run = run_fix(args.paths, settings, unsafe=args.unsafe_fixes, write=not args.diff)
    for missing in run.missing:
        print(f"ffscan: error: {missing}: no such file or directory", file=sys.stderr)
    if run.runtime_problem:
        print(f"ffscan: not applied: {run.runtime_problem}", file=sys.stderr)
    if args.diff:
        for outcome in run.changed_files:
            sys.stdout.write(unified_diff(outcome))
    errors = [f for f in run.files if f.error]
    for outcome in errors:
        print(f"ffscan: {outcome.path}: {outcome.error}", file=sys.stderr)
    left = [(outcome.path, finding, why) for outcome in run.files if not outcome.error for finding, why in outcome.left]
    if not args.quiet:
        for path, finding, why in left:
            print(f"{path}:{finding.start.line}:{finding.start.column}: {finding.code} not fixed: {why}", file=sys.stderr)
        verb = "Would fix" if args.diff or run.runtime_problem else "Fixed"
        changed = run.changed_files
        summary = f"{verb} {run.applied} finding{'s' if run.applied != 1 else ''} in {len(changed)} file{'s' if len(changed) != 1 else ''}"
        if left:
            summary += f"; {len(left)} left (see above)"
        if errors:
            summary += f"; {len(errors)} file{'s' if len(errors) != 1 else ''} left as they were"
        print(summary + ".", file=sys.stderr)
    if run.missing or run.runtime_problem:
        return EXIT_ERROR
    if args.diff:
        return EXIT_FINDINGS if run.changed_files else EXIT_CLEAN
    return EXIT_FINDINGS if left or errors else EXIT_CLEAN


def run_vendor_command(args: argparse.Namespace) -> int:
    """Copy ffscan/runtime (standard library only, relative imports) to a package of the project."""
    import shutil

    import ffscan.runtime

    destination = args.destination
    if destination.suffix == ".py":
        destination = destination.with_suffix("")  # the runtime is a package, not one module
    source = Path(ffscan.runtime.__file__).parent
    if destination.exists() and not args.force:
        print(f"ffscan: error: {destination} exists; use --force to replace it", file=sys.stderr)
        return EXIT_ERROR
    try:
        if destination.exists():
            shutil.rmtree(destination)
        shutil.copytree(source, destination, ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
    except OSError as error:
        print(f"ffscan: error: cannot write {destination}: {error.strerror or error}", file=sys.stderr)
        return EXIT_ERROR
    module = ".".join(destination.with_suffix("").parts).lstrip(".")
    print(
        f"Wrote the tracked runtime to {destination}/. Point fixes at it with:\n\n"
        f'[tool.ffscan.fix]\nruntime-module = "{module}"'
    )
    return EXIT_CLEAN


def run_jobs_command(args: argparse.Namespace) -> int:
    """Print a SQLiteJournal's queues, failures and jobs (or watch them live)."""
    from ffscan.report import jobs as report
    from ffscan.runtime.journal_rows import overview

    if args.watch and args.format == "json":
        print("ffscan: error: --watch draws tables; use it without --format json", file=sys.stderr)
        return EXIT_ERROR
    try:
        if args.format == "json":
            sys.stdout.write(report.json_report(args.journal))
            return EXIT_CLEAN
        from rich.console import Console

        console = Console(no_color=not use_color(args.no_color, sys.stdout), highlight=False)
        if args.watch:
            overview(args.journal)  # a missing or foreign file fails here, before the live view
            try:
                report.watch(lambda: overview(args.journal), console, interval=args.interval)
            except KeyboardInterrupt:  # --watch runs until interrupted: that is its normal end
                return EXIT_CLEAN
        report.print_report(args.journal, console)
    except (FileNotFoundError, ValueError) as error:
        print(f"ffscan: error: {error}", file=sys.stderr)
        return EXIT_ERROR
    return EXIT_CLEAN


def run_rules_command(args: argparse.Namespace) -> int:
    from ffscan.rules import all_rule_infos

    infos = list(all_rule_infos().values())
    if args.format == "json":
        import json

        rows = [
            {
                "code": r.code,
                "name": r.name,
                "family": r.family.value,
                "summary": r.summary,
                "fixable": r.fix_applicability.value if r.fix_applicability else None,
                "default": "on" if r.default_on else "off",
                "off_reason": r.off_reason or None,
            }
            for r in infos
        ]
        sys.stdout.write(json.dumps(rows, indent=2) + "\n")
        return EXIT_CLEAN
    from ffscan.report.text import render_rules_table

    sys.stdout.write(render_rules_table(infos, use_color(args.no_color, sys.stdout)))
    return EXIT_CLEAN


def run_rule_command(args: argparse.Namespace) -> int:
    from ffscan.rules import all_rule_infos

    infos = all_rule_infos()
    code = args.code.upper()
    by_name = {info.name: info for info in infos.values()}
    info = infos.get(code) or by_name.get(args.code)
    if info is None:
        import difflib

        close = difflib.get_close_matches(args.code, [*infos, *by_name], n=1)
        hint = f"; did you mean {close[0]}?" if close else ""
        print(f"ffscan: error: unknown rule {args.code!r}{hint}", file=sys.stderr)
        return EXIT_ERROR
    if args.format == "markdown":
        sys.stdout.write(info.doc)
    elif args.format == "json":
        import json

        sys.stdout.write(json.dumps({"code": info.code, "name": info.name, "doc": info.doc}, indent=2) + "\n")
    else:
        from ffscan.report.text import render_rule_doc

        sys.stdout.write(render_rule_doc(info, use_color(args.no_color, sys.stdout)))
    return EXIT_CLEAN


if __name__ == "__main__":
    sys.exit(main())
