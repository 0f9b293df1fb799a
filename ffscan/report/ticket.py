"""A Markdown incident report: one ticket per rule that fired, ready to paste into a tracker.

Each ticket has the same sections, in this order: Priority, Status, Category, Summary,
Affected Files, Problematic Code, Issues, Fix Required (Option A, Option B, Minimum fix),
Risk if Not Fixed, Found By. The wording comes from small tables keyed by rule code and
bug family, filled in with the counts, files and call names of the findings.

The code snippets show a few lines around each finding; they are read from the files
(relative to the report root) when they are still there, else taken from the finding.
"""

from __future__ import annotations

import re
import textwrap
from collections import Counter
from pathlib import Path
from typing import Dict, List, Optional, Sequence, Tuple

from ffscan.model import Family, Finding, Impact, RuleInfo, RunResult
from ffscan.report import ReportContext

MAX_SNIPPETS = 5
CONTEXT_BEFORE = 2
CONTEXT_AFTER = 2
MAX_WINDOW = 15  # lines; nearby findings share a snippet up to this size
MAX_FILES_IN_SUMMARY = 3

SECTIONS = (
    "## Priority",
    "## Status",
    "## Category",
    "## Summary",
    "## Affected Files",
    "## Problematic Code",
    "## Issues",
    "## Fix Required",
    "## Risk if Not Fixed",
    "## Found By",
)

_PRIORITY = {
    Family.COROUTINE: (1, "CRITICAL (P1)"),
    Family.TASK: (1, "CRITICAL (P1)"),
    Family.THREAD: (1, "CRITICAL (P1)"),
    Family.ERROR: (1, "CRITICAL (P1)"),
    Family.CONCURRENCY: (2, "HIGH (P2)"),
    Family.FILE: (3, "MEDIUM (P3)"),
}

# What one finding is, singular and plural, as the subject of the title and summary.
_SUBJECT_BY_CODE: Dict[str, Tuple[str, str]] = {
    "FF001": ("file does not parse", "files do not parse"),
    "FF002": ("file cannot be decoded", "files cannot be decoded"),
    "FF003": ("file is too large to analyse", "files are too large to analyse"),
    "FF004": ("file is nested too deeply to analyse", "files are nested too deeply to analyse"),
    "FF005": ("file cannot be read", "files cannot be read"),
    "FF101": ("coroutine is created and never awaited", "coroutines are created and never awaited"),
    "FF102": (
        "coroutine object is used as a value instead of being awaited",
        "coroutine objects are used as values instead of being awaited",
    ),
    "FF103": ("coroutine is bound to a name and never awaited", "coroutines are bound to names and never awaited"),
    "FF104": (
        "async callback is called as a plain function and never runs",
        "async callbacks are called as plain functions and never run",
    ),
    "FF201": (
        "asyncio task is started without keeping a reference",
        "asyncio tasks are started without keeping a reference",
    ),
    "FF202": (
        "asyncio task is bound to a local name and then forgotten",
        "asyncio tasks are bound to local names and then forgotten",
    ),
    "FF203": ("asyncio task is held only by a weak reference", "asyncio tasks are held only by weak references"),
    "FF204": (
        "`asyncio.gather`/`asyncio.shield` future is dropped",
        "`asyncio.gather`/`asyncio.shield` futures are dropped",
    ),
    "FF205": (
        "`run_coroutine_threadsafe` future is dropped, so its exception is lost",
        "`run_coroutine_threadsafe` futures are dropped, so their exceptions are lost",
    ),
    "FF301": ("daemon thread is started and never joined", "daemon threads are started and never joined"),
    "FF302": (
        "executor future is dropped, so its exception is never read",
        "executor futures are dropped, so their exceptions are never read",
    ),
    "FF303": ("`Executor.map` result is never consumed", "`Executor.map` results are never consumed"),
    "FF304": (
        "executor is shut down without waiting for its work",
        "executors are shut down without waiting for their work",
    ),
    "FF305": ("process is started with no handle kept", "processes are started with no handle kept"),
    "FF401": ("background failure is swallowed", "background failures are swallowed"),
    "FF501": (
        "loop starts one concurrent job per item with no limit",
        "loops start one concurrent job per item with no limit",
    ),
    "FF502": (
        "`asyncio.gather` runs one job per item with no limit",
        "`asyncio.gather` calls run one job per item with no limit",
    ),
}
_SUBJECT_BY_FAMILY: Dict[Family, Tuple[str, str]] = {
    Family.FILE: ("file could not be analysed", "files could not be analysed"),
    Family.COROUTINE: ("coroutine never runs", "coroutines never run"),
    Family.TASK: ("asyncio task is left unobserved", "asyncio tasks are left unobserved"),
    Family.THREAD: ("thread or executor job is left unobserved", "threads or executor jobs are left unobserved"),
    Family.ERROR: ("background failure is lost", "background failures are lost"),
    Family.CONCURRENCY: (
        "place starts background work without a limit",
        "places start background work without a limit",
    ),
}

# Why it matters, in one or two sentences, after the counts.
_CONSEQUENCE: Dict[Family, str] = {
    Family.FILE: (
        "ffscan could not analyse these files, so nothing in them was checked for fire-and-forget "
        "bugs; a module that does not parse also fails the moment it is imported."
    ),
    Family.COROUTINE: (
        "Calling a coroutine function only builds a coroutine object. Without `await` or a task "
        "its body never runs, so the work these lines stand for silently does not happen."
    ),
    Family.TASK: (
        "The event loop keeps only a weak reference to a task, so these can be garbage-collected "
        "before they finish, and when one fails nobody reads its exception: the work is lost "
        "without a trace."
    ),
    Family.THREAD: (
        "Nobody joins these threads or reads these futures, so an exception in the work "
        "disappears and shutdown can cut the work off half-way."
    ),
    Family.ERROR: (
        "The failure is caught inside work that nobody waits for and is not passed on, so no "
        "caller, alert or retry ever learns that it happened."
    ),
    Family.CONCURRENCY: (
        "Each of these starts work with no bound on how much runs at once, so a large input or a "
        "burst of traffic becomes the same number of concurrent calls, connections and memory."
    ),
}

# The numbered "Issues": (impact, family) -> one sentence; impact alone is the fallback.
_ISSUE_TEXT: Dict[Tuple[Impact, Optional[Family]], str] = {
    (Impact.NO_TRACKING, Family.COROUTINE): (
        "The coroutine is created and thrown away; no task, job or log line records that the work was skipped."
    ),
    (Impact.NO_TRACKING, Family.TASK): (
        "Nothing holds the task, so nobody can ask whether it finished, cancel it on shutdown, or "
        "notice when it is garbage-collected half-way."
    ),
    (Impact.NO_TRACKING, Family.THREAD): (
        "The thread, process or future is not kept, so the caller cannot tell whether the work "
        "finished, and shutdown does not wait for it."
    ),
    (Impact.NO_TRACKING, Family.ERROR): (
        "The work reports success whether or not it did its job; there is no status to look at afterwards."
    ),
    (Impact.NO_TRACKING, Family.CONCURRENCY): (
        "Work started in the loop is not counted anywhere, so nobody can see how much is in flight."
    ),
    (Impact.NO_TRACKING, None): "Nothing records whether the work started, finished or failed.",
    (Impact.NO_RETRY, Family.COROUTINE): (
        "Work that never starts is never retried either; the operation is simply missing."
    ),
    (Impact.NO_RETRY, Family.TASK): (
        "A timeout or a refused connection ends the task for good; no code path tries again."
    ),
    (Impact.NO_RETRY, Family.THREAD): (
        "An exception ends the thread or executor job; nothing submits the work again."
    ),
    (Impact.NO_RETRY, Family.ERROR): (
        "The error is consumed where it happened, so nothing upstream gets the chance to retry."
    ),
    (Impact.NO_RETRY, Family.CONCURRENCY): (
        "When a burst hits a rate limit, every call in the burst fails together, with no backoff."
    ),
    (Impact.NO_RETRY, None): "Transient failures (timeouts, rate limits, dropped connections) become permanent.",
    (Impact.NO_ALERTING, Family.COROUTINE): (
        "The only trace is a `RuntimeWarning: coroutine ... was never awaited`, which production "
        "logging usually filters out."
    ),
    (Impact.NO_ALERTING, Family.TASK): (
        "A failure shows up, if ever, as \"Task exception was never retrieved\" when the task is "
        "garbage-collected, far from the request that caused it."
    ),
    (Impact.NO_ALERTING, Family.THREAD): (
        "An exception in a thread goes to stderr through `threading.excepthook`; one in an executor "
        "job stays inside a future nobody reads."
    ),
    (Impact.NO_ALERTING, Family.ERROR): (
        "The exception is swallowed or logged at a level nobody watches, so monitoring never sees a failure."
    ),
    (Impact.NO_ALERTING, None): "Failures reach no log, metric or alert that anyone watches.",
    (Impact.RACE, Family.COROUTINE): (
        "Code after the call assumes the work was done; it was not, so later reads see stale state."
    ),
    (Impact.RACE, Family.TASK): (
        "The caller returns while the task is still running, so later code (and the next request) "
        "can read state the task has not written yet."
    ),
    (Impact.RACE, Family.THREAD): (
        "The caller carries on, or the process exits, while the thread is still writing shared state."
    ),
    (Impact.RACE, Family.CONCURRENCY): (
        "Many copies of the same work run at once against the same rows, files or remote accounts."
    ),
    (Impact.RACE, None): "Concurrent requests can interleave with the background work and conflict.",
    (Impact.NO_BACKPRESSURE, Family.CONCURRENCY): (
        "Nothing limits how many run at once; a burst of input becomes a burst of tasks, sockets and memory."
    ),
    (Impact.NO_BACKPRESSURE, None): (
        "Nothing bounds how much background work is in flight, so load spikes pass straight to "
        "downstream services."
    ),
}

_FILE_ISSUES = (
    ("Blind spot", "Every fire-and-forget bug in these files is invisible to the scan until they can be analysed."),
    ("Import failure", "A module that does not parse or decode fails as soon as anything imports it."),
)

_RISKS: Dict[Family, Tuple[str, ...]] = {
    Family.FILE: (
        "Bugs in these files ship unchecked.",
        "A broken module surfaces only when code imports it, possibly in production.",
    ),
    Family.COROUTINE: (
        "Side effects (emails, writes, cache invalidations) silently never happen.",
        "Tests that do not check the side effect keep passing, so the gap reaches production.",
    ),
    Family.TASK: (
        "Background work stops half-way at random, depending on garbage collection timing.",
        "No visibility into how often the work fails, or whether it ran at all.",
        "Shutdown and deploys cut running work off with no record of what was lost.",
    ),
    Family.THREAD: (
        "Interpreter exit kills daemon threads mid-write, leaving partial files or rows.",
        "Exceptions in executor jobs vanish, so failure rates are unknown.",
        "Threads pile up under load with nothing bounding them.",
    ),
    Family.ERROR: (
        "Failures are hidden, so data quietly goes missing or stale.",
        "Incidents are found by users rather than by monitoring.",
    ),
    Family.CONCURRENCY: (
        "Traffic spikes exhaust connection pools, file descriptors or memory.",
        "Downstream APIs rate-limit or ban the service; costs rise with every retry storm.",
    ),
}

_CATEGORY = {Family.CONCURRENCY: "Performance/Reliability"}

_BACKTICKED = re.compile(r"`([^`]+)`")


def render(result: RunResult, context: ReportContext) -> str:
    if not result.findings:
        text = f"No fire-and-forget findings: ffscan {context.version} checked {_plural(result.files_checked, 'file')} and found nothing to file.\n"
        return text + _run_problems(result)
    groups: Dict[str, List[Finding]] = {}
    for finding in sorted(result.findings, key=Finding.sort_key):
        groups.setdefault(finding.code, []).append(finding)
    order = sorted(groups, key=lambda code: (_PRIORITY[Family.of_code(code)][0], code))
    sources = _SourceCache(context.root)
    tickets = [(code, _title(code, len(groups[code]))) for code in order]
    parts = [_header(result, groups, tickets)]
    for code, title in tickets:
        rule = context.rules.get(code) or RuleInfo.from_finding(groups[code][0])
        parts.append(_ticket(rule, title, groups[code], context, sources))
    return "\n\n".join(part.rstrip("\n") for part in parts) + "\n"


# -- header ---------------------------------------------------------------------------------


def _header(result: RunResult, groups: Dict[str, List[Finding]], tickets: List[Tuple[str, str]]) -> str:
    files = {f.path for f in result.findings}
    lines = [
        "# ffscan report: fire-and-forget findings",
        "",
        f"{_plural(len(result.findings), 'finding')} in {_plural(len(files), 'file')} "
        f"({_plural(result.files_checked, 'file')} checked), filed as {_plural(len(tickets), 'ticket')}.",
        "",
        "| Priority | Tickets | Findings |",
        "|---|---:|---:|",
    ]
    by_priority: Dict[Tuple[int, str], List[int]] = {}
    for code, _ in tickets:
        key = _PRIORITY[Family.of_code(code)]
        entry = by_priority.setdefault(key, [0, 0])
        entry[0] += 1
        entry[1] += len(groups[code])
    for (_, label), (count, findings) in sorted(by_priority.items()):
        lines.append(f"| {label} | {count} | {findings} |")
    lines += ["", "## Contents", ""]
    for number, (code, title) in enumerate(tickets, 1):
        heading = f"FFSCAN-{code}: {title}"
        label = _PRIORITY[Family.of_code(code)][1].split("(")[1].rstrip(")")
        lines.append(f"{number}. [{heading}](#{anchor(heading)}) ({label})")
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


def anchor(heading: str) -> str:
    """The id GitHub gives a Markdown heading."""
    slug = re.sub(r"[^\w\- ]", "", heading.strip().lower())
    return slug.replace(" ", "-")


# -- one ticket -----------------------------------------------------------------------------


def _ticket(rule: RuleInfo, title: str, findings: List[Finding], context: ReportContext, sources: "_SourceCache") -> str:
    family = rule.family
    out: List[str] = [f"# FFSCAN-{rule.code}: {title}", ""]
    out.append(f"## Priority: {_PRIORITY[family][1]}")
    out.append("## Status: Open")
    out.append(f"## Category: {_CATEGORY.get(family, 'Reliability')}")
    out += ["", "## Summary", _summary(rule, findings), ""]
    out += ["## Affected Files", *_affected_files(findings), ""]
    out += ["## Problematic Code", *_problematic_code(rule, findings, sources), ""]
    out += ["## Issues", *_issues(rule, findings), ""]
    out += ["## Fix Required", *_fix_required(family), ""]
    out += ["## Risk if Not Fixed", *_risks(rule, findings), ""]
    out += ["## Found By", *_found_by(rule, findings, context)]
    return "\n".join(out)


def _title(code: str, count: int) -> str:
    singular, plural = _subject(code)
    text = f"{count} {singular if count == 1 else plural}"
    return text[0].upper() + text[1:]


def _subject(code: str) -> Tuple[str, str]:
    return _SUBJECT_BY_CODE.get(code) or _SUBJECT_BY_FAMILY[Family.of_code(code)]


def _summary(rule: RuleInfo, findings: List[Finding]) -> str:
    singular, plural = _subject(rule.code)
    count = len(findings)
    per_file = Counter(f.path for f in findings)
    shown = [
        f"`{path}`" if rule.family is Family.FILE else f"`{path}` ({n})"
        for path, n in per_file.most_common(MAX_FILES_IN_SUMMARY)
    ]
    rest = len(per_file) - len(shown)
    where = _join(shown + ([f"{_plural(rest, 'other file')}"] if rest else []))
    if rule.family is Family.FILE:
        text = f"{count} {singular if count == 1 else plural}: {where}. "
    else:
        pronoun = "It is" if count == 1 else "They are"
        text = f"{count} {singular if count == 1 else plural}. {pronoun} in {_plural(len(per_file), 'file')}: {where}. "
    text += _CONSEQUENCE[rule.family]
    names = Counter(m.group(1) for m in (_BACKTICKED.search(f.message) for f in findings) if m)
    if names and rule.family is not Family.FILE:
        listed = [f"`{name}` ({n})" for name, n in names.most_common(5)]
        if len(names) > 5:
            listed.append(f"{len(names) - 5} more")
        text += f" Code involved: {_join(listed)}."
    if rule.family is Family.FILE:
        details = sorted({f.message for f in findings})
        text += " Reported: " + _join([f'"{d}"' for d in details[:3]]) + "."
    return text


def _affected_files(findings: List[Finding]) -> List[str]:
    lines_by_path: Dict[str, List[int]] = {}
    for finding in findings:
        lines_by_path.setdefault(finding.path, []).append(finding.start.line)
    out = []
    for path, numbers in lines_by_path.items():
        ranges = _ranges(sorted(set(numbers)))
        word = "line" if len(ranges) == 1 and "-" not in ranges[0] else "lines"
        out.append(f"- `{path}` ({word} {', '.join(ranges)})")
    return out


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


def _problematic_code(rule: RuleInfo, findings: List[Finding], sources: "_SourceCache") -> List[str]:
    windows = _windows(findings, sources)
    out: List[str] = []
    for path, first, last, members in windows[:MAX_SNIPPETS]:
        first, last, text = _snippet(rule.code, sources.lines(path), first, last, members)
        span = f"line {first}" if first == last else f"lines {first}-{last}"
        fence = "```" if "```" not in text else "````"
        out += ["", f"`{path}`, {span}:", f"{fence}python", text, fence]
    hidden = [f for _, _, _, members in windows[MAX_SNIPPETS:] for f in members]
    if hidden:
        files = {f.path for f in hidden}
        out += [
            "",
            f"...and {_plural(len(hidden), 'more finding')} in {_plural(len(files), 'file')} not shown here; "
            f"`ffscan check --select {rule.code}` lists every one.",
        ]
    return out[1:]


Window = Tuple[str, int, int, List[Finding]]


def _windows(findings: List[Finding], sources: "_SourceCache") -> List[Window]:
    """Group findings into non-overlapping line ranges with a little context around each."""
    windows: List[Window] = []
    for finding in findings:
        lines = sources.lines(finding.path)
        start = finding.start.line
        if lines is None:
            first, last = start, start + max(len(finding.source_lines), 1) - 1
        else:
            first = max(1, start - CONTEXT_BEFORE)
            last = min(len(lines), max(finding.end.line, start) + CONTEXT_AFTER)
            last = max(start, min(last, first + MAX_WINDOW - 1))
        if windows and windows[-1][0] == finding.path:
            path, wfirst, wlast, members = windows[-1]
            if first <= wlast + 1 and max(last, wlast) - wfirst < MAX_WINDOW:
                windows[-1] = (path, wfirst, max(last, wlast), members + [finding])
                continue
            if first <= wlast:  # too big to merge: split the overlap, never show a line twice
                wlast = max(wfirst, start - 1)
                windows[-1] = (path, wfirst, wlast, members)
                first = max(first, wlast + 1)
                last = max(last, first)
        windows.append((finding.path, first, last, [finding]))
    return windows


def _snippet(code: str, lines: Optional[List[str]], first: int, last: int, members: List[Finding]) -> Tuple[int, int, str]:
    """The marked-up code of one window, without blank lines at either end, and its line range."""
    marks = Counter(f.start.line for f in members)
    if lines is None:  # the file is gone: show what the findings carried
        rows: Dict[int, str] = {}
        for finding in members:
            for offset, text in enumerate(finding.source_lines):
                rows.setdefault(finding.start.line + offset, text)
        numbered = sorted(rows.items()) or [(members[0].start.line, "")]
    else:
        numbered = [(n, lines[n - 1]) for n in range(first, min(last, len(lines)) + 1)]
    while len(numbered) > 1 and not numbered[0][1].strip() and numbered[0][0] not in marks:
        numbered.pop(0)
    while len(numbered) > 1 and not numbered[-1][1].strip() and numbered[-1][0] not in marks:
        numbered.pop()
    body = []
    for number, text in numbered:
        text = text.rstrip().expandtabs(4)
        if number in marks:
            times = f" (x{marks[number]})" if marks[number] > 1 else ""
            text = f"{text}  # <- {code}{times}"
        body.append(text)
    return numbered[0][0], numbered[-1][0], textwrap.dedent("\n".join(body))


def _issues(rule: RuleInfo, findings: List[Finding]) -> List[str]:
    if rule.family is Family.FILE:
        pairs = list(_FILE_ISSUES)
    else:
        impacts = rule.impacts or findings[0].impacts
        pairs = []
        for impact in impacts:
            text = _ISSUE_TEXT.get((impact, rule.family)) or _ISSUE_TEXT[(impact, None)]
            pairs.append((impact.title, text))
        if not pairs:
            pairs.append(("No job tracking", _ISSUE_TEXT[(Impact.NO_TRACKING, None)]))
    return [f"{number}. **{title}** - {text}" for number, (title, text) in enumerate(pairs, 1)]


def _risks(rule: RuleInfo, findings: List[Finding]) -> List[str]:
    bullets = []
    risk = rule.risk or findings[0].risk
    if risk:
        bullets.append(risk)
    bullets.extend(_RISKS[rule.family])
    return [f"- {bullet}" for bullet in bullets]


def _found_by(rule: RuleInfo, findings: List[Finding], context: ReportContext) -> List[str]:
    paths = sorted({f.path for f in findings})
    target = " ".join(_shell_word(p) for p in paths) if len(paths) <= MAX_FILES_IN_SUMMARY else "."
    return [
        f"ffscan {context.version}, rule `{rule.code}` ({rule.name}): `ffscan check --select {rule.code} {target}`",
        "",
        f"Rule documentation: {rule.help_uri}",
    ]


# -- fixes, per family ----------------------------------------------------------------------

_QUEUE_PROMISES = (
    "Run the work through the tracked queue in `ffscan.runtime`. It bounds concurrency "
    "(`max_concurrency`, 16 by default) and the backlog (`max_pending`), retries with "
    "exponential backoff when configured (`retries=`, `backoff=Backoff(...)`), reports every "
    "final failure once to a single error hook (logged with its traceback by default), keeps "
    "status visible per job (`job.status`, `await job`) and for the queue (`background.stats()`), "
    "and drains on shutdown (`await background.drain()` or `background.shutdown()`)."
)

_OPTION_A: Dict[Family, str] = {
    Family.COROUTINE: """\
from ffscan.runtime import background

async def handle(event):
    await publish(event)               # when the caller needs it done before it returns
    background.spawn(publish, event)   # when it may finish later: tracked, retried, drained
""",
    Family.TASK: """\
from ffscan.runtime import Backoff, background, configure, track

configure(max_concurrency=8, retries=3, backoff=Backoff(initial=0.5, max=30))  # once, at startup

async def create_order(request):
    order = await save(request)
    background.spawn(send_receipt, order)  # was: asyncio.create_task(send_receipt(order))
    return order

# Where the task must keep running exactly as it does today, make it visible instead:
track(asyncio.create_task(send_receipt(order)))

# On shutdown, let queued and running work finish:
await background.drain(timeout=30)
""",
    Family.THREAD: """\
from ffscan.runtime import background, configure, track

configure(max_concurrency=4, retries=2)  # once, at startup

def upload(request):
    path = save(request)
    background.submit(resize_image, path)  # was: executor.submit(...) or Thread(target=...).start()

# Where an existing executor must stay, keep its future alive and its failure reported:
track(executor.submit(resize_image, path))

# On shutdown, wait for the work instead of cutting it off:
background.shutdown(timeout=30)
""",
    Family.ERROR: """\
import logging

from ffscan.runtime import background, configure

log = logging.getLogger(__name__)

def report(job, error):
    log.error("background job %s failed", job.name, exc_info=error)  # or send to your error tracker

configure(retries=3, on_error=report)  # once, at startup

async def sync_inventory(store_id):
    await fetch_and_store(store_id)  # no broad `except`: let the failure reach the queue

background.spawn(sync_inventory, store_id)
""",
    Family.CONCURRENCY: """\
from ffscan.runtime import background, configure

configure(max_concurrency=10, max_pending=1_000)  # at most 10 at once; the rest wait their turn

async def notify_all(users):
    jobs = [background.spawn(notify, user) for user in users]
    for job in jobs:
        await job  # or leave them to the queue and watch background.stats()
""",
}

_OPTION_B_ASYNC = """\
# pip install arq  (Redis-backed, asyncio-native)
from arq import create_pool
from arq.connections import RedisSettings

async def send_receipt(ctx, order_id):
    order = await load_order(order_id)
    await mailer.send(order.email, render_receipt(order))

class WorkerSettings:  # run with: arq myapp.jobs.WorkerSettings
    functions = [send_receipt]
    max_tries = 5
    job_timeout = 60

async def create_order(request):
    order = await save(request)
    redis = await create_pool(RedisSettings())
    await redis.enqueue_job("send_receipt", order.id, _job_id=f"receipt:{order.id}")
    return order
"""

_OPTION_B_SYNC = """\
# pip install "celery[redis]"
from celery import Celery

app = Celery("jobs", broker="redis://localhost:6379/0")

@app.task(autoretry_for=(OSError,), retry_backoff=True, max_retries=5, acks_late=True)
def resize_image(path):
    ...

def upload(request):
    path = save(request)
    resize_image.delay(path)
"""

_MINIMUM: Dict[Family, Tuple[str, str]] = {
    Family.COROUTINE: (
        "Await the coroutine. If it really must run in the background, make it a task and keep "
        "that task as shown for dropped tasks (a strong reference plus a done-callback).",
        """\
async def handle(event):
    await publish(event)  # was: publish(event)
""",
    ),
    Family.TASK: (
        "Keep a strong reference until the task ends, and read its exception in a done-callback "
        "so a failure is logged where someone will see it.",
        """\
import asyncio
import logging

log = logging.getLogger(__name__)
_background: set[asyncio.Task] = set()

def _finished(task: asyncio.Task) -> None:
    _background.discard(task)
    if not task.cancelled() and task.exception() is not None:
        log.error("background task %s failed", task.get_name(), exc_info=task.exception())

task = asyncio.create_task(send_receipt(order))
_background.add(task)
task.add_done_callback(_finished)
""",
    ),
    Family.THREAD: (
        "Keep the handle. Read every future's exception in a done-callback, and join threads and "
        "processes on shutdown instead of letting interpreter exit kill them.",
        """\
import logging

log = logging.getLogger(__name__)

def _check(future):
    if not future.cancelled() and future.exception() is not None:
        log.error("background job failed", exc_info=future.exception())

executor.submit(resize_image, path).add_done_callback(_check)

worker = threading.Thread(target=sync_inventory, name="inventory-sync")
worker.start()
...
worker.join(timeout=30)  # at shutdown
""",
    ),
    Family.ERROR: (
        "Report the failure, then re-raise it (or return a failure the caller checks) so the "
        "task, future or thread ends as failed instead of as a silent success.",
        """\
async def sync_inventory(store_id):
    try:
        await fetch_and_store(store_id)
    except Exception:
        log.exception("inventory sync failed for store %s", store_id)
        raise
""",
    ),
    Family.CONCURRENCY: (
        "Bound the fan-out with a semaphore (or a sized pool) so at most N run at once, and keep "
        "the results so failures are seen.",
        """\
limit = asyncio.Semaphore(10)

async def notify_limited(user):
    async with limit:
        await notify(user)

results = await asyncio.gather(*(notify_limited(u) for u in users), return_exceptions=True)
failures = [r for r in results if isinstance(r, Exception)]
""",
    ),
}


def _fix_required(family: Family) -> List[str]:
    if family is Family.FILE:
        return [
            "",
            "### Make the file analysable",
            "Fix the syntax or encoding error (ffscan parses with the running Python's grammar; "
            "code for an older Python must be ported), split generated or oversized files, or "
            "read the file's permissions.",
            "",
            "### Minimum fix",
            "If the file is not meant to be Python source (a template, vendored or generated code), "
            "exclude it so the scan stops reporting it:",
            "```toml",
            "[tool.ffscan]",
            'extend-exclude = ["path/to/generated/"]',
            "```",
        ]
    durable = _OPTION_B_SYNC if family is Family.THREAD else _OPTION_B_ASYNC
    which = (
        "Celery (or RQ) for synchronous code"
        if family is Family.THREAD
        else "arq for asyncio code (Celery, Dramatiq or RQ if the workers are synchronous)"
    )
    explanation, minimum = _MINIMUM[family]
    return [
        "",
        "### Option A: Tracked background queue (recommended)",
        _QUEUE_PROMISES,
        "```python",
        _OPTION_A[family].rstrip("\n"),
        "```",
        "",
        "### Option B: Durable job queue (work that must survive restarts)",
        f"When losing the work on a crash or deploy is not acceptable, put it on a persistent queue: "
        f"{which}. Pass ids rather than objects, and make the job idempotent, since a retry runs it again.",
        "```python",
        durable.rstrip("\n"),
        "```",
        "",
        "### Minimum fix",
        explanation,
        "```python",
        minimum.rstrip("\n"),
        "```",
    ]


# -- helpers --------------------------------------------------------------------------------


class _SourceCache:
    """Source lines of the files findings point to, read once; None when a file is unreadable."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self._lines: Dict[str, Optional[List[str]]] = {}

    def lines(self, path: str) -> Optional[List[str]]:
        if path not in self._lines:
            full = Path(path) if Path(path).is_absolute() else self.root / path
            try:
                self._lines[path] = full.read_text(encoding="utf-8-sig").splitlines()
            except (OSError, UnicodeDecodeError):  # gone, unreadable or not UTF-8: use finding text
                self._lines[path] = None
        return self._lines[path]


def _plural(count: int, word: str) -> str:
    return f"{count} {word}{'' if count == 1 else 's'}"


def _join(items: Sequence[str]) -> str:
    items = list(items)
    if len(items) <= 1:
        return "".join(items)
    return ", ".join(items[:-1]) + " and " + items[-1]


def _shell_word(path: str) -> str:
    return path if re.fullmatch(r"[\w./-]+", path) else "'" + path.replace("'", "'\\''") + "'"
