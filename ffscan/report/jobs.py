"""`ffscan jobs`: a job journal as rich tables (once, or live with --watch) or as JSON."""

from __future__ import annotations

import json
import time
from typing import Any, Callable

from rich.console import Group
from rich.table import Table
from rich.text import Text

COLUMNS = ("id", "name", "status", "attempts", "created", "took", "last error")


def jobs_table(rows: list[dict[str, Any]], title: str | None = None) -> Table:
    """Return a table of journal rows (plain Text cells: brackets in names are not markup)."""
    table = Table(title=title)
    for column in COLUMNS:
        table.add_column(column, overflow="fold")
    for row in rows:
        cells = (
            row["id"],
            row["name"],
            row["status"],
            str(row["attempts"]),
            _clock(row["created"]),
            _duration(row["started"], row["finished"]),
            row["last_error"] or "",
        )
        table.add_row(*(Text(cell) for cell in cells))
    return table


def queues_table(overview: dict[str, Any]) -> Table:
    """Return one row per queue: counts per status and finished jobs per minute."""
    table = Table(title=f"{overview['path']} at {_clock(overview['now'])}")
    for column in ("queue", "pending", "running", "retrying", "succeeded", "failed", "interrupted", "dropped", "per minute"):
        table.add_column(column, justify="left" if column == "queue" else "right")
    for name, queue in overview["queues"].items():
        counts = queue["by_status"]
        table.add_row(
            Text(name),
            *(str(counts[status]) for status in ("pending", "running", "retrying", "succeeded", "failed", "interrupted", "dropped")),
            f"{queue['per_minute']:.1f}",
        )
    return table


def failures_table(overview: dict[str, Any]) -> Table:
    table = Table(title="recent failures")
    for column in ("when", "queue", "job", "attempts", "error"):
        table.add_column(column, overflow="fold")
    for row in overview["failures"]:
        table.add_row(
            Text(_clock(row["finished"])),
            Text(row["queue"]),
            Text(f"{row['name']}[{row['id']}]"),
            str(row["attempts"]),
            Text(row["last_error"] or ""),
        )
    return table


def overview_view(overview: dict[str, Any]) -> Group:
    """The whole screen: queues, then recent failures if there are any."""
    parts: list[Any] = [queues_table(overview)]
    if overview["failures"]:
        parts.append(failures_table(overview))
    return Group(*parts)


def print_report(path: Any, console: Any) -> None:
    """Print the queues, the recent failures, every job, and the counts per status."""
    from ffscan.runtime.journal_rows import overview, read_journal, summarize

    rows = read_journal(path)
    console.print(overview_view(overview(path)))
    console.print(jobs_table(rows, title=str(path)))
    summary = summarize(path)
    counts = ", ".join(f"{status} {count}" for status, count in summary["by_status"].items() if count)
    console.print(f"{summary['total']} jobs: {counts or 'none'}")


def json_report(path: Any) -> str:
    """The same as plain data: summary, queues (counts, per_minute), failures and jobs."""
    from ffscan.runtime.journal_rows import overview, read_journal, summarize

    data = {"summary": summarize(path), "queues": overview(path)["queues"], "jobs": read_journal(path)}
    return json.dumps(data, indent=2, default=str) + "\n"


def watch(read: Callable[[], dict[str, Any]], console: Any, interval: float = 1.0, frames: int | None = None) -> None:
    """Redraw the overview every `interval` seconds until interrupted, or after `frames` redraws."""
    from rich.live import Live

    drawn = 0
    with Live(overview_view(read()), console=console, refresh_per_second=4, transient=False) as live:
        while frames is None or drawn < frames:
            time.sleep(interval)
            live.update(overview_view(read()))
            drawn += 1


def _clock(timestamp: float | None) -> str:
    return time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(timestamp)) if timestamp else ""


def _duration(started: float | None, finished: float | None) -> str:
    return f"{finished - started:.2f}s" if started and finished else ""


def plain_report(path: Any) -> str:
    """The report through a pipe: plain columns (no box, no padding), one block per table."""
    from ffscan.report.console import plain_table
    from ffscan.runtime.journal_rows import overview, read_journal, summarize

    seen = overview(path)
    queue_columns = ("queue", "pending", "running", "retrying", "succeeded", "failed", "interrupted", "dropped", "per minute")
    queues = [
        (name, *(str(q["by_status"][s]) for s in queue_columns[1:-1]), f"{q['per_minute']:.1f}")
        for name, q in seen["queues"].items()
    ]
    failures = [
        (_clock(r["finished"]), r["queue"], f"{r['name']}[{r['id']}]", str(r["attempts"]), r["last_error"] or "")
        for r in seen["failures"]
    ]
    jobs = [
        (r["id"], r["name"], r["status"], str(r["attempts"]), _clock(r["created"]), _duration(r["started"], r["finished"]), r["last_error"] or "")
        for r in read_journal(path)
    ]
    summary = summarize(path)
    counts = ", ".join(f"{status} {count}" for status, count in summary["by_status"].items() if count)
    blocks = [plain_table(queue_columns, queues)]
    if failures:
        blocks.append(plain_table(("when", "queue", "job", "attempts", "error"), failures))
    blocks.append(plain_table(("id", "name", "status", "attempts", "created", "took", "last error"), jobs))
    return "\n".join(blocks) + f"{summary['total']} jobs: {counts or 'none'}\n"


def show(path: Any, color: bool, watching: bool = False, interval: float = 1.0, plain: bool = False) -> None:
    """`ffscan jobs PATH`: print the report once (plain through a pipe), or redraw it live
    until interrupted."""
    import sys

    from rich.console import Console

    from ffscan.runtime.journal_rows import overview

    if plain and not watching:
        sys.stdout.write(plain_report(path))
        return
    console = Console(no_color=not color, highlight=False)
    if watching:
        overview(path)  # a missing or foreign file fails here, before the live view
        try:
            watch(lambda: overview(path), console, interval=interval)
        except KeyboardInterrupt:  # --watch runs until interrupted: that is its normal end
            return
    print_report(path, console)
