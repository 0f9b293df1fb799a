"""`--split DIR`: the ticket report as one Markdown file per ticket, and an index with the
table of tickets and the remedies they share. A rerun replaces the files and deletes those of
tickets that are gone, so the directory mirrors what is open."""

from __future__ import annotations

import os
import re
import tempfile
from pathlib import Path
from typing import Dict, List, Tuple

from ffscan.model import RunResult
from ffscan.report import ReportContext
from ffscan.report.fingerprint import TICKET_DIGITS, TICKET_PREFIX
from ffscan.report.ticket.frames import Sources
from ffscan.report.ticket.grouping import group_tickets
from ffscan.report.ticket.markdown import (
    contents,
    nothing_found,
    plural,
    remedies,
    ticket_markdown,
)
from ffscan.report.ticket.options import options

INDEX = "index.md"
TICKET_FILE = re.compile(re.escape(TICKET_PREFIX) + "[0-9a-f]{%d}\\.md" % TICKET_DIGITS)


def render_split(result: RunResult, context: ReportContext) -> Dict[str, str]:
    """File name -> Markdown: `FFSCAN-<id>.md` per ticket, and `index.md` with the table and the remedies."""
    if not result.findings:
        return {INDEX: nothing_found(result, context)}
    tickets = group_tickets(result.findings, context.rules)
    plans = {ticket.id: options(ticket) for ticket in tickets}
    sources = Sources(context.root)
    links = {ticket.id: f"{ticket.id}.md" for ticket in tickets}
    index = [contents(result, tickets, context, links), remedies(tickets, plans, level=2)]
    files = {INDEX: "\n\n".join(part.rstrip("\n") for part in index if part) + "\n"}
    for ticket in tickets:
        text = ticket_markdown(ticket, plans[ticket.id], sources, result, context, 1, f"under *Remedies* in [{INDEX}]({INDEX}#remedies)")
        files[f"{ticket.id}.md"] = text.rstrip("\n") + "\n"
    return files


def write_split(directory: Path, files: Dict[str, str]) -> Tuple[int, List[str]]:
    """Write the files into `directory` (made if missing), each through a temporary file and a
    rename, and delete ticket files of earlier runs whose tickets are gone (only names of the
    form `FFSCAN-<8 hex digits>.md`). Returns (tickets written, names deleted); raises OSError."""
    directory.mkdir(parents=True, exist_ok=True)
    for name, text in files.items():
        handle, temporary = tempfile.mkstemp(dir=directory, prefix=f".{name}.", suffix=".tmp")
        try:
            with os.fdopen(handle, "w", encoding="utf-8", newline="\n") as stream:
                stream.write(text)
            os.replace(temporary, directory / name)
        except OSError:
            Path(temporary).unlink(missing_ok=True)  # leave no temporary behind, then report the failure
            raise
    stale = sorted(p.name for p in directory.iterdir() if TICKET_FILE.fullmatch(p.name) and p.name not in files)
    for name in stale:
        (directory / name).unlink()
    return sum(1 for name in files if name != INDEX), stale


def write_tickets(directory: Path, result: RunResult, context: ReportContext) -> Tuple[bool, str]:
    """`--split DIR`: write the files, and say what was written (or why nothing could be)."""
    try:
        written, deleted = write_split(directory, render_split(result, context))
    except OSError as error:  # nothing half-written stays: each file is replaced whole or not at all
        return False, f"ffscan: error: cannot write {error.filename or directory}: {error.strerror}"
    text = f"ffscan: wrote {plural(written, 'ticket')} and {INDEX} to {directory}"
    if deleted:
        text += f"; deleted {plural(len(deleted), 'ticket')} no longer found ({', '.join(deleted)})"
    return True, text
