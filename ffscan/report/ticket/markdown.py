"""The Markdown of the ticket report: its head (the table of tickets, the remedies they share)
and each ticket's sections. `render` and `render_split` put them together."""

from __future__ import annotations

import re
import shlex
from typing import Dict, List, Sequence

from ffscan.model import Impact, RunResult
from ffscan.report import ReportContext
from ffscan.report.ticket.frames import Sources, code_rows, render_rows
from ffscan.report.ticket.grouping import PRIORITY_LABELS, Ticket, join
from ffscan.report.ticket.options import Option, words


def heading(ticket: Ticket) -> str:
    return f"{ticket.id}: {ticket.title}"


def found_by(ticket: Ticket, result: RunResult, context: ReportContext) -> str:
    """The command that shows this ticket again, as it is: its rules, on its file, or on the
    run's paths when another module decided one of its findings (the whole program must be
    checked again for that)."""
    across = any(issue.finding in result.cross_module for issue in ticket.issues)
    paths = (context.paths or (".",)) if across else (ticket.path,)
    return f"ffscan check --select {','.join(ticket.codes)} {' '.join(shlex.quote(p) for p in paths)} --format ticket"


def anchor(text: str) -> str:
    """The id GitHub gives a Markdown heading."""
    slug = re.sub(r"[^\w\- ]", "", text.strip().lower())
    return slug.replace(" ", "-")


# -- the report's head ----------------------------------------------------------------------


def nothing_found(result: RunResult, context: ReportContext) -> str:
    files = plural(result.files_checked, "file")
    return f"No fire-and-forget findings: ffscan {context.version} checked {files} and found nothing to file.\n" + _run_problems(result)


def contents(result: RunResult, tickets: List[Ticket], context: ReportContext, links: Dict[str, str]) -> str:
    paths = {ticket.path for ticket in tickets}
    counts = [f"{sum(1 for t in tickets if t.priority == p)} P{p}" for p in (1, 2, 3) if any(t.priority == p for t in tickets)]
    lines = [
        f"# ffscan: {plural(len(tickets), 'ticket')} for {plural(len(result.findings), 'fire-and-forget finding')}",
        "",
        f"ffscan {context.version} checked {plural(result.files_checked, 'file')} and found these in "
        f"{plural(len(paths), 'file')}, one ticket per function: {', '.join(counts)}.",
        "",
        "| Ticket | Priority | File |",
        "|---|---|---|",
    ]
    for ticket in tickets:
        title = f"[{ticket.id}]({links[ticket.id]}) {ticket.title}"
        lines.append(f"| {_cell(title)} | P{ticket.priority} | {_cell(f'`{ticket.path}`')} |")
    problems = _run_problems(result)
    if problems:
        lines += ["", problems.rstrip("\n")]
    return "\n".join(lines)


def _run_problems(result: RunResult) -> str:
    if not result.errors and not result.missing:
        return ""
    lines = ["**The scan itself did not finish cleanly; these results may be incomplete:**", ""]
    for error in result.errors:
        where = f"{error.path}:{error.line}" if error.line else error.path
        lines.append(f"- `{where}`: {error.message}")
    for missing in result.missing:
        lines.append(f"- `{missing}`: no such file or directory")
    return "\n".join(lines) + "\n"


_QUEUE = """\
**Option A, the tracked queue** (`ffscan.runtime`: part of ffscan, standard library only). `background.spawn(fn, *args)` runs a coroutine function as a job, `background.submit(fn, *args)` a blocking one on a worker thread, and `track(obj)` keeps an existing task, future or thread alive. Each job is held until it ends, its final failure is reported once with its traceback, at most `max_concurrency` (16) run at once, and `job.status` and `background.stats()` show where work stands. Retries are off until set at startup, `configure(retries=3, backoff=Backoff(initial=0.5, max=30))`, and a retry runs the job again from the start, so retry only work that is safe to repeat; drain on shutdown with `await background.drain(timeout=30)`. `ffscan fix --unsafe-fixes PATH` writes Option A, imports included (`--diff` shows it first). The **minimum fix** leaves the work where it runs today and makes its failure seen: `track(...)` holds a task, future or thread until it ends and reports its failure once, and a coroutine gets its `await`; nothing is retried or bounded."""

_CELERY = """\
**Option B, Celery on Redis** (`pip install "celery[redis]"`), for work that must survive a crash or a deploy: each job becomes `.delay(...)` on a Celery task that the helper below makes from the project's own function, sent with `enqueue(task, ...)` where the call runs on the event loop (`.delay()` is a blocking call to the broker; `enqueue` makes it from a worker thread, retries it while the broker is down and never raises into the handler). Arguments travel as JSON, so pass ids, not objects; `acks_late` acknowledges a job only once it has run, so a job whose worker is lost mid-run is delivered again (and runs twice: keep jobs safe to repeat). Start a worker with `celery -A jobs worker`; it must import the modules that declare tasks (`Celery(..., include=[...])`). A project already on Celery can set `durable-target = "celery"` under `[tool.ffscan.fix]`, and `ffscan fix --unsafe-fixes` moves calls of its registered tasks onto them itself.

```python
import asyncio

from celery import Celery

app = Celery("jobs", broker="redis://localhost:6379/0")

def durable(fn):  # `fn` as a Celery task, retried with backoff; a coroutine function gets its own event loop
    @app.task(name=f"{fn.__module__}.{fn.__qualname__}", acks_late=True, autoretry_for=(Exception,), max_retries=5, retry_backoff=True)
    def run(*args, **kwargs):
        result = fn(*args, **kwargs)
        return asyncio.run(result) if asyncio.iscoroutine(result) else result
    return run

{example}
```"""

def remedies(tickets: Sequence[Ticket], plans: Dict[str, List[Option]], level: int) -> str:
    """What the options of every ticket share, said once; only when some ticket has options."""
    titled = [option for ticket in tickets for option in plans[ticket.id] if option.title]
    if not titled:
        return ""
    parts = [f"{'#' * level} Remedies", _QUEUE]
    celery = [option for option in titled if option.declarations]
    if celery:
        example = f"{celery[0].declarations[0]}  # then: {celery[0].rows[0].text.strip()}"
        parts.append(_CELERY.replace("{example}", example))
    return "\n\n".join(parts)


# -- one ticket -----------------------------------------------------------------------------


def ticket_markdown(
    ticket: Ticket, plan: List[Option], sources: Sources, result: RunResult, context: ReportContext, level: int, setup: str
) -> str:
    sub = "#" * (level + 1)
    lines = _ranges(sorted({issue.line for issue in ticket.issues}))
    out = [
        f"{'#' * level} {heading(ticket)}",
        "",
        f"**Priority:** {PRIORITY_LABELS[ticket.priority]}: {ticket.reason} **Category:** {ticket.category}.",
        "",
        f"**Summary:** {_summary(ticket, lines)}",
        "",
        f"{sub} Problematic Code",
        *_fenced("python", render_rows(code_rows(ticket, sources))),
        "",
        f"{sub} Issues",
    ]
    for issue in ticket.issues:
        one = issue.rule.subject[0]
        out.append(f"{issue.number}. **{one[:1].upper() + one[1:]}** (line {issue.line}, {issue.finding.code}) - {issue.finding.message}.")
    out += ["", f"{sub} Fix Required", *_fix_required(ticket, plan, level + 2, setup), ""]
    risks = list(dict.fromkeys(issue.rule.risk for issue in ticket.issues if issue.rule.risk))
    if len(risks) == 1:
        out += [f"**Risk if Not Fixed:** {risks[0]}", ""]
    elif risks:
        out += [f"{sub} Risk if Not Fixed", *[f"- {risk}" for risk in risks], ""]
    rules = ", ".join(f"[{code}]({_rule(ticket, code).help_uri})" for code in ticket.codes)
    out.append(f"**Found By:** ffscan {context.version} ({rules}); `{found_by(ticket, result, context)}` shows this ticket again.")
    return "\n".join(out)


def _summary(ticket: Ticket, lines: List[str]) -> str:
    """What is wrong where, and what that leaves the work without (the impacts)."""
    impacts = [impact for impact in Impact if any(impact in issue.rule.impacts for issue in ticket.issues)]
    where = f"`{ticket.path}`, {'line' if len(lines) == 1 and '-' not in lines[0] else 'lines'} {', '.join(lines)}"
    if not impacts:  # a file that could not be analysed
        return f"{'; '.join(issue.finding.message for issue in ticket.issues)} ({where})."
    place = f"in {ticket.where}" if ticket.enclosing else f"at the {ticket.where}"
    count = plural(len(ticket.issues), "fire-and-forget issue")
    verb = "leaves" if len(ticket.issues) == 1 else "leave"
    return f"{count} {place} ({where}) {verb} the work with {join([impact.title.lower() for impact in impacts])}."


def _fix_required(ticket: Ticket, plan: List[Option], level: int, setup: str) -> List[str]:
    out: List[str] = []
    for option in plan:
        if option.title:
            out.append(f"{'#' * level} {option.title}")
        if option.rows:
            out += _fenced("python", render_rows(option.rows))
        notes = []
        imports = join([f"`from {module} import {name}`" for module, name in option.imports])
        if option.command:
            notes.append(f"`{option.command} {shlex.quote(ticket.path)}` writes this" + (f" and adds {imports}" if imports else ""))
        elif imports:
            notes.append(f"Needs {imports}")
        if option.declarations:
            declared = join([f"`{line}`" for line in option.declarations])
            notes.append(f"Declare {declared} once (`durable` is {setup})")
            if option.same_as_a:
                notes[-1] += "; the other lines as in Option A"
        if notes:
            out.append(". ".join(notes) + ".")
        out += [f"- {words(issue)}" for issue in option.uncovered]
    return out


def _rule(ticket: Ticket, code: str):
    return next(issue.rule for issue in ticket.issues if issue.finding.code == code)


# -- helpers ----------------------------------------------------------------------------------


def _fenced(language: str, lines: Sequence[str]) -> List[str]:
    longest = max([len(run) for line in lines for run in re.findall(r"`+", line)] + [2])
    fence = "`" * max(3, longest + 1)
    return [f"{fence}{language}", *lines, fence]


def _cell(text: str) -> str:
    return text.replace("|", "\\|")


def _ranges(numbers: List[int]) -> List[str]:
    out: List[str] = []
    start = previous = numbers[0]
    for number in numbers[1:] + [None]:  # type: ignore[list-item]
        if number is not None and number == previous + 1:
            previous = number
            continue
        out.append(str(start) if start == previous else f"{start}-{previous}")
        if number is not None:
            start = previous = number
    return out


def plural(count: int, word: str) -> str:
    return f"{count} {word}{'' if count == 1 else 's'}"
