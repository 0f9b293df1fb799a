"""How a ticket's code is fixed, shown as that code rewritten: the findings' own fixes
(`Finding.fixes`, best first) applied to their source lines, line by line.

- Option A, the tracked queue: for each issue the fix `ffscan fix --unsafe-fixes` applies
  (the first one it may), which for background work moves it onto `background.spawn(...)`
  or `background.submit(...)`.
- Option B, Celery on Redis: the same, with each call onto the tracked queue made a
  `.delay(...)` on a Celery task instead (the remedies at the top define `durable()`), or
  `enqueue(task, ...)` where the call is on the event loop (`spawn` needs one).
- Minimum fix: for each issue its first fix that keeps the work where it runs today
  (`track(...)`, the missing `await`, `daemon=False`).

A ticket with no queue call to offer shows its fixes once. An issue an option does not
rewrite is said in words: its rule's fix title, at its line, with its own code.
"""

from __future__ import annotations

import ast
import difflib
from dataclasses import dataclass, field
from typing import Dict, List, Optional, Sequence, Tuple

from ffscan.model import Edit, Fix
from ffscan.report.ticket.edits import apply_edits, touches
from ffscan.report.ticket.frames import Row
from ffscan.report.ticket.grouping import Issue, Ticket

# The tracked queue's intake for a function and its arguments (`ffscan.runtime`), and how
# durable queues enqueue a registered task: what a fix's replacement text calls.
QUEUE_METHODS = frozenset({"spawn", "submit"})
DURABLE_METHODS = frozenset({"delay", "send"})
MAX_EXCERPT = 72  # characters of a line quoted in words


@dataclass
class Option:
    title: str  # "" for the one fix of a ticket without options
    rows: List[Row] = field(default_factory=list)  # the lines it rewrites, as rewritten
    imports: List[Tuple[str, str]] = field(default_factory=list)
    command: str = ""  # the `ffscan fix` command that makes exactly these edits, if one does
    declarations: List[str] = field(default_factory=list)  # Option B: `send_receipt_task = durable(send_receipt)`
    uncovered: List[Issue] = field(default_factory=list)  # issues this option does not rewrite
    same_as_a: List[Issue] = field(default_factory=list)  # Option B: issues left as in Option A


@dataclass(frozen=True)
class QueueCall:
    """A fix's `background.spawn(fn, *args)`: the edit, and `fn` and the arguments as written."""

    edit: Edit
    function: str
    arguments: str
    on_loop: bool  # `spawn` needs a running event loop: the call site is on one


def options(ticket: Ticket) -> List[Option]:
    """Option A, B and the minimum fix when some issue can move onto a queue; else the fixes once."""
    first = {issue.number: _first_allowed(issue) for issue in ticket.issues}
    if not any(fix is not None and queue_call(fix) for fix in first.values()):
        return [_option("", ticket.issues, first)]
    option_a = _option("Option A: the tracked queue (recommended)", ticket.issues, first)
    durable: Dict[int, Optional[Fix]] = {}
    declarations: List[str] = []
    same: List[Issue] = []
    for issue in ticket.issues:
        fix = first[issue.number]
        call = queue_call(fix) if fix is not None else None
        task = _task_name(call.function) if call is not None else None
        if call is None or task is None:
            if fix is not None:
                same.append(issue)
            continue
        edit = Edit(call.edit.start, call.edit.end, f"{task}.delay({call.arguments})")
        imports: Tuple[Tuple[str, str], ...] = ()
        if call.on_loop:
            # `.delay()` is a blocking call to the broker: on the event loop, `enqueue` makes it
            # from a worker thread, retried, never raising into the handler.
            edit = Edit(call.edit.start, call.edit.end, f"enqueue({task}{', ' if call.arguments else ''}{call.arguments})")
            imports = tuple((module, "enqueue") for module, _ in fix.imports[:1])  # type: ignore[union-attr]
        durable[issue.number] = Fix.unsafe(f"Enqueue `{call.function}` on Celery", edit, imports=imports)
        declarations.append(f"{task} = durable({call.function})")
    shown = [issue for issue in ticket.issues if issue.number in durable]
    option_b = _option("Option B: Celery on Redis (work that must survive a restart)", shown, durable)
    option_b.declarations = list(dict.fromkeys(declarations))
    option_b.same_as_a = same
    minimum = {issue.number: _in_place(issue) for issue in ticket.issues}
    return [option_a, option_b, _option("Minimum fix", ticket.issues, minimum)]


def queue_call(fix: Fix) -> Optional[QueueCall]:
    """The call onto the tracked queue a fix writes (`<queue>.spawn(fn, ...)`), if it is one."""
    call = _replacement_call(fix)
    if call is None or call[1].func.attr not in QUEUE_METHODS or not call[1].args:  # type: ignore[attr-defined]
        return None
    edit, node, text = call
    function = node.args[0]
    rest = sorted([*node.args[1:], *node.keywords], key=lambda n: (n.lineno, n.col_offset))
    arguments = ", ".join(ast.get_source_segment(text, n) or "" for n in rest)
    return QueueCall(edit, ast.get_source_segment(text, function) or "", arguments, node.func.attr == "spawn")  # type: ignore[attr-defined]


def is_durable(fix: Fix) -> bool:
    """Whether a fix enqueues on the project's own durable queue (`task.delay(...)`, or
    `enqueue(task, ...)` from the event loop)."""
    if any(name == "enqueue" for _, name in fix.imports):
        return True
    call = _replacement_call(fix)
    return call is not None and call[1].func.attr in DURABLE_METHODS  # type: ignore[attr-defined]


def words(issue: Issue) -> str:
    """What to write for an issue no fix shown covers, with its own line and code."""
    source = issue.finding.source_lines[0].strip() if issue.finding.source_lines else ""
    excerpt = f", `{source}`" if source and "`" not in source and len(source) <= MAX_EXCERPT else ""
    title = issue.finding.fix_title or issue.rule.fix_title
    link = f"[{issue.finding.code}]({issue.rule.help_uri}#fix)"
    what = f"{title[:1].lower() + title[1:]} ({link})" if title else f"see {link}"
    return f"Issue {issue.number} (line {issue.line}{excerpt}): {what}."


def _replacement_call(fix: Fix) -> Optional[Tuple[Edit, ast.Call, str]]:
    if len(fix.edits) != 1:
        return None
    edit = fix.edits[0]
    try:
        node = ast.parse(edit.content, mode="eval").body
    except SyntaxError:  # an insertion such as "await " or "track(": not a call of its own
        return None
    if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute):
        return edit, node, edit.content
    return None


def _task_name(function: str) -> Optional[str]:
    """`send_receipt_task` for `send_receipt`, `db_audit_task` for `db.audit`; None for a
    method or an expression, which cannot become a module-level Celery task as written."""
    parts = function.split(".")
    if not all(part.isidentifier() for part in parts) or parts[0] in ("self", "cls"):
        return None
    return "_".join(parts) + "_task"


def _first_allowed(issue: Issue) -> Optional[Fix]:
    """What `ffscan fix --unsafe-fixes` applies (a display-only fix when that is all there is)."""
    fixes = issue.finding.fixes
    return next((fix for fix in fixes if fix.allowed(unsafe=True)), fixes[0] if fixes else None)


def _in_place(issue: Issue) -> Optional[Fix]:
    return next((f for f in issue.finding.fixes if not queue_call(f) and not is_durable(f)), None)


def _option(title: str, issues: Sequence[Issue], chosen: Dict[int, Optional[Fix]]) -> Option:
    """The `chosen` fixes applied to the issues' source lines, and what they leave out."""
    option = Option(title)
    accepted: List[Tuple[Issue, Fix]] = []
    clusters = _clusters([issue for issue in issues if chosen.get(issue.number) is not None])
    for lines, first, members in clusters:
        taken: List[Fix] = []
        for issue in members:
            fix = chosen[issue.number]
            assert fix is not None
            if any(fix.edits == other.edits for other in taken):  # the same rewrite, reported twice
                accepted.append((issue, fix))
                continue
            if any(touches(fix, other) for other in taken) or not _fits(lines, first, fix):
                option.uncovered.append(issue)
                continue
            taken.append(fix)
            accepted.append((issue, fix))
        edits = [edit for fix in taken for edit in fix.edits]
        option.rows += _rewritten(lines, apply_edits(lines, first, edits), first)
        option.imports += [item for fix in taken for item in fix.imports]
    option.imports = list(dict.fromkeys(option.imports))
    covered = {issue.number for issue, _ in accepted}
    option.uncovered += [issue for issue in issues if issue.number not in covered and issue not in option.uncovered]
    option.uncovered.sort(key=lambda issue: issue.number)
    option.command = _command(issues, dict((issue.number, fix) for issue, fix in accepted)) if accepted else ""
    return option


def _clusters(issues: Sequence[Issue]) -> List[Tuple[List[str], int, List[Issue]]]:
    """Issues whose source lines touch, merged: (lines, first line number, issues)."""
    out: List[Tuple[List[str], int, List[Issue]]] = []
    for issue in sorted(issues, key=lambda i: (i.line, i.number)):
        source = list(issue.finding.source_lines)
        if not source:
            continue
        if out and issue.line <= out[-1][1] + len(out[-1][0]):
            lines, first, members = out[-1]
            overlap = first + len(lines) - issue.line
            lines.extend(source[overlap:])
            members.append(issue)
        else:
            out.append((source, issue.line, [issue]))
    return out


def _fits(lines: List[str], first: int, fix: Fix) -> bool:
    try:
        apply_edits(lines, first, fix.edits)
    except ValueError:  # an edit beyond the finding's lines: said in words instead
        return False
    return True


def _rewritten(old: List[str], new: List[str], first: int) -> List[Row]:
    """The lines that change, as they become, numbered as the lines they replace."""
    rows: List[Row] = []
    for tag, i1, i2, j1, j2 in difflib.SequenceMatcher(None, old, new, autojunk=False).get_opcodes():
        if tag == "equal":
            continue
        for k, line in enumerate(new[j1:j2]):
            rows.append(Row(first + i1 + k if k < i2 - i1 else None, line))
    return rows


def _command(issues: Sequence[Issue], shown: Dict[int, Fix]) -> str:
    """`ffscan fix` or `ffscan fix --unsafe-fixes` when that is exactly what it applies here."""
    for unsafe in (False, True):
        picks = {i.number: next((f for f in i.finding.fixes if f.allowed(unsafe)), None) for i in issues}
        if all(picks[i.number] == shown.get(i.number) for i in issues):
            return "ffscan fix --unsafe-fixes" if unsafe else "ffscan fix"
    return ""
