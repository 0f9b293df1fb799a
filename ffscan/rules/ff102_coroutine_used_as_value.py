"""FF102 coroutine-used-as-value: a coroutine tested, compared, formatted or iterated."""

from __future__ import annotations

import ast
from functools import partial
from typing import Dict, List, Optional, Tuple

from ffscan.model import Applicability, Fix, Impact
from ffscan.rules import fixes
from ffscan.rules.base import Rule
from ffscan.semantic.coroutines import coroutine_call, coroutine_query, expects_warning
from ffscan.semantic.flow import defining_scope, is_declared_global, name_loads
from ffscan.semantic.model import SemanticModel
from ffscan.semantic.spelling import spelled
from ffscan.semantic.stdlib import COROUTINE_WORDS, LOG_METHODS, is_logger, is_loop_expression
from ffscan.semantic.tasks import reads_locals_dynamically

# Builtins that read a value's truth, text, size or items instead of awaiting it.
_VALUE_BUILTINS = frozenset(
    f"builtins.{name}"
    for name in (
        "bool", "str", "len", "format", "int", "float", "list", "tuple", "set", "frozenset",
        "sorted", "sum", "any", "all", "min", "max", "enumerate", "dict", "print", "repr",
    )
)
# Calls that turn their argument into text.
_SERIALISERS = frozenset({"json.dumps", "json.dump", "pickle.dumps", "pprint.pprint", "pprint.pformat"})
# Calls that only look at what a value is, on purpose.
_INSPECTORS = frozenset(
    {"builtins.isinstance", "builtins.type", "builtins.id", "asyncio.iscoroutine", "inspect.iscoroutine",
     "inspect.isawaitable", "asyncio.coroutines.iscoroutine"}
)
# Loop methods that call a function later with the arguments after it: (name, index of the function).
_CALLBACK_APIS = {"call_soon": 0, "call_soon_threadsafe": 0, "call_later": 1, "call_at": 1}

# Parents that can use a call's value as one; anything else is not looked at further.
_CANDIDATE_PARENTS = (
    ast.BoolOp, ast.UnaryOp, ast.If, ast.While, ast.Assert, ast.IfExp, ast.Compare,
    ast.FormattedValue, ast.For, ast.AsyncFor, ast.comprehension, ast.Call, ast.BinOp,
)


class CoroutineUsedAsValue(Rule):
    """## What it does
    Finds a call that certainly makes a coroutine (see FF101) used where the awaited result was
    meant: the condition of an `if`, `while`, `assert` or conditional expression, an operand of
    `not`, `and`, `or` or a comparison, a value in an f-string, `str.format` or `%`-formatting,
    the iterable of a `for` loop or comprehension, a comprehension's `if`, or the argument of a
    callee that only uses it as a plain value: a builtin that reads truth, text, size or items
    (`bool()`, `str()`, `repr()`, `print()`, `len()`, `list()`, `sorted()`, `any()`, ...),
    `json.dumps()`, a logger's methods, a function of the project that neither awaits, keeps
    nor hands on that parameter (known through the whole-program index), and
    `loop.call_soon(fn, coro)` / `call_later` / `call_at` where `fn` is one of those.

    The same holds through a local name bound once to the coroutine (`ok = check()` then
    `if ok:`): reported at the first such read, when no read of the name awaits the coroutine,
    hands it on or keeps it.

    ## Why is this bad?
    A coroutine object is always true and never equal to the result it would produce, so the
    branch is decided before the function runs, and then the function never runs at all: the
    coroutine is dropped unawaited. `if await is_allowed(user)` written as `if
    is_allowed(user)` lets everyone in. Iterating it or taking its length raises `TypeError`
    far from the missing `await`. In a test, `assert client.is_ready()` passes whatever the
    client does.

    ## Example
    ```python
    async def is_banned(user):
        return await db.fetchval("SELECT banned FROM users WHERE id = $1", user.id)

    async def post_message(user, text):
        if not is_banned(user):
            await publish(text)
    ```

    ## Fix
    ```python
    async def post_message(user, text):
        if not await is_banned(user):
            await publish(text)
    ```

    ## Fix safety
    Unsafe, and offered only inside an `async def` (not in a lambda, a class body or a generator
    expression, where an `await` would make an async generator that `any()` or `list()` cannot
    read): `ffscan fix --unsafe-fixes` writes `await` in front of the call, in place. The
    condition now waits for the function and uses its real result, so the other branch may
    run, the function's work now happens, and what it raises reaches the caller. Outside
    `async def` the `await` is display-only: the caller has to become async or the function
    sync, a design decision.

    Through a name, the `await` is written where the name is bound, so the name then holds
    the result.

    ## Known limits
    The same certainty limits as FF101. `async for` over the value is not reported: it says the
    author expects an async iterator (an override that is an async generator, where the
    method found is an `async def` stub). A coroutine passed to any other function (a library
    function, a function of the project that may await it) is assumed to be used on purpose.
    Only positional arguments are followed into project functions. A name bound more than
    once, read by a nested function, or inspected with `isinstance()`/`asyncio.iscoroutine()`
    and then awaited is not reported.

    ## References
    - mypy issue 16921 and pyright issues 7853 and 9579: neither reports a coroutine used as a
      condition.
    """

    code = "FF102"
    name = "coroutine-used-as-value"
    subject = ("coroutine used as a value", "coroutines used as values")
    loss = "coroutine work never runs"
    triggers = COROUTINE_WORDS
    every_test_file = True  # `assert fetch(...)` in a sync test says no `async`
    message = "Coroutine from `{callee}` is used in {where} without `await`; its body never runs"
    fix_title = "Await the coroutine before using its result"
    fix_applicability = Applicability.UNSAFE
    impacts = (Impact.NO_TRACKING, Impact.NO_ALERTING)
    risk = (
        "The condition or value is decided by a coroutine object instead of the function's result, "
        "so the code takes the wrong branch and the function's work never happens."
    )

    def __init__(self, semantic, sink) -> None:
        super().__init__(semantic, sink)
        # function -> [(assignment, call, name)], judged when the function ends
        self._bound: Dict[ast.AST, List[Tuple[ast.Assign, ast.Call, str]]] = {}

    def visit_Call(self, node: ast.Call) -> None:
        if not isinstance(self.semantic.parent(node), _CANDIDATE_PARENTS):
            return
        use = self._value_use(node)
        if use is None or expects_warning(self.semantic, node):
            return
        where, plain = use
        found = self._coroutine(node)
        if found is None:
            return
        callee, query = found
        self._report(node, node, "Await the coroutine and use its result", callee, where, query, plain)

    def visit_Assign(self, node: ast.Assign) -> None:
        # `ok = check()` then `if ok:`: the name is tested, the coroutine never runs
        if len(node.targets) != 1 or not isinstance(node.targets[0], ast.Name) or not isinstance(node.value, ast.Call):
            return
        function = self.names.enclosing_function(node)
        if function is not None:
            self._bound.setdefault(function, []).append((node, node.value, node.targets[0].id))

    def leave_FunctionDef(self, node: ast.FunctionDef) -> None:
        self._check_bound(node)

    def leave_AsyncFunctionDef(self, node: ast.AsyncFunctionDef) -> None:
        self._check_bound(node)

    def _check_bound(self, function: ast.AST) -> None:
        pending = self._bound.pop(function, None)
        if not pending or reads_locals_dynamically(self.semantic, function):
            return
        loads = name_loads(self.semantic, function)
        scope = self.names.scopes.get(function)
        for assignment, call, name in pending:
            if is_declared_global(function, name) or scope is None or len(scope.bindings.get(name, ())) != 1:
                continue  # bound more than once: which value a read sees is not certain
            uses = []
            for load in loads.get(name, ()):
                if defining_scope(self.semantic, load) is not function:
                    uses = []
                    break  # read by a nested def or lambda: it may run it later
                use = self._value_use(load)
                if use is None:
                    if not self._is_inert(load):
                        uses = []
                        break  # awaited, handed on, stored: it may run
                    continue
                uses.append((load, use))
            if not uses or expects_warning(self.semantic, assignment):
                continue
            # Only now, for the few names read as values, is it worth asking what the call makes.
            found = self._coroutine(call)
            if found is not None:
                load, (where, plain) = uses[0]
                callee, query = found
                self._report(load, call, "Await the coroutine where it is bound", callee, f"{where} through `{name}`", query, plain)

    def _coroutine(self, call: ast.Call) -> Optional[Tuple[str, Optional[tuple]]]:
        """The callee's name and, when the index must confirm it, the question."""
        callee = coroutine_call(self.semantic, call)
        if callee is not None:
            return callee, None
        query = coroutine_query(self.semantic, call)
        return (spelled(call.func), query) if query is not None else None

    def _report(
        self, node, call: ast.Call, title: str, callee: str, where: str, query: Optional[tuple], plain: Optional[tuple]
    ) -> None:
        """Report `node`, with the fix that awaits `call`."""
        questions = [q for q in (query, plain) if q is not None]
        if not questions:
            self.report(node, fixes=[fixes.await_fix(self.semantic, call, title)], callee=callee, where=where)
        else:
            combined = questions[0] if len(questions) == 1 else ("all", *questions)
            made = partial(_await_fixes, self.semantic, call, title)  # made only if the index may confirm
            self.report_if(node, combined, fixes=made, callee=callee, where=where)

    def _is_inert(self, load: ast.expr) -> bool:
        """A read that neither runs the coroutine nor mistakes it for its result:
        `isinstance(c, ...)`, `asyncio.iscoroutine(c)`, `type(c)`, `id(c)`, `del c`."""
        parent = self.semantic.parent(load)
        if isinstance(parent, ast.Delete):
            return True
        return isinstance(parent, ast.Call) and load in parent.args and self.names.qualified(parent.func) in _INSPECTORS

    def _value_use(self, node: ast.expr) -> Optional[Tuple[str, Optional[tuple]]]:
        """How the value of `node` is used as a value (and, for a project function that only
        looks at its argument, the question that confirms it), or None when it is not."""
        semantic = self.semantic
        child: ast.AST = node
        parent = semantic.parent(node)
        while isinstance(parent, ast.BoolOp):
            if child is not parent.values[-1]:
                return "`and`/`or`", None
            # The last operand is the BoolOp's own value: its fate decides.
            child, parent = parent, semantic.parent(parent)
        if parent is None:
            return None
        if isinstance(parent, ast.UnaryOp):
            return ("`not`", None) if isinstance(parent.op, ast.Not) else None
        if isinstance(parent, (ast.If, ast.While, ast.Assert, ast.IfExp)):
            if child is not parent.test:
                return None
            return {ast.If: "an `if` condition", ast.While: "a `while` condition", ast.Assert: "an `assert`"}.get(
                type(parent), "a conditional expression"
            ), None
        if isinstance(parent, ast.Compare):
            return "a comparison", None
        if isinstance(parent, ast.FormattedValue):
            return ("an f-string", None) if child is parent.value else None
        if isinstance(parent, ast.For):
            return ("a `for` loop", None) if child is parent.iter else None
        if isinstance(parent, ast.comprehension):
            return ("a comprehension", None) if child is parent.iter or child in parent.ifs else None
        if isinstance(parent, ast.BinOp):
            if isinstance(parent.op, ast.Mod) and child is parent.right and _is_text(parent.left):
                return "`%`-formatting", None
            return None
        if isinstance(parent, ast.Call) and child in parent.args:
            return self._plain_callee(parent, parent.args.index(child))
        return None

    def _plain_callee(self, call: ast.Call, position: int) -> Optional[Tuple[str, Optional[tuple]]]:
        """The argument at `position` of `call` only becomes text, a truth value or a log
        record: a builtin that reads it, `json.dumps`, a logger, a project function that only
        looks at that parameter, or a loop callback API calling such a function with it."""
        if any(isinstance(a, ast.Starred) for a in call.args[:position]):
            return None
        func = call.func
        if isinstance(func, ast.Attribute) and func.attr == "format" and _is_text(func.value):
            return "`str.format`", None
        qualified = self.names.qualified(func)
        if qualified in _VALUE_BUILTINS:
            return f"`{qualified[len('builtins.'):]}()`", None
        if qualified in _SERIALISERS:
            return f"`{qualified}()`", None
        if isinstance(func, ast.Attribute) and func.attr in LOG_METHODS and is_logger(self.semantic, func.value):
            return "a log call", None
        if isinstance(func, ast.Attribute) and func.attr in _CALLBACK_APIS and is_loop_expression(self.semantic, func.value):
            # `loop.call_soon(fn, coro)` calls `fn(coro)` later and drops what it returns
            first = _CALLBACK_APIS[func.attr]
            if position <= first or len(call.args) <= first:
                return None
            target = call.args[first]
            inner = ast.Call(func=target, args=call.args[first + 1 :], keywords=[])
            found = self._plain_target(inner, position - first - 1, target)
            return (f"`{func.attr}({spelled(target)}, ...)`", found[1]) if found is not None else None
        found = self._plain_target(call, position, func)
        return (f"`{spelled(func)}()`", found[1]) if found is not None else None

    def _plain_target(self, call: ast.Call, position: int, func: ast.expr) -> Optional[Tuple[str, Optional[tuple]]]:
        """A callee that only looks at its argument at `position`: a builtin or logger, or a
        project function the index confirms."""
        qualified = self.names.qualified(func)
        if qualified in _VALUE_BUILTINS or qualified in _SERIALISERS or qualified == "builtins.print":
            return "", None
        if isinstance(func, ast.Attribute) and func.attr in LOG_METHODS and is_logger(self.semantic, func.value):
            return "", None
        if not isinstance(func, (ast.Name, ast.Attribute)) or any(isinstance(a, ast.Starred) for a in call.args[:position]):
            return None
        ref = self.semantic.refs.ref_of(func, self.names.scope_of(func))
        if ref[0] == "unknown":
            return None
        return "", ("plain-param", ref, position)


def _is_text(expr: ast.expr) -> bool:
    return isinstance(expr, ast.Constant) and isinstance(expr.value, str)


def _await_fixes(semantic: SemanticModel, call: ast.Call, title: str) -> List[Fix]:
    return [fixes.await_fix(semantic, call, title)]
