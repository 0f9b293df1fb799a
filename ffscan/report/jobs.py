"""`ffscan jobs PATH`: a runtime journal's jobs as a table and counts per status."""

from __future__ import annotations

import io
from typing import Any, Dict, List, Optional

from rich.console import Console
from rich.table import Table
from rich.text import Text  # plain Text: brackets in names and errors are not markup

from ffscan.runtime.journal import clock, duration

COLUMNS = ("id", "name", "status", "attempts", "created", "took", "last error")


def render_jobs_table(rows: List[Dict[str, Any]], title: Optional[str] = None) -> Table:
    """A rich Table of journal rows."""
    table = Table(title=title)
    for column in COLUMNS:
        table.add_column(column, overflow="fold")
    for row in rows:
        table.add_row(*(Text(cell) for cell in _cells(row)))
    return table


def _cells(row: Dict[str, Any]) -> tuple:
    return (
        row["id"],
        row["name"],
        row["status"],
        str(row["attempts"]),
        clock(row["created"]),
        duration(row["started"], row["finished"]),
        row["last_error"] or "",
    )


def render_jobs(rows: List[Dict[str, Any]], summary: Dict[str, Any], title: str, color: bool, plain: bool = False) -> str:
    counts = ", ".join(f"{status} {count}" for status, count in summary["by_status"].items() if count)
    if plain:  # through a pipe: plain columns, no box, no padding
        from ffscan.report.console import plain_table

        return plain_table(COLUMNS, [_cells(row) for row in rows]) + f"{summary['total']} jobs: {counts or 'none'}\n"
    buffer = io.StringIO()
    console = Console(file=buffer, no_color=not color, force_terminal=color, highlight=False)
    console.print(render_jobs_table(rows, title=title))
    console.print(f"{summary['total']} jobs: {counts or 'none'}")
    return buffer.getvalue()
