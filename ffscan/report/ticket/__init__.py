"""The incident report (`--format ticket`): one Markdown ticket per function with findings,
written to be pasted into a tracker as it is.

The report opens with a table of its tickets and, once, the remedies they share (what the
tracked queue gives, how to set up Celery). Then each ticket: title, priority and why,
category and place, Summary, Problematic Code (as in the repository, issues marked in the
gutter), Issues (numbered), Fix Required (this code rewritten: Option A, the tracked
queue; Option B, Celery; the minimum fix), Risk if Not Fixed, and Found By (the command
that shows the ticket again). The wording per rule comes from the rules (`RuleInfo`).

Ticket ids come from `ffscan.report.fingerprint`: a rerun keeps the id of a ticket whose
function is still there. `render_split` gives one file per ticket and an index, for
`--split DIR`; the JSON report carries the same grouping and ids.
"""

from __future__ import annotations

from ffscan.model import RunResult
from ffscan.report import ReportContext
from ffscan.report.ticket.frames import Sources
from ffscan.report.ticket.grouping import group_tickets
from ffscan.report.ticket.markdown import (
    anchor,
    contents,
    found_by,
    heading,
    nothing_found,
    remedies,
    ticket_markdown,
)
from ffscan.report.ticket.options import options
from ffscan.report.ticket.split import INDEX, render_split, write_split, write_tickets

__all__ = ["INDEX", "anchor", "found_by", "heading", "render", "render_split", "write_split", "write_tickets"]


def render(result: RunResult, context: ReportContext) -> str:
    """The whole report as one Markdown document."""
    if not result.findings:
        return nothing_found(result, context)
    tickets = group_tickets(result.findings, context.rules)
    plans = {ticket.id: options(ticket) for ticket in tickets}
    sources = Sources(context.root)
    links = {ticket.id: "#" + anchor(heading(ticket)) for ticket in tickets}
    parts = [contents(result, tickets, context, links), remedies(tickets, plans, level=2)]
    parts += [ticket_markdown(ticket, plans[ticket.id], sources, result, context, 2, "under *Remedies*, at the top") for ticket in tickets]
    return "\n\n".join(part.rstrip("\n") for part in parts if part) + "\n"
