"""Command line: argument parsing and exit codes only.

Exit codes: 0 no findings, 1 findings, 2 usage or configuration error, a path that does not
exist, or a rule that crashed on some file (the rest of the run still completes). Fix runs
(`ffscan fix`, `check --fix`): 1 while any finding remains, 2 also when a file could not be
written; with `--diff`, 1 when there is a diff.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING, List, Optional, Sequence, Tuple

from ffscan import __version__
from ffscan.config import (
    CACHE_DIR_NAME,
    ConfigError,
    RuleSelection,
    Settings,
    find_config,
    load_settings,
)
from ffscan.report import FORMATS, NOTICES_IN_REPORT

if TYPE_CHECKING:
    from ffscan.report import ReportContext

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


def _add_force_exclude(command: argparse.ArgumentParser) -> None:
    group = command.add_mutually_exclusive_group()
    group.add_argument(
        "--force-exclude",
        action="store_true",
        default=None,
        help="apply exclude/extend-exclude to paths named on the command line too (as pre-commit passes them)",
    )
    group.add_argument("--no-force-exclude", dest="force_exclude", action="store_false", help="check named paths even when excluded")


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="ffscan", description="Find fire-and-forget bugs in Python code.")
    parser.add_argument("--version", action="version", version=f"ffscan {__version__}")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)

    check = commands.add_parser("check", help="check files for fire-and-forget bugs")
    check.add_argument("paths", nargs="*", default=["."], metavar="PATH", help="files or folders to check, or - for stdin (default: .)")
    check.add_argument("--select", type=_selectors, help="rule codes or prefixes to enable (replaces the default set)")
    check.add_argument("--extend-select", type=_selectors, help="rule codes or prefixes to enable in addition")
    check.add_argument("--ignore", type=_selectors, help="rule codes or prefixes to disable")
    check.add_argument(
        "--format",
        choices=FORMATS,
        default=None,
        help="output format (default: text)",
    )
    check.add_argument("--output-file", "-o", type=Path, help="write the report here instead of stdout")
    check.add_argument(
        "--split", type=Path, metavar="DIR", help="write the ticket report as one Markdown file per ticket, and an index.md, into DIR"
    )
    check.add_argument("--exit-zero", action="store_true", help="exit 0 even when there are findings")
    statistics_or_diff = check.add_mutually_exclusive_group()  # as Ruff's: the diff has no counts
    statistics_or_diff.add_argument("--statistics", action="store_true", help="print counts per rule instead of findings")
    check.add_argument("--config", type=Path, help="pyproject.toml or ffscan.toml to use (default: found from the first path)")
    check.add_argument("--no-color", action="store_true", help="never colour the output")
    check.add_argument("--jobs", "-j", type=_positive_int, default=None, help="worker processes (default: one per core)")
    verbosity = check.add_mutually_exclusive_group()
    verbosity.add_argument("--quiet", "-q", action="store_true", help="print findings only, no summary or progress")
    verbosity.add_argument("--verbose", "-v", action="store_true", help="print the configuration, rules and files used")
    check.add_argument("--no-respect-gitignore", action="store_true", help="check files that .gitignore lists too")
    check.add_argument("--no-cache", action="store_true", help="read and write no cache (.ffscan_cache)")
    check.add_argument("--python", type=Path, metavar="PATH", help="the project's interpreter or venv, whose installed packages are read")
    _add_force_exclude(check)
    check.add_argument("--fix", action="store_true", help="apply fixes, then report the findings that remain")
    check.add_argument(
        "--unsafe-fixes", action="store_true", help="also apply (with --fix) or count as fixable the fixes that may change behaviour"
    )
    statistics_or_diff.add_argument(
        "--diff", action="store_true", help="print the diff the fixes would make and write nothing (implies --fix)"
    )
    check.add_argument("--stdin-filename", metavar="PATH", help="read the code from stdin; report it as PATH and configure it as PATH")
    check.add_argument("--force-write", action="store_true", help="with --fix or --add-noqa: also write read-only and hard-linked files")
    check.add_argument(
        "--baseline", type=Path, metavar="PATH",
        help="report only findings not in this baseline file; write it first if it does not exist",
    )
    check.add_argument("--update-baseline", action="store_true", help="with --baseline: rewrite it from this run's findings")
    check.add_argument(
        "--add-noqa", action="store_true", help="write `# noqa: FFnnn` on the line of every current finding, then report what is left"
    )

    fix = commands.add_parser("fix", help="rewrite fire-and-forget call sites onto tracked work")
    fix.add_argument("paths", nargs="*", default=["."], metavar="PATH", help="files or folders to fix, or - for stdin (default: .)")
    fix.add_argument("--select", type=_selectors, help="rule codes or prefixes to fix")
    fix.add_argument("--extend-select", type=_selectors)
    fix.add_argument("--ignore", type=_selectors)
    fix.add_argument("--unsafe-fixes", action="store_true", help="also apply fixes that may change timing, ordering or what is raised")
    fix.add_argument("--diff", action="store_true", help="print a unified diff and write nothing (exit 1 if there is one)")
    fix.add_argument("--config", type=Path)
    fix.add_argument("--no-respect-gitignore", action="store_true", help="fix files that .gitignore lists too")
    fix.add_argument("--no-cache", action="store_true", help="read and write no cache (.ffscan_cache)")
    fix.add_argument("--python", type=Path, metavar="PATH", help="the project's interpreter or venv, whose installed packages are read")
    _add_force_exclude(fix)
    fix.add_argument("--force-write", action="store_true", help="also write read-only files, and hard-linked ones in place")
    fix.add_argument("--stdin-filename", metavar="PATH", help="read the code from stdin and print it fixed; configure it as PATH")
    fix.add_argument("--no-color", action="store_true")
    fix.add_argument("--quiet", "-q", action="store_true")
    fix.add_argument("--show-fixes", action="store_true", help="list each fix applied, with the remedy it chose and why")
    fix.add_argument(
        "--vendor", type=Path, metavar="PATH", help="copy the tracked runtime to this package folder and have fixes import it"
    )

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

    spawners = commands.add_parser(
        "spawners", help="list the project functions that start tasks, and whether they keep, return or drop them"
    )
    spawners.add_argument("paths", nargs="*", default=["."], metavar="PATH")
    spawners.add_argument("--format", choices=("text", "json"), default="text")
    spawners.add_argument("--config", type=Path)
    for option in ("select", "extend_select", "ignore"):
        spawners.set_defaults(**{option: None})

    server = commands.add_parser("server", help="run the language server over stdin and stdout (for editors)")
    server.add_argument(
        "--debounce", type=float, default=None, metavar="SECONDS",
        help="how long a changed document must be quiet before it is checked (default: 0.3)",
    )

    clean = commands.add_parser("clean", help="remove the cache (.ffscan_cache next to the configuration)")
    clean.add_argument("path", nargs="?", default=".", metavar="PATH", help="where to look for the configuration (default: .)")

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
    if args.command == "check" and args.update_baseline and args.baseline is None:
        parser.error("--update-baseline needs --baseline PATH")
    if args.command == "check" and (args.fix or args.diff) and args.baseline is not None:
        parser.error("--baseline applies to `ffscan check` without --fix")
    if args.command == "check" and (args.fix or args.diff) and args.split is not None:
        parser.error("--split applies to `ffscan check` without --fix")
    if args.command == "check" and args.add_noqa:
        clash = next(
            (flag for flag, given in (
                ("--fix", args.fix), ("--diff", args.diff), ("--baseline", args.baseline is not None),
                ("--split", args.split is not None), ("--statistics", args.statistics), ("standard input", reads_stdin(args)),
            ) if given),
            None,
        )
        if clash is not None:
            parser.error(f"--add-noqa does not go with {clash}")
    errors, warnings = _flag_problems(args)
    for message in errors:
        print(f"ffscan: error: {message}", file=sys.stderr)
    if errors:
        return EXIT_ERROR
    for message in warnings:
        print(f"ffscan: warning: {message}", file=sys.stderr)
    try:
        if args.command == "fix":
            return run_fix_command(args)
        if args.command == "check" and (args.fix or args.diff):
            return run_check_fix_command(args)
        if args.command == "check" and args.add_noqa:
            return run_add_noqa_command(args)
        if args.command == "check":
            return run_check_command(args)
        if args.command == "spawners":
            return run_spawners_command(args)
        if args.command == "clean":
            return run_clean_command(args)
        if args.command == "server":
            return run_server_command(args)
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


STATISTICS_FORMATS = ("text", "concise", "json")


def _flag_problems(args: argparse.Namespace) -> Tuple[List[str], List[str]]:
    """Flags that cannot work together (errors, as Ruff refuses them) and flags that would do
    nothing in this combination (warnings)."""
    errors: List[str] = []
    warnings: List[str] = []
    if args.command not in ("check", "fix"):
        return errors, warnings
    diff = args.diff
    if args.command == "check":
        fmt = args.format or "text"
        if args.statistics and fmt not in STATISTICS_FORMATS:
            errors.append(f"--statistics supports the text, concise and json formats, not {fmt}")
        if diff and fmt != "text":
            warnings.append(f"--format {fmt} has no effect with --diff: the diff is printed instead")
        if diff and args.output_file is not None:
            warnings.append("--output-file has no effect with --diff: the diff goes to stdout")
        if args.force_write and not (args.fix or diff or args.add_noqa):
            warnings.append("--force-write has no effect without --fix or --add-noqa")
        if args.add_noqa and (args.format is not None or args.output_file is not None):
            warnings.append("--format and --output-file have no effect with --add-noqa: it prints what it did on stderr")
    if args.force_write and diff:
        warnings.append("--force-write has no effect with --diff: nothing is written")
    if args.stdin_filename is not None:
        ignored = [path for path in args.paths if path not in (".", "-")] if args.paths != ["."] else []
        warnings.extend(f"ignoring {path} in favour of standard input" for path in ignored)
    return errors, warnings


def is_terminal(stream) -> bool:
    """Whether output is for a person at a terminal (FORCE_COLOR says so too) or a pipe."""
    return bool(os.environ.get("FORCE_COLOR")) or bool(getattr(stream, "isatty", lambda: False)())


def _terminal_width() -> int:
    import shutil

    return shutil.get_terminal_size((100, 24)).columns


def use_color(no_color_flag: bool, stream) -> bool:
    if no_color_flag or os.environ.get("NO_COLOR"):
        return False
    if os.environ.get("FORCE_COLOR"):
        return True
    return bool(getattr(stream, "isatty", lambda: False)())


def reads_stdin(args: argparse.Namespace) -> bool:
    """`-` as the only path, or `--stdin-filename`: the code comes from stdin (as in Ruff)."""
    return getattr(args, "stdin_filename", None) is not None or list(args.paths) == ["-"]


def _read_stdin() -> bytes:
    return sys.stdin.buffer.read()


def resolve_settings(args: argparse.Namespace) -> Settings:
    config_path = args.config
    if config_path is None:
        start = args.stdin_filename or "." if reads_stdin(args) else args.paths[0]
        config_path = find_config(Path(start))
    from ffscan.config import is_known_selector, suggest_code
    from ffscan.rules import rule_names

    rules = rule_names()
    settings = load_settings(config_path, Path.cwd(), rules, search_from=Path(args.paths[0]))
    for option in ("select", "extend_select", "ignore"):
        for selector in getattr(args, option) or ():
            if not is_known_selector(selector, rules):
                raise ConfigError(
                    f"--{option.replace('_', '-')}: unknown rule code or prefix {selector!r}{suggest_code(selector, rules)}"
                )
    return settings.with_overrides(
        respect_gitignore=False if getattr(args, "no_respect_gitignore", False) else None,
        cache_dir=None if getattr(args, "no_cache", False) or os.environ.get("FFSCAN_NO_CACHE") else settings.root / CACHE_DIR_NAME,
        force_exclude=getattr(args, "force_exclude", None),
        python=args.python.resolve() if getattr(args, "python", None) is not None else None,
        command_line=RuleSelection(
            select=tuple(args.select) if args.select is not None else None,
            extend_select=tuple(args.extend_select or ()),
            ignore=tuple(args.ignore or ()),
        ),
    )


def _report_context(args: argparse.Namespace) -> "ReportContext":
    from ffscan.report import ReportContext
    from ffscan.rules import all_rule_infos

    return ReportContext(
        rules=all_rule_infos(),
        root=Path.cwd(),  # findings' paths are relative to it (SARIF's %SRCROOT%)
        version=__version__,
        color=args.output_file is None and use_color(args.no_color, sys.stdout),
        statistics=args.statistics,
        unsafe_fixes=args.unsafe_fixes,
        paths=tuple(args.paths),
    )


def run_check_command(args: argparse.Namespace) -> int:
    from ffscan.engine import run_check
    from ffscan.report import render
    from ffscan.report.console import (
        baseline_written,
        check_diagnostics,
        without_summary,
    )
    from ffscan.report.progress import Progress

    settings = resolve_settings(args)
    fmt = args.format or ("ticket" if args.split is not None else "text")
    if args.split is not None:
        clash = f"--format {fmt}" if fmt != "ticket" else "-o" if args.output_file is not None else "--statistics" if args.statistics else ""
        if clash:
            print(f"ffscan: error: --split writes the ticket report, one file per ticket; it does not go with {clash}", file=sys.stderr)
            return EXIT_ERROR
    if args.verbose:
        from ffscan.report.console import rules_line
        from ffscan.rules import all_rules, select_codes

        where = settings.config_path or "defaults (no [tool.ffscan] found)"
        print(f"ffscan {__version__}: configuration from {where}; root {settings.root}", file=sys.stderr)
        if settings.target_version is not None:
            target = ".".join(map(str, settings.target_version))
            print(f"ffscan: target Python {target}, from {settings.target_source}", file=sys.stderr)
        print(rules_line(select_codes(settings.rule_selections), len(all_rules())), file=sys.stderr)
    interactive = fmt == "text" and not args.quiet and args.output_file is None and sys.stderr.isatty() and not os.environ.get("CI")
    if reads_stdin(args):
        from ffscan.engine import analyse_stdin

        result = analyse_stdin(_read_stdin(), args.stdin_filename, settings).result
    else:
        with Progress(enabled=interactive) as progress:
            result = run_check(args.paths, settings, progress=progress.update, jobs=args.jobs)
    if args.verbose:
        print(f"ffscan: checked {result.files_checked} file{'s' if result.files_checked != 1 else ''}", file=sys.stderr)
    for line in check_diagnostics(result, notices=fmt not in NOTICES_IN_REPORT and not args.quiet):
        print(line, file=sys.stderr)
    if args.baseline is not None:
        from ffscan.report.baseline import BaselineError, apply

        try:
            outcome = apply(result, args.baseline, args.update_baseline, __version__)
        except BaselineError as error:
            print(f"ffscan: error: --baseline {error}", file=sys.stderr)
            return EXIT_ERROR
        result = outcome.result
        if outcome.written is not None and not args.quiet:
            print(baseline_written(args.baseline, outcome.written), file=sys.stderr)
    context = _report_context(args)
    if args.split is not None:
        from ffscan.report.ticket import write_tickets

        written, message = write_tickets(args.split, result, context)
        print(message, file=sys.stderr)
        if not written:
            return EXIT_ERROR
    else:
        report = render(fmt, result, context)
        if args.quiet and fmt in ("text", "concise"):
            report = without_summary(report, result)
        if not _write_report(report, args.output_file):
            return EXIT_ERROR
    if result.missing or result.errors:
        return EXIT_ERROR
    if result.findings and not args.exit_zero:
        return EXIT_FINDINGS
    return EXIT_CLEAN


def _write_report(report: str, output_file: Optional[Path]) -> bool:
    """Write to `output_file`, or stdout; False (with the reason on stderr) when it cannot."""
    if output_file is None:
        sys.stdout.write(report)
        sys.stdout.flush()
        return True
    try:
        output_file.parent.mkdir(parents=True, exist_ok=True)  # as Ruff's `--output-file` does
        output_file.write_text(report, encoding="utf-8")
    except OSError as error:
        print(f"ffscan: error: cannot write {output_file}: {error.strerror}", file=sys.stderr)
        return False
    return True


def run_check_fix_command(args: argparse.Namespace) -> int:
    """`ffscan check --fix`: fix, then report what remains as `ffscan check` does (Ruff's
    `check --fix`); with `--diff`, print the diff and a summary, write nothing."""
    from ffscan.engine.fixing import run_fix
    from ffscan.report.console import fix_diagnostics
    from ffscan.report.diff import unified_diff

    settings = resolve_settings(args)
    if reads_stdin(args):
        return _fix_stdin(args, settings, report_remaining=True)
    run = run_fix(args.paths, settings, unsafe=args.unsafe_fixes, write=not args.diff, force_write=args.force_write, jobs=args.jobs)
    if args.diff:
        for outcome in run.changed_files:
            sys.stdout.write(unified_diff(outcome.path, outcome.original, outcome.fixed))
        for line in fix_diagnostics(run, diff=True, quiet=args.quiet, left=False):
            print(line, file=sys.stderr)
        return _fix_exit_code(run, diff=True, exit_zero=args.exit_zero)
    if not _write_report(_remaining_report(args, run), args.output_file):
        return EXIT_ERROR
    return _fix_exit_code(run, diff=False, exit_zero=args.exit_zero)


def _remaining_report(args: argparse.Namespace, run) -> str:
    """`check --fix`: the errors and the imports the fixes add on stderr, then the findings
    that remain as the report of the chosen format."""
    from ffscan.report import render
    from ffscan.report.console import fix_errors, imports_note, without_summary

    fmt = args.format or "text"
    for line in fix_errors(run, notices=fmt not in NOTICES_IN_REPORT and not args.quiet):
        print(line, file=sys.stderr)
    note = imports_note(run.changed_files, would=not run.wrote)
    if note and not args.quiet:
        print(f"ffscan: the fixes {note}", file=sys.stderr)
    assert run.result is not None
    report = render(fmt, run.result, _report_context(args))
    if args.quiet and fmt in ("text", "concise"):
        report = without_summary(report, run.result)
    return report


def run_add_noqa_command(args: argparse.Namespace) -> int:
    """`ffscan check --add-noqa`: 2 for a path not found, a rule that crashed or a file that
    could not be written; 1 while a finding is left without a comment; else 0."""
    from ffscan.engine.noqa import run_add_noqa
    from ffscan.report.console import noqa_diagnostics

    run = run_add_noqa(args.paths, resolve_settings(args), jobs=args.jobs, force_write=args.force_write)
    for line in noqa_diagnostics(run, quiet=args.quiet):
        print(line, file=sys.stderr)
    if run.missing or run.errors or any(outcome.cannot_write for outcome in run.files):
        return EXIT_ERROR
    if any(outcome.left for outcome in run.files) and not args.exit_zero:
        return EXIT_FINDINGS
    return EXIT_CLEAN


def run_fix_command(args: argparse.Namespace) -> int:
    """Apply fixes (or print their diff); exit 1 while findings remain or a diff is shown."""
    from ffscan.engine.fixing import run_fix
    from ffscan.report.console import fix_diagnostics
    from ffscan.report.diff import unified_diff

    settings = resolve_settings(args)
    if reads_stdin(args):
        return _fix_stdin(args, settings, report_remaining=False)
    run = run_fix(args.paths, settings, unsafe=args.unsafe_fixes, write=not args.diff, force_write=args.force_write, vendor=args.vendor)
    if args.diff:
        for outcome in run.changed_files:
            sys.stdout.write(unified_diff(outcome.path, outcome.original, outcome.fixed))
    for line in fix_diagnostics(run, diff=args.diff, quiet=args.quiet, show_fixes=args.show_fixes):
        print(line, file=sys.stderr)
    return _fix_exit_code(run, diff=args.diff, exit_zero=False)


def _fix_stdin(args: argparse.Namespace, settings: Settings, report_remaining: bool) -> int:
    """Fix code read from stdin, as Ruff does: the code goes to stdout (fixed or not; with
    --diff, the diff), everything else to stderr."""
    from ffscan.engine.fixing import run_fix, stdin_output
    from ffscan.report.console import fix_diagnostics
    from ffscan.report.diff import unified_diff

    data = _read_stdin()
    run = run_fix(
        [], settings, unsafe=args.unsafe_fixes, write=not args.diff, stdin=data, stdin_filename=args.stdin_filename,
        vendor=getattr(args, "vendor", None),
    )
    if args.diff:
        for outcome in run.changed_files:
            sys.stdout.write(unified_diff(outcome.path, outcome.original, outcome.fixed))
    else:
        sys.stdout.buffer.write(stdin_output(run, data))
    sys.stdout.flush()
    if report_remaining and not args.diff:
        sys.stderr.write(_remaining_report(args, run))
    else:
        for line in fix_diagnostics(run, diff=args.diff, quiet=args.quiet, show_fixes=getattr(args, "show_fixes", False)):
            print(line, file=sys.stderr)
    return _fix_exit_code(run, diff=args.diff, exit_zero=getattr(args, "exit_zero", False))


def _fix_exit_code(run, diff: bool, exit_zero: bool) -> int:
    """2 for a path not found, a runtime fixes cannot import, a rule that crashed or a file
    that could not be written; under --diff 1 when there is a diff (as Ruff's), otherwise 1
    while any finding remains (fixable or not)."""
    if run.missing or run.runtime_problem or run.errors or any(f.cannot_write for f in run.files):
        return EXIT_ERROR
    if exit_zero:
        return EXIT_CLEAN
    if diff:
        return EXIT_FINDINGS if run.changed_files else EXIT_CLEAN
    return EXIT_FINDINGS if any(outcome.left for outcome in run.files) else EXIT_CLEAN


def run_spawners_command(args: argparse.Namespace) -> int:
    from ffscan.engine import find_spawners
    from ffscan.report.console import spawners_json, spawners_text

    result, found = find_spawners(args.paths, resolve_settings(args))
    for missing in result.missing:
        print(f"ffscan: error: {missing}: no such file or directory", file=sys.stderr)
    sys.stdout.write(spawners_json(found) if args.format == "json" else spawners_text(found))
    return EXIT_ERROR if result.missing else EXIT_CLEAN


def run_server_command(args: argparse.Namespace) -> int:
    """`ffscan server`: serve until the editor says exit: 0 after a shutdown request, else 1
    (as the protocol asks); 2 without the `server` extra."""
    try:
        from ffscan.server.lsp import DEBOUNCE, serve
    except ModuleNotFoundError as error:  # pygls or lsprotocol is not installed: say how to get them
        if (error.name or "").split(".")[0] not in ("pygls", "lsprotocol", "cattrs", "attrs"):
            raise  # a module of ffscan's own: an internal error, reported as such
        print(
            f"ffscan: error: the language server needs the `server` extra ({error}); "
            "install it with: pip install 'ffscan[server]'",
            file=sys.stderr,
        )
        return EXIT_ERROR
    if args.debounce is not None and args.debounce < 0:
        print("ffscan: error: --debounce must be 0 or more seconds", file=sys.stderr)
        return EXIT_ERROR
    shut_down = serve(DEBOUNCE if args.debounce is None else args.debounce)
    return EXIT_CLEAN if shut_down else 1


def run_clean_command(args: argparse.Namespace) -> int:
    from ffscan.engine.cache import clean

    config_path = find_config(Path(args.path))
    root = config_path.resolve().parent if config_path is not None else Path.cwd()
    removed = clean(root)
    print(f"Removed {root / CACHE_DIR_NAME}" if removed else f"No cache at {root / CACHE_DIR_NAME}")
    return EXIT_CLEAN


def run_vendor_command(args: argparse.Namespace) -> int:
    from ffscan.fix.vendor import VendorError, vendor_runtime

    try:
        module = vendor_runtime(args.destination, force=args.force)
    except VendorError as error:
        print(f"ffscan: error: {error}", file=sys.stderr)
        return EXIT_ERROR
    destination = args.destination.with_suffix("") if args.destination.suffix == ".py" else args.destination
    print(
        f"Wrote the tracked runtime to {destination}/. Point fixes at it with:\n\n"
        f'[tool.ffscan.fix]\nruntime-module = "{module}"'
    )
    return EXIT_CLEAN


def run_jobs_command(args: argparse.Namespace) -> int:
    """Print a SQLiteJournal's queues, failures and jobs (or watch them live)."""
    from ffscan.report import jobs as report

    if args.watch and args.format == "json":
        print("ffscan: error: --watch draws tables; use it without --format json", file=sys.stderr)
        return EXIT_ERROR
    try:
        if args.format == "json":
            sys.stdout.write(report.json_report(args.journal))
        else:
            color = use_color(args.no_color, sys.stdout)
            report.show(args.journal, color, args.watch, args.interval, plain=not is_terminal(sys.stdout))
    except (FileNotFoundError, ValueError) as error:
        print(f"ffscan: error: {error}", file=sys.stderr)
        return EXIT_ERROR
    return EXIT_CLEAN


def run_rules_command(args: argparse.Namespace) -> int:
    from ffscan.rules import all_rule_infos

    infos = list(all_rule_infos().values())
    if args.format == "json":
        from ffscan.report.console import rules_json

        sys.stdout.write(rules_json(infos))
    else:
        from ffscan.report.text import render_rules_table

        terminal = is_terminal(sys.stdout)
        sys.stdout.write(render_rules_table(infos, use_color(args.no_color, sys.stdout), plain=not terminal, width=_terminal_width()))
    return EXIT_CLEAN


def run_rule_command(args: argparse.Namespace) -> int:
    from ffscan.rules import all_rule_infos, find_rule

    infos = all_rule_infos()
    info, hint = find_rule(args.code, infos)
    if info is None:
        print(f"ffscan: error: unknown rule {args.code!r}{hint}", file=sys.stderr)
        return EXIT_ERROR
    if args.format == "markdown" or (args.format == "text" and not is_terminal(sys.stdout)):
        sys.stdout.write(info.doc)  # through a pipe the Markdown is the plain text, as Ruff prints it
    elif args.format == "json":
        from ffscan.report.console import rule_json

        sys.stdout.write(rule_json(info))
    else:
        from ffscan.report.text import render_rule_doc

        sys.stdout.write(render_rule_doc(info, use_color(args.no_color, sys.stdout), width=_terminal_width()))
    return EXIT_CLEAN


if __name__ == "__main__":
    sys.exit(main())
