"""FF105 unconsumed-coroutine-container: coroutines put in a container that nothing runs."""

from __future__ import annotations

import ast
from typing import Dict, List, Optional, Tuple

from ffscan.model import Impact
from ffscan.rules.base import Rule
from ffscan.semantic.coroutines import coroutine_call, coroutine_query, expects_warning, spelled
from ffscan.semantic.flow import defining_scope, is_declared_global, name_loads
from ffscan.semantic.stdlib import COROUTINE_WORDS, LOG_METHODS, is_logger
from ffscan.semantic.tasks import reads_locals_dynamically

# Methods that put an element into a container.
_ADDERS = frozenset({"append", "add", "appendleft", "insert", "setdefault"})
# Methods of the container that put, count or empty, and never run what it holds.
_MUTATORS = frozenset({"append", "add", "appendleft", "insert", "extend", "update", "setdefault", "clear"})
# Builtins that read a container's size, truth or text.
_LOOKERS = frozenset({"builtins.len", "builtins.bool", "builtins.print", "builtins.repr", "builtins.str", "builtins.id"})
# What a fresh container is built with.
_DISPLAYS = (ast.List, ast.Set, ast.Dict, ast.Tuple, ast.ListComp, ast.SetComp, ast.DictComp)
_CONSTRUCTORS = frozenset({"builtins.list", "builtins.dict", "builtins.set", "collections.deque", "collections.OrderedDict"})

Pending = Tuple[ast.Call, str, str, Optional[tuple]]  # (coroutine call, callee, container, query)


class UnconsumedCoroutineContainer(Rule):
    """## What it does
    Finds a call that certainly makes a coroutine (see FF101) put into a container held by a
    local name of a function (an element of a list, set or tuple display or comprehension, a
    value of a dict display or comprehension, `items.append(...)`, `items.add(...)`,
    `items.insert(...)`, `items[key] = ...`) when nothing in the function ever takes the
    coroutines out of that container: every read of the name only adds to it, empties it,
    counts it, tests it or logs it. Iterating it, unpacking it into `asyncio.gather(*items)`,
    reading `items.values()`, returning, storing or passing it on all count as consuming it.

    ## Why is this bad?
    A coroutine in a list is still only a coroutine object: its body runs when something
    awaits it or wraps it in a task. A container that is built and never consumed (the
    `gather` was forgotten, or moved under a branch that no longer runs) drops every one of
    them unawaited: none of the work happens, and Python prints "coroutine ... was never
    awaited" to stderr once per item, which production logging rarely captures.

    ## Example
    ```python
    async def notify_all(users):
        pending = [send_email(user) for user in users]
        log.info("notifying %d users", len(pending))
    ```

    ## Fix
    ```python
    async def notify_all(users):
        pending = [send_email(user) for user in users]
        log.info("notifying %d users", len(pending))
        await asyncio.gather(*pending)
    ```

    ## Fix safety
    No automatic fix: whether the coroutines should be gathered, awaited one by one or run
    as tasks (and with what bound on concurrency) is the author's decision.

    ## Known limits
    Only containers bound to a local name of the function, made there by a display, a
    comprehension or `list()`/`dict()`/`set()`/`deque()`, are followed; a container read by
    a nested function, declared `global`/`nonlocal`, or bound more than once is taken as
    consumed. A generator expression is never reported: its coroutines are only made when
    something iterates it.
    """

    code = "FF105"
    name = "unconsumed-coroutine-container"
    subject = ("coroutine stored and never run", "coroutines stored and never run")
    loss = "coroutine work never runs"
    triggers = COROUTINE_WORDS
    message = "Coroutine from `{callee}` is stored in `{container}`, which nothing runs; its body never runs"
    impacts = (Impact.NO_TRACKING, Impact.NO_ALERTING)
    risk = (
        "The work in the coroutines silently never happens; the only trace is one 'coroutine was "
        "never awaited' RuntimeWarning per item on stderr."
    )

    def __init__(self, semantic, sink) -> None:
        super().__init__(semantic, sink)
        self._pending: Dict[ast.AST, List[Pending]] = {}

    def visit_Call(self, node: ast.Call) -> None:
        found = self._container(node)
        if found is None:
            return
        function, container = found
        callee = coroutine_call(self.semantic, node)
        query: Optional[tuple] = None
        if callee is None:
            query = coroutine_query(self.semantic, node)
            if query is None:
                return
            callee = spelled(node.func)
        if expects_warning(self.semantic, node):
            return
        self._pending.setdefault(function, []).append((node, callee, container, query))

    def _container(self, call: ast.Call) -> Optional[Tuple[ast.AST, str]]:
        """(function, local name) of the container `call`'s value goes into, if any."""
        semantic = self.semantic
        child: ast.AST = call
        parent = semantic.parent(call)
        inside = False
        # Out through displays and comprehensions (`[(k, f(k)) for k in ks]`) to what holds them.
        while isinstance(parent, _DISPLAYS) or (isinstance(parent, ast.IfExp) and child is not parent.test):
            if isinstance(parent, (ast.ListComp, ast.SetComp)) and child is not parent.elt:
                return None
            if isinstance(parent, ast.DictComp) and child is not parent.value:
                return None
            if isinstance(parent, ast.Dict) and child not in parent.values:
                return None
            inside = inside or isinstance(parent, _DISPLAYS)
            child, parent = parent, semantic.parent(parent)
        name: Optional[str] = None
        if inside and isinstance(parent, (ast.Assign, ast.AnnAssign)) and child is parent.value:
            targets = parent.targets if isinstance(parent, ast.Assign) else [parent.target]
            if len(targets) == 1 and isinstance(targets[0], ast.Name):
                name = targets[0].id
        elif isinstance(parent, ast.Call) and child in parent.args:
            name = self._added_to(parent, child, inside)
        elif not inside and isinstance(parent, ast.Assign) and child is parent.value and len(parent.targets) == 1:
            target = parent.targets[0]
            if isinstance(target, ast.Subscript) and isinstance(target.value, ast.Name):
                name = target.value.id  # `items[key] = coro()`
        if name is None:
            return None
        function = self.names.enclosing_function(call)
        return (function, name) if function is not None else None

    @staticmethod
    def _added_to(call: ast.Call, argument: ast.AST, many: bool) -> Optional[str]:
        """The local a call puts `argument` into: `items.append(x)`, or `items.extend([...])`
        for a display or comprehension (`many`)."""
        func = call.func
        if not isinstance(func, ast.Attribute) or not isinstance(func.value, ast.Name):
            return None
        if many:
            return func.value.id if func.attr in ("extend", "update") and argument is call.args[0] else None
        if func.attr in _ADDERS:
            # `insert(i, x)` and `setdefault(k, x)` put their last argument in
            if argument is call.args[-1]:
                return func.value.id
        return None

    def leave_FunctionDef(self, node: ast.FunctionDef) -> None:
        self._check(node)

    def leave_AsyncFunctionDef(self, node: ast.AsyncFunctionDef) -> None:
        self._check(node)

    def _check(self, function: ast.AST) -> None:
        pending = self._pending.pop(function, None)
        if not pending or reads_locals_dynamically(self.semantic, function):
            return
        verdicts: Dict[str, bool] = {}
        for call, callee, container, query in pending:
            if container not in verdicts:
                verdicts[container] = self._never_consumed(function, container)
            if not verdicts[container]:
                continue
            if query is None:
                self.report(call, callee=callee, container=container)
            else:
                self.report_if(call, query, callee=callee, container=container)

    def _never_consumed(self, function: ast.AST, name: str) -> bool:
        """Whether `name` is a fresh container of `function` whose every read leaves what it
        holds where it is."""
        scope = self.names.scopes.get(function)
        if scope is None or is_declared_global(function, name):
            return False
        bindings = scope.bindings.get(name, ())
        if len(bindings) != 1 or not self._is_fresh(bindings[0].node):
            return False
        for load in name_loads(self.semantic, function).get(name, ()):
            if defining_scope(self.semantic, load) is not function or not self._leaves_contents(load):
                return False
        return True

    def _is_fresh(self, value: Optional[ast.AST]) -> bool:
        if isinstance(value, _DISPLAYS):
            return True
        return isinstance(value, ast.Call) and self.names.qualified(value.func) in _CONSTRUCTORS

    def _leaves_contents(self, load: ast.Name) -> bool:
        """A read that adds, empties, counts, tests or logs, and takes nothing out."""
        semantic = self.semantic
        parent = semantic.parent(load)
        if isinstance(parent, ast.Attribute) and parent.value is load:
            call = semantic.parent(parent)
            return isinstance(call, ast.Call) and call.func is parent and parent.attr in _MUTATORS
        if isinstance(parent, ast.Subscript) and parent.value is load:
            return isinstance(parent.ctx, (ast.Store, ast.Del))  # `items[k] = ...`, `del items[k]`
        if isinstance(parent, ast.Delete):
            return True
        if isinstance(parent, (ast.If, ast.While, ast.IfExp, ast.Assert)) and load is parent.test:
            return True
        if isinstance(parent, ast.UnaryOp) and isinstance(parent.op, ast.Not):
            return True
        if isinstance(parent, ast.Call) and load in parent.args:
            func = parent.func
            if self.names.qualified(func) in _LOOKERS:
                return True
            return isinstance(func, ast.Attribute) and func.attr in LOG_METHODS and is_logger(semantic, func.value)
        return False
