"""`ffscan jobs PATH`: a runtime journal's jobs as a table and counts per status."""

from __future__ import annotations

import io
from typing import Any, Dict, List, Optional

from rich.console import Console
from rich.table import Table
from rich.text import Text  # plain Text: brackets in names and errors are not markup

from ffscan.runtime.journal import clock, duration


def render_jobs_table(rows: List[Dict[str, Any]], title: Optional[str] = None) -> Table:
    """A rich Table of journal rows."""
    table = Table(title=title)
    for column in ("id", "name", "status", "attempts", "created", "took", "last error"):
        table.add_column(column, overflow="fold")
    for row in rows:
        cells = (
            row["id"],
            row["name"],
            row["status"],
            str(row["attempts"]),
            clock(row["created"]),
            duration(row["started"], row["finished"]),
            row["last_error"] or "",
        )
        table.add_row(*(Text(cell) for cell in cells))
    return table


def render_jobs(rows: List[Dict[str, Any]], summary: Dict[str, Any], title: str, color: bool) -> str:
    buffer = io.StringIO()
    console = Console(file=buffer, no_color=not color, force_terminal=color, highlight=False)
    console.print(render_jobs_table(rows, title=title))
    counts = ", ".join(f"{status} {count}" for status, count in summary["by_status"].items() if count)
    console.print(f"{summary['total']} jobs: {counts or 'none'}")
    return buffer.getvalue()
