"""The whole-program index: module summaries joined, references evaluated across modules.

Rules ask read-only questions (`answer(query)`): is this call certainly a coroutine, is this
callee a function that starts a task and hands it back, does this function run in the
background and by which path. The index evaluates the references rules and summaries hold
(see values.py) over every summarised module: imports and re-exports, `__all__` and `*`,
class hierarchies in method resolution order, instance attributes assigned or annotated,
factories that return coroutines, and helpers that spawn tasks.

Evaluation never guesses. A name no summary defines, a base class it cannot see before the
attribute is found, a decorator it does not know, a value bound in ways that disagree: each
makes the answer unknown, and no finding is made from an unknown answer.

`ProjectIndex(..., final=False)` is the view of one module alone (inside a worker): where it
would need a module it does not hold, the answer is "deferred" and the question goes to the
whole-program index after every file is checked.
"""

from __future__ import annotations

import sys
from dataclasses import replace
from typing import Callable, Dict, Iterable, List, Optional, Sequence, Set, Tuple

from ffscan.model import Finding
from ffscan.semantic.catalogue import (
    PackageSummaries,
    class_facts,
    class_trait,
    function_fact,
    io_packages,
    preserves_async,
    shipped,
)
from ffscan.semantic.effects import PENDING, Effects
from ffscan.semantic.stdlib import ASYNC_PRESERVING_DECORATORS, INERT_BASES
from ffscan.semantic.summary import (
    ClassFacts,
    Deferred,
    Entry,
    FunctionFacts,
    ModuleSummary,
)
from ffscan.semantic.values import (
    DEFERRED,
    call_ref,
    UNKNOWN,
    Ref,
    Value,
    class_value,
    coroutine_value,
    function_value,
    instance_value,
    module_value,
    task_value,
)

Values = Tuple[Value, ...]
MAX_CANDIDATES = 4
MAX_DEPTH = 24
MAX_BACKGROUND_DEPTH = 4

_STDLIB = frozenset(getattr(sys, "stdlib_module_names", ())) | {"builtins", "__future__"}


class ProjectIndex:
    def __init__(
        self,
        summaries: Iterable[ModuleSummary],
        final: bool = True,
        libraries: Optional[Callable[[str], Sequence[ModuleSummary]]] = None,
        aliases: Optional[Dict[str, Tuple[str, ...]]] = None,
    ) -> None:
        self.final = final
        # Summaries of a third-party package by its top-level name (the shipped catalogue,
        # the project's environment), loaded when a name leads there.
        self.libraries = libraries if libraries is not None else shipped
        self.modules: Dict[str, ModuleSummary] = {}
        self.functions: Dict[str, FunctionFacts] = {}
        self.classes: Dict[str, ClassFacts] = {}
        self._tops: Set[str] = set()
        self._project_tops: Set[str] = set()  # top-level packages of the project's own modules
        self._asked: Set[str] = set()
        self._library_modules: Set[str] = set()  # modules of third-party packages, not the project's
        # Modules of a package loaded from the catalogue that no name has led to yet: each
        # is read when first asked for (see `module`).
        self._unread: Dict[str, PackageSummaries] = {}
        self._function_module: Dict[str, str] = {}
        # The file of each function's summary: two files of namespace folders may share a
        # module name, and the later one's summary then stands for the module.
        self._function_path: Dict[str, str] = {}
        # A module of a namespace package (PEP 420) is imported under a longer name than the
        # one its folder of packages gives it: both reach it.
        self._aliases = aliases or {}
        for summary in summaries:
            self._add(summary)
        self._memo: Dict[Ref, Values] = {}
        self._in_progress: Set[Ref] = set()
        self._calls: Dict[Tuple[str, bool], Values] = {}
        self._mros: Dict[str, Optional[Tuple[str, ...]]] = {}
        self._dispatching: Dict[str, bool] = {}
        self._background: Optional[Dict[str, Tuple[Entry, str, Tuple[str, ...]]]] = None
        self._entry_names: Optional[Set[str]] = None
        self._awaited_twice: Optional[Set[str]] = None
        self._reported: Optional[Dict[str, Tuple[str, str, int]]] = None

    def _add(self, summary: ModuleSummary, library: bool = False) -> None:
        self.modules[summary.module] = summary
        if library:
            self._library_modules.add(summary.module)
        else:
            self._project_tops.add(summary.module.split(".", 1)[0])
        for alias in self._aliases.get(summary.module, ()):
            self.modules.setdefault(alias, summary)
            self._tops.add(alias.split(".", 1)[0])
            self._project_tops.add(alias.split(".", 1)[0])
        self.functions.update(summary.functions)
        for name in summary.functions:
            self._function_module[name] = summary.module
            self._function_path[name] = summary.path
        self.classes.update(summary.classes)
        self._tops.add(summary.module.split(".", 1)[0])

    def module(self, name: str) -> Optional[ModuleSummary]:
        """The summary of the module `name`, reading it from its package when first asked."""
        found = self.modules.get(name)
        if found is None and name in self._unread:
            found = self._unread.pop(name).get(name)
            if found is not None:
                self._add(found, library=True)
        return found

    def _read_all(self) -> None:
        """Read every module of the packages loaded so far (for a question about all classes)."""
        for name in list(self._unread):
            self.module(name)

    def _read_module_of(self, qualified: str) -> bool:
        """Read the unread module that defines `qualified` (a function or class); True when
        one was read."""
        parts = qualified.split(".")
        for cut in range(len(parts) - 1, 0, -1):
            if ".".join(parts[:cut]) in self._unread:
                return self.module(".".join(parts[:cut])) is not None
        return False

    def module_of(self, function: str) -> str:
        """The module that defines `function`."""
        return self._function_module.get(function, "")

    def is_library_function(self, function: str) -> bool:
        """Whether `function` is summarised from a third-party package, not the project."""
        return self._function_module.get(function, "") in self._library_modules

    def is_library_name(self, dotted: str) -> bool:
        """Whether the qualified `dotted` lies outside the project's own packages."""
        return dotted.split(".", 1)[0] not in self._project_tops

    def _load_library(self, top: str) -> bool:
        """Load the summaries of the third-party package `top`, once; True when there are any
        (a package of the project's own is never replaced)."""
        if top in self._asked or top in self._tops:
            return False
        self._asked.add(top)
        loaded = self.libraries(top)
        if isinstance(loaded, PackageSummaries):
            for name in loaded.names:
                self._unread.setdefault(name, loaded)
                self._tops.add(name.split(".", 1)[0])
        else:
            for summary in loaded:
                self._add(summary, library=True)
        if loaded:
            self._memo.clear()  # answers given while the package was missing may change
            self._calls.clear()
            self._mros.clear()
            self._dispatching.clear()
        return bool(loaded)

    # ---- evaluation ---------------------------------------------------------------------

    def evaluate(self, ref: Ref, depth: int = 0) -> Values:
        """The values `ref` may have: all of them certain, or a single UNKNOWN/DEFERRED."""
        cached = self._memo.get(ref)
        if cached is not None:
            return cached
        if depth > MAX_DEPTH or ref in self._in_progress:
            return (UNKNOWN,)
        self._in_progress.add(ref)
        try:
            result = _settle_candidates(self._evaluate(ref, depth))
        finally:
            self._in_progress.discard(ref)
        self._memo[ref] = result
        return result

    def _evaluate(self, ref: Ref, depth: int) -> List[Value]:
        kind = ref[0]
        if kind == "def":
            name = ref[1]
            if name in self.functions:
                return [function_value(name)]
            if name in self.classes:
                return [class_value(name)]
            if self._unread and self._read_module_of(name):
                return self._evaluate(ref, depth)
            return [UNKNOWN]
        if kind == "global":
            return self._dotted(ref[1], depth)
        if kind == "attr":
            return [v for base in self.evaluate(ref[1], depth + 1) for v in self._attribute(base, ref[2], depth)]
        if kind == "call":
            return [v for callee in self.evaluate(ref[1], depth + 1) for v in self._call(callee, depth)]
        if kind == "instance":
            return [self._instance_of(v) for v in self.evaluate(ref[1], depth + 1)]
        if kind == "super":
            return [Value("super", ref[1])]
        if kind == "item":
            found: List[Value] = []
            for base in self.evaluate(ref[1], depth + 1):
                if base.kind == "tuple" and ref[2] < len(base.items):
                    found.extend(self.evaluate(base.items[ref[2]], depth + 1))
                else:
                    found.append(base if not base.certain else UNKNOWN)
            return found
        if kind == "await":
            found = []
            for awaited in self.evaluate(ref[1], depth + 1):
                facts = self.functions.get(awaited.name) if awaited.kind == "coroutine" else None
                if facts is not None and facts.annotation != ("unknown",):
                    found.extend(self.evaluate(facts.annotation, depth + 1))
                else:
                    found.append(awaited if not awaited.certain else UNKNOWN)
            return found
        if kind == "type":
            return [Value(ref[1])]
        if kind == "tuple":
            return [Value("tuple", items=ref[1])]
        if kind == "any":
            return [v for option in ref[1] for v in self.evaluate(option, depth + 1)]
        if kind == "kept":
            # a task the function keeps (in a set of running tasks) before handing it back
            return [Value("tracked-task", v.name) if v.kind == "task" else v for v in self.evaluate(ref[1], depth + 1)]
        if kind == "kept-if":
            # handed to functions before it is returned: kept if any of them may keep it
            answers = [self._may_keep(callee, position) for callee, position in ref[2]]
            if None in answers:
                return [DEFERRED]
            return self._evaluate(("kept", ref[1]) if any(answers) else ref[1], depth)
        return [UNKNOWN]

    def _dotted(self, dotted: str, depth: int) -> List[Value]:
        if self.module(dotted) is not None:
            return [module_value(dotted)]
        parts = dotted.split(".")
        for cut in range(len(parts) - 1, 0, -1):
            prefix = ".".join(parts[:cut])
            if self.module(prefix) is not None:
                values: Values = (module_value(prefix),)
                for part in parts[cut:]:
                    values = _settle_candidates([v for base in values for v in self._attribute(base, part, depth)])
                return list(values)
        if self._load_library(parts[0]):
            return self._dotted(dotted, depth)
        return [self._missing(dotted)]

    def _missing(self, dotted: str) -> Value:
        """A name in no summarised module: the standard library's and third-party names are
        external (their facts are in the catalogue); in a one-module view, a name that may be
        another module of the project is deferred."""
        top = dotted.split(".", 1)[0]
        if self.final or top in _STDLIB or (top in io_packages() and top not in self._project_tops):
            # A package the `[io]` table names is third-party, unless it is the one being checked.
            return Value("external", dotted)
        return DEFERRED

    def _attribute(self, base: Value, name: str, depth: int) -> List[Value]:
        kind = base.kind
        if not base.certain:
            return [base]
        if kind == "module":
            return self._module_attribute(base.name, name, depth)
        if kind == "external":
            return [Value("external", f"{base.name}.{name}")]
        if kind == "class":
            return self._class_attribute(base.name, name, instance=False, depth=depth)
        if kind == "instance":
            return self._class_attribute(base.name, name, instance=True, depth=depth)
        if kind == "external-instance":
            method = (class_facts(base.name) or {}).get(name)
            return [Value("external-method", f"{base.name}.{name}", items=(method,)) if method else UNKNOWN]
        if kind == "super":
            return self._class_attribute(base.name, name, instance=True, depth=depth, skip_self=True)
        return [UNKNOWN]

    def _module_attribute(self, module: str, name: str, depth: int) -> List[Value]:
        summary = self.module(module)
        assert summary is not None  # a module value is made only for a module summarised
        dotted = f"{module}.{name}"
        if function_fact(dotted) is not None or class_facts(dotted) is not None:
            return [Value("external", dotted)]  # the overlay says what the source cannot show
        refs = summary.symbols.get(name)
        if refs:
            return [v for ref in refs for v in self.evaluate(ref, depth + 1)]
        submodule = f"{module}.{name}"
        if self.module(submodule) is not None:
            return [module_value(submodule)]
        for star in reversed(summary.star_imports):  # a later `import *` rebinds the name
            source = self.module(star)
            if source is None:
                return [self._missing(f"{star}.{name}")]
            if (source.exports is None and not name.startswith("_")) or (source.exports and name in source.exports):
                found = self._module_attribute(star, name, depth)
                if found != [UNKNOWN]:
                    return found
        if summary.dynamic:
            return [UNKNOWN]
        # An unsummarised submodule (excluded, or not analysable): nothing is certain.
        return [UNKNOWN if self.final else DEFERRED] if summary.is_package else [UNKNOWN]

    # ---- classes ------------------------------------------------------------------------------

    def _instance_of(self, value: Value) -> Value:
        if value.kind == "class":
            return instance_value(value.name)
        if value.kind == "external":
            return Value("external-instance", value.name)
        if value.kind in ("awaitable", "coroutine", "async-callable"):
            return value  # an annotation: `x: Awaitable[int]`
        return value if not value.certain else UNKNOWN

    def mro(self, cls: str) -> Optional[Tuple[str, ...]]:
        """C3 linearisation; a base that cannot be evaluated appears as "?n" (or "…n" when it
        is another module's in a one-module view)."""
        if cls in self._mros:
            return self._mros[cls]
        self._mros[cls] = None  # a cycle: no order
        facts = self.classes.get(cls)
        if facts is None:
            return None
        base_orders: List[List[str]] = []
        for number, base in enumerate(facts.bases):
            values = self.evaluate(base)
            value = values[0] if len(values) == 1 else UNKNOWN
            if value.kind == "class":
                order = self.mro(value.name)
                base_orders.append(list(order) if order is not None else [f"?{number}"])
            elif value.kind == "external" and value.name in INERT_BASES:
                continue
            elif value.kind == "external" and class_facts(value.name) is not None:
                base_orders.append([f"external:{value.name}"])
            else:
                # an opaque token per base, so that C3 keeps each in its place
                base_orders.append([f"…{number}" if value is DEFERRED else f"?{number}"])
        order = _c3([cls], base_orders + [[b[0] for b in base_orders if b]])
        self._mros[cls] = tuple(order) if order is not None else None
        return self._mros[cls]

    def _class_attribute(self, cls: str, name: str, instance: bool, depth: int, skip_self: bool = False) -> List[Value]:
        order = self.mro(cls)
        if order is None:
            return [UNKNOWN]
        for position, owner in enumerate(order):
            if skip_self and position == 0:
                continue
            if owner.startswith("?"):
                assigned = self._assigned_past_unknown(order[position + 1 :], name, depth) if instance else None
                return assigned if assigned is not None else [UNKNOWN]
            if owner.startswith("…"):
                return [DEFERRED]
            if owner.startswith("external:"):
                method = (class_facts(owner[len("external:"):]) or {}).get(name)
                if method is not None:
                    return [Value("external-method", f"{owner[len('external:'):]}.{name}", items=(method,))]
                continue
            facts = self.classes[owner]
            if facts.uncertain and class_trait(owner) != "plain-metaclass":
                # A metaclass or a dynamic body may add anything to the class, but not to
                # the instance's own attributes, which this class or another may assign.
                if instance and name in facts.attributes:
                    return self._assigned(facts, name, depth)
                assigned = self._assigned_past_unknown(order[position + 1 :], name, depth) if instance else None
                return assigned if assigned is not None else [UNKNOWN]
            if instance and name in facts.attributes:
                return self._assigned(facts, name, depth)
            fact = function_fact(f"{owner}.{name}")
            if fact is not None:
                return [Value("external-method", f"{owner}.{name}", items=(fact,))]
            found: List[Value] = []
            if name in facts.methods:
                function = self.functions.get(facts.methods[name])
                if instance and function is not None and _is_property(function):
                    return list(self.call_result(function.name, depth + 1, getter=True))
                bound = instance or (function is not None and function.method == "class")
                found = [function_value(facts.methods[name], bound)]
            elif name in facts.class_vars:
                found = [v for ref in facts.class_vars[name] for v in self.evaluate(ref, depth + 1)]
            else:
                continue
            if instance and self._dispatches(cls):
                # `return self.execute_command(...)` in a mixin: `self` is the receiver
                receiver = ("instance", ("def", cls))
                found = [Value(v.kind, v.name, True, (receiver,)) if v.kind == "function" else v for v in found]
            return found
        return [UNKNOWN]

    def _assigned_past_unknown(self, owners: Tuple[str, ...], name: str, depth: int) -> Optional[List[Value]]:
        """`self.name = ...` in a project class that follows a base nothing is known of: the
        instance's own attribute wins over what that base defines (a data descriptor aside), so
        it is the value, as type checkers read it. None when no such class assigns it."""
        for owner in owners:
            if owner.startswith("…"):
                return [DEFERRED]
            if owner.startswith(("?", "external:")):
                continue
            facts = self.classes[owner]
            if facts.uncertain and class_trait(owner) != "plain-metaclass":
                return None
            if name in facts.attributes:
                return self._assigned(facts, name, depth)
        return None

    def _dispatches(self, cls: str) -> bool:
        """Whether `cls` or a class it derives from has the overlay's "self-dispatch" trait."""
        known = self._dispatching.get(cls)
        if known is None:
            order = self.mro(cls) or ()
            known = self._dispatching[cls] = any(class_trait(c) == "self-dispatch" for c in order)
        return known

    def _assigned(self, facts: ClassFacts, name: str, depth: int) -> List[Value]:
        """What the class's methods assign to `self.name`."""
        return [self._holder(v) for ref in facts.attributes[name] for v in self.evaluate(ref, depth + 1)]

    @staticmethod
    def _holder(value: Value) -> Value:
        """An attribute assigned `Client(...)` holds an instance; one assigned a class holds the
        class; a function assigned to an instance attribute is a plain callable."""
        return value

    # ---- calls --------------------------------------------------------------------------------

    def _call(self, callee: Value, depth: int) -> List[Value]:
        kind = callee.kind
        if not callee.certain:
            return [callee]
        if kind == "function":
            fact = function_fact(callee.name)
            if fact is not None:
                return [_fact_value(fact, callee.name)]
            if callee.items:
                return list(self._dispatched_result(callee, depth))
            return list(self.call_result(callee.name, depth))
        if kind == "class":
            return [instance_value(callee.name)]
        if kind == "instance":
            method = self._class_attribute(callee.name, "__call__", instance=True, depth=depth)
            return [v for m in method for v in self._call(m, depth)]
        if kind == "external":
            fact = function_fact(callee.name)
            if fact is not None:
                return [_fact_value(fact, callee.name)]
            if class_facts(callee.name) is not None:
                return [Value("external-instance", callee.name)]
            return [UNKNOWN]
        if kind == "external-method":
            return [_fact_value(callee.items[0], callee.name)]
        if kind == "async-callable":
            # `Callable[..., Awaitable[T]]`: by convention an `async def` passed as a callback
            return [coroutine_value("callback")]
        return [UNKNOWN]

    def call_result(self, function: str, depth: int = 0, getter: bool = False) -> Values:
        """What calling the summarised `function` returns (for a property's `getter`, what
        reading it gives)."""
        key = (function, getter)
        cached = self._calls.get(key)
        if cached is not None:
            return cached
        self._calls[key] = (UNKNOWN,)  # recursion: unknown
        facts = self.functions[function]
        result: Values
        decorated = [d for d in facts.decorators if not (getter and d in _PROPERTIES)]
        if facts.kind == "coroutine":
            result = (coroutine_value(function),) if self.keeps_async(facts) else (UNKNOWN,)
        elif facts.kind == "function" and decorated and self._decorator_fact(decorated[0]) == "async-callable":
            result = (coroutine_value(function),)  # `@sync_to_async def f()`: calling f makes a coroutine
        elif facts.kind != "function" or decorated:
            result = (UNKNOWN,)
        else:
            # What the body returns says more than an annotation (`-> asyncio.Task` does not
            # say whether the function also keeps the task); the annotation is the fallback.
            result = (UNKNOWN,)
            if facts.returns and not facts.falls_through:
                result = _settle_candidates([v for ref in facts.returns for v in self.evaluate(ref, depth + 1)])
                if any(v.kind == "coroutine" for v in result):
                    result = (coroutine_value(function),) if all(v.kind == "coroutine" for v in result) else (UNKNOWN,)
            if result == (UNKNOWN,) and facts.annotation != ("unknown",):
                result = self.evaluate(facts.annotation, depth + 1)
        self._calls[key] = result
        return result

    def _may_keep(self, callee: Ref, position: int) -> Optional[bool]:
        """Whether calling `callee` with a value at `position` may keep that value (None:
        another module must tell)."""
        values = self.evaluate(callee)
        if any(v.kind == "deferred" for v in values):
            return None
        for value in values:
            facts = self.functions.get(value.name) if value.kind == "function" else None
            if facts is None or facts.keeps is None:
                return True
            index = position + (1 if value.bound and facts.method in ("instance", "class") else 0)
            if index >= len(facts.params) or facts.params[index] in facts.keeps:
                return True
        return False

    def _dispatched_result(self, callee: Value, depth: int) -> Values:
        """What calling a mixin's method on a "self-dispatch" receiver gives: its returns read
        with `self` as the receiver (the annotation is a union over sync and async clients)."""
        facts = self.functions[callee.name]
        if facts.kind == "function" and facts.returns and not facts.falls_through and self.keeps_async(facts):
            owner = ("instance", ("def", callee.name.rpartition(".")[0]))
            returns = [_substituted(ref, owner, callee.items[0]) for ref in facts.returns]
            result = _settle_candidates([v for ref in returns for v in self.evaluate(ref, depth + 1)])
            if all(v.kind == "coroutine" for v in result):
                return (coroutine_value(callee.name),)
        return self.call_result(callee.name, depth)

    def _decorator_fact(self, decorator: Ref) -> Optional[str]:
        """The overlay's or the standard library's fact for a decorator (or decorator factory)."""
        values = self.evaluate(decorator)
        if len(values) != 1:
            return None
        value = values[0]
        if value.kind in ("external", "function"):
            return function_fact(value.name)
        if value.kind == "external-method":
            return value.items[0]
        if value.kind == "instance":
            # an object used as a decorator: what its `__call__` is
            found = self._class_attribute(value.name, "__call__", instance=True, depth=0)
            if len(found) == 1 and found[0].kind == "external-method":
                return found[0].items[0]
        return None

    def keeps_async(self, facts: FunctionFacts) -> bool:
        """Whether every decorator of the `async def` leaves calling it making a coroutine."""
        for decorator in facts.decorators:
            if decorator[0] == "global" and decorator[1] in ASYNC_PRESERVING_DECORATORS:
                continue
            values = self.evaluate(decorator)
            if len(values) == 1 and values[0].kind == "external" and preserves_async(values[0].name):
                continue
            if self._decorator_fact(decorator) == "keeps-async":
                continue
            if self._project_decorator_keeps_async(decorator):
                continue
            return False
        return True

    def _project_decorator_keeps_async(self, decorator: Ref) -> bool:
        """A decorator of the project's own that hands back the function it was given, or an
        `async def` wrapper (`@wraps(fn) async def inner(...)`), directly or from a factory
        (`@retry(times=3)`)."""
        values = self.evaluate(decorator)
        if len(values) != 1 or values[0].kind != "function" or values[0].name not in self.functions:
            return False
        facts = self.functions[values[0].name]
        if facts.returns and all(ref[0] == "param" for ref in facts.returns) and not facts.falls_through:
            return True  # `def register(fn): ...; return fn`
        for made in (call_ref(decorator), call_ref(call_ref(decorator))):
            found = self.evaluate(made)
            if found and all(v.kind == "function" and self._is_coroutine_function(v) for v in found):
                return True
        return False

    # ---- questions rules ask ------------------------------------------------------------------

    def answer(self, query: tuple) -> Optional[dict]:
        """{} or message fields when the answer is certainly yes; None when no or unknown;
        DEFERRED_ANSWER when this view cannot tell."""
        kind = query[0]
        if kind == "coroutine":
            return self._all(self.evaluate(query[1]), lambda v: v.kind == "coroutine")
        if kind == "coroutine-function":
            values = self.evaluate(query[1])
            return self._all(values, lambda v: self._is_coroutine_function(v))
        if kind == "task":
            return self._all(self.evaluate(query[1]), lambda v: v.kind == "task")
        if kind == "background":
            return self._background_answer(query[1])
        if kind == "work-is":
            return self._work_answer(query[1], query[2])
        if kind == "made-by":
            made = self._made_by(query[1], query[2], 0)
            return DEFERRED_ANSWER if made is None else {} if made else None
        if kind == "background-entry":
            # started as background work itself (not only called by such work): what it
            # returns reaches nobody
            if query[1] in self._entries():
                return {}
            return None if self.final else DEFERRED_ANSWER
        if kind == "no-thread-hook":
            # Thread failures in module query[1] reach only stderr unless a module of its
            # package installs a hook (one program's GUI may install it, its other GUI not).
            if any(summary.thread_hook and _covers(summary, query[1]) for summary in self.modules.values()):
                return None
            return {} if self.final else DEFERRED_ANSWER
        if kind == "all":
            answers = []
            for part in query[1:]:
                found = self.answer(part)
                if found is None:
                    return None  # no as soon as one is no: the parts after it are not asked
                answers.append(found)
            return self._every(answers)
        if kind in ("may-suspend", "may-raise"):
            return self._coroutine_may(query[1], "suspends" if kind == "may-suspend" else "raises")
        if kind == "single-awaited":
            return self._single_awaited(query[1])
        if kind == "reported-elsewhere":
            return self._reported_elsewhere(query[1])
        if kind == "error-fate":
            # ("error-fate", ref, through_helper, otherwise): always yes, with the `fate` of
            # the task's error: its coroutine's own broad handler, or `otherwise`
            found = self._task_catches_its_errors(query[1]) if query[2] else self._catches_its_errors(query[1])
            return found if found is not None else {"fate": query[3]}
        if kind == "plain-param":
            return self._plain_param(query[1], query[2])
        if kind == "not-project-function":
            # a call the program defines itself (a logger class of its own may report errors)
            values = self.evaluate(query[1])
            if any(v.kind == "deferred" for v in values):
                return DEFERRED_ANSWER
            own = [
                v for v in values
                if v.kind == "function" and v.name in self.functions
                and self._function_module.get(v.name, "") not in self._library_modules
            ]
            return None if own else {}
        if kind in ("io-work", "may-fail", "writes"):
            # Made per question (it holds no state): kept, it and the index would hold each
            # other, and a per-file index would live on until the garbage collector ran.
            found = Effects(self).answer(query)
            if found is PENDING:
                return DEFERRED_ANSWER if not self.final else None
            return {"effect": found} if isinstance(found, str) else None
        if kind == "not":
            inner = self.answer(query[1])
            if inner is DEFERRED_ANSWER:
                return inner
            return {} if inner is None and self._decided(query[1]) else None
        raise ValueError(f"unknown query {kind!r}")

    @staticmethod
    def _every(answers: List[Optional[dict]]) -> Optional[dict]:
        """Yes when every answer is yes (their fields merged); no as soon as one is no."""
        if any(a is None for a in answers):
            return None
        if any(a is DEFERRED_ANSWER for a in answers):
            return DEFERRED_ANSWER
        merged: dict = {}
        for answer in answers:
            merged.update(answer or {})
        return merged

    def _coroutine_may(self, ref: Ref, fact: str) -> Optional[dict]:
        """Yes unless `ref` is certainly a coroutine of project functions whose body cannot
        (`fact`: "suspends" or "raises"): what cannot be told counts as "it may"."""
        values = self.evaluate(ref)
        if any(v.kind == "deferred" for v in values):
            return DEFERRED_ANSWER
        methods = False
        for value in values:
            facts = self.functions.get(value.name) if value.kind == "coroutine" else None
            if facts is None or getattr(facts, fact) or self._overridden(facts, fact):
                return {}
            methods = methods or facts.method in ("instance", "class")
        # a subclass in a module this view does not hold may override the method
        return DEFERRED_ANSWER if methods and not self.final else None

    def _overridden(self, facts: FunctionFacts, fact: str) -> bool:
        """Whether a class of the program overrides the method `facts` with one that may
        (`fact`): `self.on_timeout()` runs the subclass's override."""
        if facts.method not in ("instance", "class"):
            return False
        owner, _, name = facts.name.rpartition(".")
        self._read_all()  # a subclass may be in any module
        for cls in list(self.classes.values()):
            override = cls.methods.get(name)
            if override is None or override == facts.name or cls.name == owner:
                continue
            order = self.mro(cls.name) or ()
            if owner in order:
                found = self.functions.get(override)
                if found is None or getattr(found, fact):
                    return True
        return False

    def _catches_its_errors(self, ref: Ref) -> Optional[dict]:
        """Yes, naming it, when `ref` is certainly a coroutine of project `async def`s that a
        broad handler of their own keeps from ending with an exception (no override may)."""
        values = self.evaluate(ref)
        if any(v.kind == "deferred" for v in values):
            return DEFERRED_ANSWER
        catchers: List[str] = []
        methods = False
        for value in values:
            facts = self.functions.get(value.name) if value.kind == "coroutine" else None
            if facts is None or not facts.catches_all or self._overridden(facts, "raises"):
                return None
            catchers.append(value.name.rsplit(".", 1)[-1])
            methods = methods or facts.method in ("instance", "class")
        # a subclass in a module this view does not hold may override the method
        return DEFERRED_ANSWER if methods and not self.final else _caught_by(catchers)

    def _task_catches_its_errors(self, ref: Ref) -> Optional[dict]:
        """The same for the tasks `ref`, a call of project helpers, returns: every one runs
        such a coroutine (hummingbot's `safe_ensure_future(c)` returns
        `ensure_future(safe_wrapper(c))`)."""
        if ref[0] != "call":
            return None
        helpers = self.evaluate(ref[1])
        if any(v.kind == "deferred" for v in helpers):
            return DEFERRED_ANSWER
        answers = []
        for helper in helpers:
            facts = self.functions.get(helper.name) if helper.kind == "function" else None
            if facts is None or not facts.task_coroutines:
                return None
            answers.extend(self._catches_its_errors(coroutine) for coroutine in facts.task_coroutines)
        if not answers or any(a is None for a in answers):
            return None
        if any(a is DEFERRED_ANSWER for a in answers):
            return DEFERRED_ANSWER
        return _caught_by([name for a in answers for name in a["catchers"]])

    def _reported_elsewhere(self, messages: Tuple[str, ...]) -> Optional[dict]:
        """Yes, with the reporter and where it is, when a broad handler of the project logs one
        of `messages` and also hands the exception to a reporter (see semantic/reporting.py)."""
        if not self.final:
            return DEFERRED_ANSWER
        if self._reported is None:
            # One table for the whole program, the first handler of each message in path order.
            self._reported = {}
            project = [m for m in self.modules.values() if m.module not in self._library_modules]
            for summary in sorted(project, key=lambda m: m.path or m.module):
                for message, reporter, line in summary.reported_failures:
                    self._reported.setdefault(message, (reporter, summary.path or summary.module, line))
        for message in messages:
            found = self._reported.get(message)
            if found is not None:
                reporter, path, line = found
                return {"reporter": reporter, "reported_at": f"the handler logging the same message at {path}:{line}"}
        return None

    def _single_awaited(self, function: str) -> Optional[dict]:
        """Yes when no function of the program awaits the result of awaiting `function`'s
        coroutine again (`await await f()`): then nothing uses the coroutine it returns."""
        if not self.final:
            return DEFERRED_ANSWER
        if self._awaited_twice is None:
            # One walk for the whole program: every function that some caller awaits twice.
            self._awaited_twice = {
                value.name
                for facts in list(self.functions.values())
                for callee in facts.awaits_twice
                for value in self.evaluate(callee)
                if value.kind == "function"
            }
        return None if function in self._awaited_twice else {}

    def _plain_param(self, callee: Ref, position: int) -> Optional[dict]:
        """Yes when calling `callee` with a value at `position` certainly only looks at the
        value: a summarised, undecorated function that neither keeps, awaits nor hands it on."""
        values = self.evaluate(callee)
        if any(v.kind == "deferred" for v in values):
            return DEFERRED_ANSWER
        for value in values:
            facts = self.functions.get(value.name) if value.kind == "function" else None
            if facts is None or facts.decorators or facts.kind != "function":
                return None
        return {} if self._may_keep(callee, position) is False else None

    def _decided(self, query: tuple) -> bool:
        """Whether a "no" to `query` is certain (not an unknown)."""
        if query[0] in ("coroutine", "task"):
            values = self.evaluate(query[1])
            return all(v.certain for v in values)
        # An effect's "no" includes "unknown": `("not", ("may-fail", ref))` means "not known
        # to raise", which is what a rule about work it cannot see asks.
        return query[0] in ("io-work", "may-fail", "writes", "reported-elsewhere")

    @staticmethod
    def _all(values: Values, predicate) -> Optional[dict]:
        if any(v is DEFERRED or v.kind == "deferred" for v in values):
            return DEFERRED_ANSWER
        return {} if values and all(v.certain and predicate(v) for v in values) else None

    def _is_coroutine_function(self, value: Value) -> bool:
        if value.kind == "function":
            fact = function_fact(value.name)
            if fact is not None:
                return fact == "coroutine"
            facts = self.functions.get(value.name)
            return facts is not None and facts.kind == "coroutine" and self.keeps_async(facts)
        if value.kind == "external":
            return function_fact(value.name) == "coroutine"
        if value.kind == "external-method":
            return value.items[0] == "coroutine"
        return value.kind == "async-callable"

    def _work_answer(self, ref: Ref, wanted: str) -> Optional[dict]:
        """Yes when the work of the function `ref` names is `wanted`: "short" (a unit of work
        that neither loops nor waits on what it did not make), "long" (with `why`), or
        "unknown" (not a function a summary has read)."""
        values = self.evaluate(ref)
        if any(v is DEFERRED or v.kind == "deferred" for v in values):
            return DEFERRED_ANSWER
        facts = self.functions.get(values[0].name) if len(values) == 1 and values[0].kind == "function" else None
        lifetime = facts.lifetime if facts is not None else None
        if wanted == "short":
            return {} if lifetime == "" else None
        if wanted == "long":
            return {"why": lifetime} if lifetime else None
        return {} if lifetime is None else None

    def _made_by(self, ref: Ref, classes: Tuple[str, ...], depth: int) -> Optional[bool]:
        """Whether the module-level name `ref` reaches (through imports and re-exports) is
        bound once, to a call of one of `classes` (`app = Celery("shop")` in another module);
        None when this view does not hold the module that tells."""
        if ref[0] != "global" or depth > MAX_DEPTH:
            return False
        module, _, name = ref[1].rpartition(".")
        summary = self.module(module)
        if summary is None:
            return False if self.final or module.split(".", 1)[0] in _STDLIB else None
        bindings = summary.symbols.get(name, ())
        if len(bindings) != 1:
            return False
        binding = bindings[0]
        if binding[0] == "global":
            return self._made_by(binding, classes, depth + 1)  # `from .celery import app`
        if binding[0] != "call":
            return False
        callee = self.evaluate(binding[1])
        if any(v.kind == "deferred" for v in callee):
            return None
        return len(callee) == 1 and callee[0].kind == "external" and callee[0].name in classes

    # ---- background work --------------------------------------------------------------------

    def background(self) -> Dict[str, Tuple[Entry, str, Tuple[str, ...]]]:
        """Function -> (the start that runs it in the background, the function that holds the
        start, the path of functions from the start's target to it), for every function
        reached from a background start through calls, up to a few calls deep."""
        if self._background is not None:
            return self._background
        found: Dict[str, Tuple[Entry, str, Tuple[str, ...]]] = {}
        frontier: List[str] = []
        entries: Set[str] = set()
        for starter, facts in list(self.functions.items()):
            for entry in facts.entries:
                for value in self.evaluate(entry.target):
                    target = self.functions.get(value.name) if value.kind == "function" else None
                    if target is not None and (target.kind == "coroutine") == entry.coroutine:
                        entries.add(value.name)
                        if value.name not in found:
                            found[value.name] = (entry, starter, (value.name,))
                            frontier.append(value.name)
        self._entry_names = entries
        while frontier:
            function = frontier.pop(0)
            entry, starter, path = found[function]
            if len(path) > MAX_BACKGROUND_DEPTH:
                continue
            for callee in self.functions[function].calls:
                for value in self.evaluate(callee):
                    if value.kind != "function" or value.name not in self.functions:
                        continue
                    if self.functions[value.name].kind == "coroutine" and self.functions[function].kind != "coroutine":
                        continue  # a sync function calling an async def only makes a coroutine
                    if value.name not in found:
                        found[value.name] = (entry, starter, path + (value.name,))
                        frontier.append(value.name)
        self._background = found
        return found

    def _entries(self) -> Set[str]:
        """The functions a background start runs directly."""
        if self._entry_names is None:
            self.background()
        return self._entry_names or set()

    def _background_answer(self, function: str) -> Optional[dict]:
        reached = self.background().get(function)
        if reached is None:
            return None if self.final else DEFERRED_ANSWER
        entry, starter, path = reached
        file = self._function_path.get(starter, "")
        where = f"{file}:{entry.line}" if file else f"line {entry.line}"
        chain = " -> ".join(f"`{name.rsplit('.', 1)[-1]}`" for name in path)
        return {"how": f"runs in the background via `{entry.text}` at {where} -> {chain}"}

    # ---- settling deferred findings ----------------------------------------------------------

    def settle_fixes(self, finding: Finding) -> Finding:
        """`finding` with each fix that needs an answer (`Fix.requires`) settled: kept, its
        title filled from the answer's fields, when yes; dropped when no; left needing it when
        this view cannot tell."""
        if all(fix.requires is None for fix in finding.fixes):
            return finding
        kept = []
        for fix in finding.fixes:
            if fix.requires is None:
                kept.append(fix)
                continue
            fields = self.answer(fix.requires)
            if fields is DEFERRED_ANSWER:
                kept.append(fix)
            elif fields is not None:
                kept.append(replace(fix, title=fix.title.format_map(_Fields(fields)), requires=None))
        return replace(finding, fixes=tuple(kept))

    def settle(self, deferred: Iterable[Deferred]) -> Tuple[List[Finding], List[Deferred]]:
        """The deferred findings this view confirms, and those it still cannot decide."""
        confirmed: List[Finding] = []
        undecided: List[Deferred] = []
        for item in deferred:
            fields = self.answer(item.query)
            if fields is DEFERRED_ANSWER:
                undecided.append(item)
            elif fields is not None:
                confirmed.append(self.confirmed(item, fields))
        return confirmed, undecided

    @staticmethod
    def confirmed(item: Deferred, fields: dict) -> Finding:
        """The finding `item` stands for, its message filled from the answer's `fields`."""
        if not item.template:
            return item.finding
        return replace(item.finding, message=item.template.format_map(_Fields(fields)))


DEFERRED_ANSWER: dict = {"deferred": True}


def _caught_by(catchers: List[str]) -> Optional[dict]:
    """The fields saying where a task's error goes when its coroutines catch everything."""
    if not catchers:
        return None
    names = list(dict.fromkeys(catchers))
    spelled_names = " or ".join(f"`{name}`" for name in names)
    return {"catchers": names, "fate": f"its error reaches only the broad handler of {spelled_names}"}


def _covers(summary: ModuleSummary, module: str) -> bool:
    """Whether a hook `summary`'s module installs covers `module`: one in its package."""
    package = summary.module if summary.is_package else summary.module.rpartition(".")[0]
    return not package or module == package or module.startswith(package + ".")


def _fact_value(fact: str, name: str) -> Value:
    """What calling a function the standard library's table or the overlay describes gives."""
    if fact == "coroutine":
        return coroutine_value(name)
    if fact == "spawns-task":
        return task_value(name)
    if fact == "tracked-spawn":
        return Value("tracked-task", name)  # the group awaits its tasks
    if fact == "returns-loop":
        return Value("external-instance", "asyncio.AbstractEventLoop")
    if fact == "async-callable":
        return Value("async-callable", name)
    return UNKNOWN


def _substituted(ref: Ref, old: Ref, new: Ref) -> Ref:
    if ref == old:
        return new
    if ref and ref[0] in ("attr", "call", "instance", "item", "kept", "await"):
        return (ref[0], _substituted(ref[1], old, new), *ref[2:])
    return ref


_PROPERTIES = frozenset(
    {("global", "builtins.property"), ("global", "functools.cached_property"), ("global", "abc.abstractproperty")}
)


def _is_property(facts: FunctionFacts) -> bool:
    return any(d in _PROPERTIES for d in facts.decorators)


class _Fields(dict):
    """An answer's fields for a message template; a field it lacks reads as "?"."""

    def __missing__(self, key: str) -> str:
        return "?"


def _settle_candidates(values: Sequence[Value]) -> Values:
    """Distinct candidates, or one UNKNOWN/DEFERRED when any is (unknown wins)."""
    if any(v is UNKNOWN or v.kind == "unknown" for v in values):
        return (UNKNOWN,)
    if any(v.kind == "deferred" for v in values):
        return (DEFERRED,)
    distinct = tuple(dict.fromkeys(values))
    if not distinct or len(distinct) > MAX_CANDIDATES:
        return (UNKNOWN,)
    return distinct


def _c3(head: List[str], sequences: List[List[str]]) -> Optional[List[str]]:
    """C3 merge: `head` followed by the merge of `sequences`; None when no order exists."""
    result = list(head)
    sequences = [list(s) for s in sequences if s]
    while sequences:
        for sequence in sequences:
            candidate = sequence[0]
            if not any(candidate in other[1:] for other in sequences):
                break
        else:
            return None
        result.append(candidate)
        sequences = [[c for c in s if c != candidate] for s in sequences]
        sequences = [s for s in sequences if s]
    return result
