"""FF403 unchecked-gather-exceptions: `gather(..., return_exceptions=True)` whose results nobody checks."""

from __future__ import annotations

import ast
from typing import List, Optional

from ffscan.model import Impact
from ffscan.rules.base import Rule
from ffscan.semantic.fanout import made_by
from ffscan.semantic.flow import defining_scope, name_loads
from ffscan.semantic.names import Binding, iter_own_nodes
from ffscan.semantic.tasks import task_spawner

_GATHER = frozenset({"asyncio.gather", "asyncio.tasks.gather"})
# Words in the name of a function that tears things down: waiting there for tasks to end,
# whatever they raise, is the point.
_TEARDOWN_WORDS = ("close", "shutdown", "stop", "cleanup", "teardown", "dispose", "cancel", "aexit", "exit")


class UncheckedGatherExceptions(Rule):
    """## What it does
    Finds `await asyncio.gather(..., return_exceptions=True)` whose results are dropped: the
    call is a statement, or its list is bound to a local name that is never read, or read only
    for its length. Not reported in a `finally` clause, in a function that cancels tasks, or
    in one whose name says it tears something down (`close`, `stop`, `shutdown`, `cleanup`,
    `__aexit__`): there, waiting for what was started to end, whatever it raised, is the point.

    ## Why is this bad?
    With `return_exceptions=True`, `gather` never raises: each failure becomes an element of
    the result list. Dropping the list swallows every one of them: no log line, no
    "exception was never retrieved" warning (the exception *was* retrieved, by `gather`), no
    retry. The batch looks successful however many of its jobs failed.

    ## Example
    ```python
    async def sync_all(accounts):
        await asyncio.gather(*(sync(account) for account in accounts), return_exceptions=True)
    ```

    ## Fix
    ```python
    async def sync_all(accounts):
        results = await asyncio.gather(*(sync(account) for account in accounts), return_exceptions=True)
        for account, result in zip(accounts, results):
            if isinstance(result, Exception):
                sentry_sdk.capture_exception(result)
    ```

    ## Fix safety
    No automatic fix: what a failed item should trigger (a report, a retry, a status) is the
    author's call.

    ## Known limits
    A result list that is read in any way other than `len()` counts as checked, even when the
    reading never looks for exceptions. When every gathered item runs the same known coroutine
    (`*[work(x) for x in xs]`, `*tasks` of `create_task(work(x))`) and its body catches every
    error itself, nothing is reported: the list holds no exception. Whether a coroutine can
    raise is read from its own body, not from what it calls.
    """

    code = "FF403"
    name = "unchecked-gather-exceptions"
    subject = ("gather whose collected exceptions are dropped", "gathers whose collected exceptions are dropped")
    loss = "failures collected by `gather` are swallowed"
    triggers = ("return_exceptions",)
    message = "`gather(..., return_exceptions=True)` results are {what}; every failure it collects is swallowed"
    impacts = (Impact.NO_ALERTING, Impact.NO_RETRY)
    risk = (
        "Every job of the batch can fail without a trace: gather turns each exception into a "
        "result, and nothing looks at the results."
    )
    default_on = False
    off_reason = (
        "0 real of 5 read on ten async projects and 24 applications: best-effort waits, and gathered work "
        "that catches its own errors (now asked about: 3 findings remain, none real)"
    )

    def __init__(self, semantic, sink) -> None:
        super().__init__(semantic, sink)
        self._gathers: List[ast.Call] = []

    def visit_Call(self, node: ast.Call) -> None:
        if self.names.qualified(node.func) in _GATHER and _returns_exceptions(node):
            self._gathers.append(node)

    def leave_Module(self, node: ast.Module) -> None:
        for call in self._gathers:  # the whole module seen: every read of the results is known
            self._check(call)

    def _check(self, node: ast.Call) -> None:
        awaited = self.semantic.parent(node)
        if not isinstance(awaited, ast.Await):
            return  # a future handed on or dropped unawaited: FF204 follows that
        function = self.names.enclosing_function(node)
        if function is None or _tears_down(function) or self._in_finally(node, function):
            return
        what = self._dropped(awaited, function)
        if what is None:
            return
        query = self._raise_query(node)
        if query is None:
            self.report(node, what=what)
        else:
            self.report_if(node, query, what=what)

    def _raise_query(self, node: ast.Call) -> Optional[tuple]:
        """"Can the gathered work fail?", when every argument runs one known coroutine: work
        that catches its own errors leaves nothing in the list to check."""
        refs = []
        for arg in node.args:
            coroutine = self._gathered(arg.value if isinstance(arg, ast.Starred) else arg, starred=isinstance(arg, ast.Starred))
            if coroutine is None:
                return None
            ref = self.semantic.refs.ref_of(coroutine, self.names.scope_of(coroutine))
            if ref[0] == "unknown":
                return None
            refs.append(("may-raise", ref))
        unique = list(dict.fromkeys(refs))
        if len(unique) != 1:
            return None  # several kinds of work: any one may fail (no "any" question is asked)
        return unique[0]

    def _gathered(self, value: ast.expr, starred: bool) -> Optional[ast.Call]:
        """The coroutine call one gathered item runs: `work(x)` of `work(x)`, of
        `create_task(work(x))`, of `*[work(x) for x in xs]` or of a name bound to that."""
        if starred and isinstance(value, ast.Name):
            found = self.names.binding(value.id, value)
            if found is None or found.kind != Binding.VALUE or len(_reads_of(self, value)) != 1:
                return None
            value = found.node
            if not isinstance(value, (ast.ListComp, ast.GeneratorExp, ast.SetComp)):
                return None
        if starred:
            if not isinstance(value, (ast.ListComp, ast.GeneratorExp, ast.SetComp)):
                return None
            value = value.elt
        if isinstance(value, ast.Call) and task_spawner(self.semantic, value) is not None and value.args:
            value = made_by(self.semantic, value.args[0])
        return value if isinstance(value, ast.Call) else None

    def _in_finally(self, node: ast.AST, function: ast.AST) -> bool:
        """In a `finally` clause: waiting there for what was started, whatever it raised, is
        the clean-up."""
        child = node
        for ancestor in self.semantic.ancestors(node):
            if ancestor is function:
                return False
            if isinstance(ancestor, ast.Try) and child in ancestor.finalbody:
                return True
            child = ancestor
        return False

    def _dropped(self, awaited: ast.Await, function: ast.AST) -> Optional[str]:
        parent = self.semantic.parent(awaited)
        if isinstance(parent, ast.Expr):
            return "dropped"
        if isinstance(parent, ast.Assign) and parent.value is awaited and len(parent.targets) == 1:
            target = parent.targets[0]
            if isinstance(target, ast.Name):
                if target.id == "_":
                    return "dropped"
                loads = name_loads(self.semantic, function).get(target.id, ())
                if any(defining_scope(self.semantic, load) is not function for load in loads):
                    return None
                if all(self._only_counts(load) for load in loads):
                    return f"bound to `{target.id}` and never checked"
        return None

    def _only_counts(self, load: ast.Name) -> bool:
        parent = self.semantic.parent(load)
        return isinstance(parent, ast.Call) and load in parent.args and self.names.qualified(parent.func) == "builtins.len"


def _reads_of(rule: Rule, name: ast.Name) -> tuple:
    """Every read of `name` in its function: a list read once, by the `gather`, holds only
    what it was built with."""
    function = rule.names.enclosing_function(name)
    return tuple(name_loads(rule.semantic, function).get(name.id, ())) if function is not None else ()


def _returns_exceptions(call: ast.Call) -> bool:
    return any(
        k.arg == "return_exceptions" and isinstance(k.value, ast.Constant) and k.value.value is True for k in call.keywords
    )


def _tears_down(function: ast.AST) -> bool:
    name = getattr(function, "name", "").lower()
    if any(word in name for word in _TEARDOWN_WORDS):
        return True
    for node in iter_own_nodes(function):
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr == "cancel":
            return True
    return False
