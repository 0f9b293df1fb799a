"""A third-party package's source in, the summaries the index needs out.

Used by `tools/build_catalogue.py` (the shipped catalogue) and by `environment.py` (the
project's installed packages). Nothing here imports the package: its files are read and
parsed.

`trim` keeps what evaluation can use. A function, class or top-level name is *interesting*
when some chain of references from it ends in a fact: a coroutine function, an awaitable or
async-callable annotation, a name of another package, a standard-library name the index has
facts for, or a name the overlay describes. The rest is dropped, which the index reads as
unknown, the answer it would give anyway: a yes needs every step certain. Only where
dropping would let something else show through is a stand-in kept: a method of a kept class
(it hides what the bases define), an instance attribute or class variable (they hide
methods), a top-level name of a module with `*` imports or with a submodule of that name.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import AbstractSet, Dict, Iterator, List, Sequence, Set, Tuple

from ffscan.semantic.catalogue import fact_names, opaque_function, summarize_source
from ffscan.semantic.summary import ClassFacts, ModuleSummary
from ffscan.semantic.values import UNKNOWN_REF, Ref

_STDLIB = frozenset(getattr(sys, "stdlib_module_names", ())) | {"builtins", "__future__"}
_INTRINSIC = "!"  # a node key meaning "interesting by itself"
_MAX_CHAIN = 16


def package_files(site: Path, top: str) -> Iterator[Tuple[str, bool, Path]]:
    """(module name, is a package, file) for every module of the top-level package `top`
    installed under `site`. A `.pyi` stands in for a module with no `.py` (an extension
    module's stub); folders that are not importable names are skipped."""
    single = site / f"{top}.py"
    if single.is_file():
        yield top, False, single
    elif (site / top).is_dir():
        yield from _walk(site / top, top)


def _walk(folder: Path, dotted: str) -> Iterator[Tuple[str, bool, Path]]:
    try:
        entries = sorted(folder.iterdir(), key=lambda p: p.name)
    except OSError:  # an unreadable folder: its modules stay unknown
        return
    names = {p.name for p in entries}
    for entry in entries:
        if entry.is_dir():
            if entry.name.isidentifier() and entry.name != "__pycache__":
                yield from _walk(entry, f"{dotted}.{entry.name}")
            continue
        stem, dot, suffix = entry.name.rpartition(".")
        if not dot or not stem.isidentifier() or suffix not in ("py", "pyi"):
            continue
        if suffix == "pyi" and f"{stem}.py" in names:
            continue
        yield (dotted, True, entry) if stem == "__init__" else (f"{dotted}.{stem}", False, entry)


def summarize_package(site: Path, top: str) -> List[ModuleSummary]:
    """The summaries of every module of `top` under `site` (unparsable files skipped), sorted
    by module name."""
    found: List[ModuleSummary] = []
    for module, is_package, path in package_files(site, top):
        try:
            text = path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError):  # unreadable or not UTF-8: the module stays unknown
            continue
        summary = summarize_source(text, module, is_package)
        if summary is not None:
            found.append(summary)
    found.sort(key=lambda s: s.module)
    return found


# ---- trimming ---------------------------------------------------------------------------------


class _Graph:
    """Which nodes of a package mention which: "f:" functions, "c:" classes, "s:" top-level
    names (module.name), "m:" modules."""

    def __init__(self, summaries: Sequence[ModuleSummary], others: AbstractSet[str]) -> None:
        self.others = others
        self.modules: Dict[str, ModuleSummary] = {s.module: s for s in summaries}
        self.tops = {m.split(".", 1)[0] for m in self.modules}
        self.functions = {q: f for s in summaries for q, f in s.functions.items()}
        self.classes = {q: c for s in summaries for q, c in s.classes.items()}
        facts = fact_names()
        self.facts = facts
        # A standard-library name matters when a fact names it, or something inside it.
        self.fact_prefixes: Set[str] = set()
        for name in facts:
            parts = name.split(".")
            self.fact_prefixes.update(".".join(parts[:cut]) for cut in range(1, len(parts) + 1))
        self.fact_owners = {name.rpartition(".")[0] for name in facts}
        self.children: Dict[str, List[str]] = {}
        for module in self.modules:
            parent = module.rpartition(".")[0]
            if parent:
                self.children.setdefault(parent, []).append(module)

    # what a reference mentions: node keys, or _INTRINSIC
    def mentions(self, ref: Ref, found: Set[str]) -> None:
        kind = ref[0]
        if kind == "unknown":
            return
        if kind == "type":
            found.add(_INTRINSIC)
        elif kind == "def":
            name = ref[1]
            if name in self.functions:
                found.add("f:" + name)
            elif name in self.classes:
                found.add("c:" + name)
        elif kind == "global":
            found.update(self.resolve(ref[1]))
        elif kind == "super":
            found.add("c:" + ref[1])
        elif kind in ("attr", "call", "instance", "item", "kept"):
            self.mentions(ref[1], found)
        elif kind in ("tuple", "any"):
            for item in ref[1]:
                self.mentions(item, found)
        else:
            found.add(_INTRINSIC)  # a shape this reading does not know: keep it

    def resolve(self, dotted: str) -> List[str]:
        top = dotted.split(".", 1)[0]
        if top not in self.tops:
            if top in _STDLIB:
                return [_INTRINSIC] if self._stdlib_matters(dotted) else []
            # another package: it can lead somewhere only if its summaries can be had
            return [_INTRINSIC] if top in self.others else []
        parts = dotted.split(".")
        for cut in range(len(parts), 0, -1):
            prefix = ".".join(parts[:cut])
            summary = self.modules.get(prefix)
            if summary is None:
                continue
            if cut == len(parts):
                return ["m:" + prefix]
            name = parts[cut]
            if name in summary.symbols:
                return ["s:" + f"{prefix}.{name}"]
            return ["m:" + star for star in summary.star_imports if star in self.modules] + (
                [_INTRINSIC] if any(star not in self.modules for star in summary.star_imports) else []
            )
        return []

    def _stdlib_matters(self, dotted: str) -> bool:
        if dotted in self.fact_prefixes:
            return True
        parts = dotted.split(".")
        return any(".".join(parts[:cut]) in self.facts for cut in range(1, len(parts)))

    def ref_mentions(self, refs: Sequence[Ref]) -> Set[str]:
        found: Set[str] = set()
        for ref in refs:
            self.mentions(ref, found)
        return found

    def edges(self) -> Dict[str, Set[str]]:
        """node -> what it mentions (the reverse is walked to spread interest)."""
        edges: Dict[str, Set[str]] = {}
        for name, facts in self.functions.items():
            found: Set[str] = set()
            if facts.kind == "coroutine" or name in self.facts:
                found.add(_INTRINSIC)
            elif facts.kind == "function" and all(self.ref_mentions([d]) for d in facts.decorators):
                # a decorated def counts when each decorator may hand it back (one that leads
                # nowhere certainly does not; the index decides the rest)
                if facts.annotation != UNKNOWN_REF:
                    self.mentions(facts.annotation, found)
                if facts.returns and not facts.falls_through:
                    found |= self.ref_mentions(facts.returns)
            edges["f:" + name] = found
        for name, cls in self.classes.items():
            found = set()
            if name in self.facts or name in self.fact_owners:
                found.add(_INTRINSIC)
            if not cls.uncertain or name in self.facts:
                found |= self.ref_mentions(cls.bases)
                for refs in (*cls.attributes.values(), *cls.class_vars.values()):
                    found |= self.ref_mentions(refs)
                found.update("f:" + q for q in cls.methods.values() if q in self.functions)
            edges["c:" + name] = found
        for module, summary in self.modules.items():
            found = {"m:" + child for child in self.children.get(module, ())}
            for symbol, refs in summary.symbols.items():
                key = f"s:{module}.{symbol}"
                edges[key] = self.ref_mentions(refs)
                if f"{module}.{symbol}" in self.facts:
                    edges[key].add(_INTRINSIC)
                found.add(key)
            edges["m:" + module] = found
        return edges


def _interesting(edges: Dict[str, Set[str]]) -> Set[str]:
    """The least set of nodes closed under "mentions something interesting"."""
    reverse: Dict[str, List[str]] = {}
    queue: List[str] = []
    for node, mentioned in edges.items():
        for target in mentioned:
            if target == _INTRINSIC:
                queue.append(node)
            else:
                reverse.setdefault(target, []).append(node)
    found: Set[str] = set()
    while queue:
        node = queue.pop()
        if node in found:
            continue
        found.add(node)
        queue.extend(n for n in reverse.get(node, ()) if n not in found)
    return found


def trim(summaries: Sequence[ModuleSummary], others: AbstractSet[str]) -> List[ModuleSummary]:
    """The summaries of one package cut down to what evaluation can use (see the module's
    docstring); sorted by module name. `others` are the other top-level packages whose
    summaries the index may load (a name of any other package evaluates to nothing)."""
    graph = _Graph(summaries, others)
    edges = graph.edges()
    interesting = _interesting(edges)

    def ref_matters(ref: Ref) -> bool:
        found: Set[str] = set()
        graph.mentions(ref, found)
        return _INTRINSIC in found or bool(found & interesting)

    # Classes that stand as bases of kept classes are kept whole (they decide the order in
    # which bases are searched), with every name their base references pass through.
    needed: Set[str] = set()
    pending = [n for n in interesting if n.startswith("c:")]
    while pending:
        node = pending.pop()
        if node in needed:
            continue
        needed.add(node)
        if node.startswith("c:"):
            cls = graph.classes.get(node[2:])
            if cls is not None:
                pending.extend(n for n in graph.ref_mentions(cls.bases) if n != _INTRINSIC)
        elif node.startswith("s:"):
            module, _, symbol = node[2:].rpartition(".")
            summary = graph.modules.get(module)
            if summary is not None:
                pending.extend(n for n in graph.ref_mentions(summary.symbols.get(symbol, ())) if n != _INTRINSIC)
    kept_nodes = interesting | needed

    trimmed: Dict[str, ModuleSummary] = {}
    for module, summary in graph.modules.items():
        classes: Dict[str, ClassFacts] = {}
        functions = {}
        for name, cls in summary.classes.items():
            if "c:" + name not in kept_nodes:
                continue
            classes[name] = cls._replace(
                line=0,
                attributes={k: _simplified(v, ref_matters) for k, v in cls.attributes.items()},
                class_vars={k: _simplified(v, ref_matters) for k, v in cls.class_vars.items()},
            )
            for qualified in cls.methods.values():
                facts = summary.functions.get(qualified)
                if facts is None:
                    continue
                if "f:" + qualified in interesting:
                    functions[qualified] = _kept_function(facts, ref_matters)
                else:
                    functions[qualified] = opaque_function(qualified, facts.method)
        for name, facts in summary.functions.items():
            if name not in functions and "f:" + name in interesting:
                functions[name] = _kept_function(facts, ref_matters)
        symbols: Dict[str, Tuple[Ref, ...]] = {}
        for name, refs in summary.symbols.items():
            key = f"s:{module}.{name}"
            if key in needed:
                symbols[name] = refs
            elif key in interesting:
                symbols[name] = _simplified(refs, ref_matters)
            elif summary.star_imports or f"{module}.{name}" in graph.modules:
                symbols[name] = (UNKNOWN_REF,)  # hides what a `*` import or a submodule would give
        if not (classes or functions or any(s != (UNKNOWN_REF,) for s in symbols.values())) and "m:" + module not in needed:
            continue
        trimmed[module] = summary._replace(symbols=symbols, functions=functions, classes=classes)
    # Ancestors (attribute paths run through them) and `*` sources of what is kept.
    pending_modules = list(trimmed)
    while pending_modules:
        module = pending_modules.pop()
        summary = trimmed[module]
        related = list(summary.star_imports)
        parent = module.rpartition(".")[0]
        if parent:
            related.append(parent)
        for other in related:
            if other in graph.modules and other not in trimmed:
                original = graph.modules[other]
                symbols = {
                    name: (UNKNOWN_REF,)
                    for name in original.symbols
                    if original.star_imports or f"{other}.{name}" in graph.modules
                }
                trimmed[other] = original._replace(symbols=symbols, functions={}, classes={})
                pending_modules.append(other)
    return [trimmed[m] for m in sorted(trimmed)]


def _kept_function(facts, ref_matters):
    return facts._replace(
        line=0,
        params=(),
        decorators=tuple(d if ref_matters(d) else UNKNOWN_REF for d in facts.decorators),
        handoffs=(),
        entries=(),
        calls=(),
        keeps=None,
        # what a library's body does is not followed: its coroutines may suspend and raise
        suspends=True,
        raises=True,
        awaits_twice=(),
    )


def _simplified(refs: Tuple[Ref, ...], ref_matters) -> Tuple[Ref, ...]:
    """The references that can lead somewhere, the rest as one unknown (an unknown candidate
    makes the whole answer unknown, as a dead end would)."""
    if all(ref_matters(ref) for ref in refs):
        return refs
    return (UNKNOWN_REF,)


def top_level_names(record_lines: Sequence[str]) -> List[str]:
    """The importable top-level names a distribution installs, from the lines of its RECORD
    (`path,hash,size`): folders with Python files, and single-file modules."""
    tops: Set[str] = set()
    for line in record_lines:
        path = line.split(",", 1)[0]
        first, slash, rest = path.partition("/")
        if first.endswith((".dist-info", ".data")) or first in ("", "..", "__pycache__"):
            continue
        if slash and rest.endswith((".py", ".pyi")) and first.isidentifier():
            tops.add(first)
        elif not slash and first.endswith(".py") and first[:-3].isidentifier():
            tops.add(first[:-3])
    return sorted(tops)
