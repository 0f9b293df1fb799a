"""What running a piece of work does, across modules: the index's answers about effects.

The FF3 and FF5 rules ask about the work a thread, a task or an executor runs, which is often
defined in another module:

    ("io-work", ref, mode)  does calling `ref` reach another service (network, database,
                            files, a subprocess) with no limiter on the way? mode "running":
                            a limiter acquired inside the work bounds it (a finite list);
                            mode "created": it does not (a stream, where tasks pile up
                            whatever bounds how many run)
    ("may-fail", ref)       can calling `ref` raise something it does not handle: a `raise`,
                            or a call into another service, outside every `try` of its own?
    ("writes", ref)         does calling `ref` write a file or a database (a method such as
                            `write`, `commit` or `executemany` on one)?

What a call into a library does comes from its qualified name: the standard library's table
(`stdlib.STDLIB_IO`) and the overlay's `[io]` (`catalogue.io_kind`), never from how the
receiver is spelled. A project function is followed through its summary (its calls, its
limiters, what it raises) a few calls deep. As everywhere in the index, an uncertain step
answers "no", and a step another module must take answers "deferred".
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Callable, Optional, Set, Tuple, Union

from ffscan.semantic.catalogue import io_kind
from ffscan.semantic.stdlib import LIMITER_CLASS_NAMES, LIMITER_CLASSES, STDLIB_IO
from ffscan.semantic.values import Ref, Value, spelled_ref
from ffscan.semantic.work import SPELLED_LIMITER

if TYPE_CHECKING:
    from ffscan.semantic.index import ProjectIndex
    from ffscan.semantic.summary import FunctionFacts

MAX_CALL_DEPTH = 3


class _Pending:
    """Another module must answer (the one-module view cannot)."""


PENDING = _Pending()
Outcome = Union[str, None, _Pending]  # a description of what was found, no, or pending

# Methods that change a file or a database: a daemon thread cut off half-way through one
# leaves it half-written. (A socket send cut at exit loses nothing the exit does not.)
WRITE_METHODS = frozenset(
    {
        "write", "writelines", "write_text", "write_bytes", "flush", "commit", "save", "dump",
        "execute", "executemany", "truncate", "put_object", "upload_file", "upload_fileobj",
    }
)


class Effects:
    """Answers about effects over one index (see the module docstring)."""

    def __init__(self, index: "ProjectIndex") -> None:
        self.index = index

    def answer(self, query: tuple) -> Outcome:
        kind = query[0]
        if kind == "io-work":
            return self.io_work(query[1], query[2])
        if kind == "may-fail":
            return self.may_raise(query[1])
        if kind == "writes":
            return self.writes(query[1])
        raise ValueError(f"unknown query {kind!r}")

    # ---- calls into libraries -------------------------------------------------------------

    def io_call(self, callee: Ref) -> Outcome:
        """"network (`session.get`)" when calling `callee` certainly goes into a library that
        talks to another service; None when it does not, or is a project function (followed
        by the callers of this method), or is unknown."""
        values = self.index.evaluate(callee)
        if any(v.kind == "deferred" for v in values):
            return PENDING
        if all(v.certain for v in values):
            kinds = set()
            for value in values:
                found = self._io_of_value(value)
                if found is None:
                    return None
                kinds.add(found)
            return _described(kinds, callee)
        origin = self._origin(callee, 0)
        if isinstance(origin, _Pending):
            return PENDING
        kind = _io_of_name(origin) if origin is not None else None
        return _described({kind}, callee) if kind is not None else None

    def _io_of_value(self, value: Value) -> Optional[str]:
        if value.kind not in ("function", "external", "external-method"):
            return None  # a class (making a client), a module, an instance
        coroutine: Optional[bool] = None
        if value.kind == "function":
            if not self.index.is_library_function(value.name):
                return None  # the project's own: what it calls decides
            facts = self.index.functions.get(value.name)
            coroutine = facts is not None and facts.kind in ("coroutine", "async-generator")
        elif value.kind == "external-method":
            coroutine = value.items[0] == "coroutine"
        return _io_of_name(value.name, coroutine)

    def _origin(self, ref: Ref, depth: int) -> Union[str, None, _Pending]:
        """The qualified name of the library thing `ref` stands for or came from, where the
        index cannot evaluate it (`requests.Session().get`, `self.db.cursor().execute` with
        `self.db = sqlite3.connect(...)`): calling a library callable or taking an attribute
        of a library object stays in that library. None for the project's own values."""
        if depth > 12:
            return None
        index = self.index
        values = index.evaluate(ref)
        if any(v.kind == "deferred" for v in values):
            return PENDING
        if all(v.certain for v in values):
            if len(values) != 1:
                return None
            value = values[0]
            if value.kind in ("external", "external-method", "external-instance"):
                return value.name
            if value.kind in ("function", "class", "module", "instance") and index.is_library_name(value.name):
                return value.name
            return None
        kind = ref[0]
        if kind == "attr":
            base = self._origin(ref[1], depth + 1)
            if isinstance(base, str):
                return f"{base}.{ref[2]}"
            if base is None:
                return self._attribute_origin(ref[1], ref[2], depth)
            return base
        if kind in ("call", "instance"):
            return self._origin(ref[1], depth + 1)
        # What an awaited call gave (a response, rows) is data: the call itself was the I/O.
        if kind == "global":
            return ref[1] if index.is_library_name(ref[1]) else None
        return None

    def _attribute_origin(self, base: Ref, name: str, depth: int) -> Union[str, None, _Pending]:
        """What an attribute of a project instance comes from, when that is a library thing:
        what every assignment agrees on (`self.session = requests.Session()`), or a library
        base class that defines it (`class Db(sqlite3.Connection)`: `db.cursor`)."""
        values = self.index.evaluate(base)
        if len(values) != 1 or values[0].kind != "instance" or self.index.is_library_name(values[0].name):
            return None
        return self._class_origin(values[0].name, name, depth, set())

    def _class_origin(self, cls: str, name: str, depth: int, seen: Set[str]) -> Union[str, None, _Pending]:
        index = self.index
        facts = index.classes.get(cls)
        if facts is None or cls in seen or depth > 12:
            return None
        seen.add(cls)
        assigned = facts.attributes.get(name)
        if assigned:
            origins = {self._origin(ref, depth + 1) for ref in assigned}
            if PENDING in origins:
                return PENDING
            return origins.pop() if len(origins) == 1 else None
        if name in facts.methods or name in facts.class_vars:
            return None  # the project's own
        for base in facts.bases:
            values = index.evaluate(base)
            if any(v.kind == "deferred" for v in values):
                return PENDING
            if len(values) == 1 and values[0].kind == "class" and not index.is_library_name(values[0].name):
                found = self._class_origin(values[0].name, name, depth + 1, seen)
                if found is not None:
                    return found
                continue
            origin = self._origin(base, depth + 1)
            if isinstance(origin, str):
                return f"{origin}.{name}"  # defined by a library base, first in method order
            if origin is PENDING:
                return PENDING
        return None

    # ---- project functions ------------------------------------------------------------------

    def _project_functions(self, ref: Ref) -> Union[Tuple["FunctionFacts", ...], _Pending]:
        """The project functions calling `ref` certainly runs (a method of an instance with
        `__call__` included); () when it is anything else or unknown."""
        index = self.index
        values = index.evaluate(ref)
        if any(v.kind == "deferred" for v in values):
            return PENDING
        if not all(v.certain for v in values):
            own = self._own_method(ref)
            return (own,) if own is not None else ()
        found = []
        for value in values:
            name = value.name
            if value.kind == "instance" and not index.is_library_name(name):
                called = index.evaluate(("attr", ref, "__call__"))
                if len(called) == 1 and called[0].kind == "function":
                    name = called[0].name
                else:
                    return ()
            elif value.kind != "function":
                return ()
            facts = index.functions.get(name)
            if facts is None or index.is_library_function(name):
                return ()
            found.append(facts)
        return tuple(found)

    def _first(self, ref: Ref, search: Callable[["FunctionFacts"], Outcome]) -> Outcome:
        """The first reason `search` gives for a project function `ref` may run; PENDING when
        one of them is not known yet, None when none gives one."""
        functions = self._project_functions(ref)
        if isinstance(functions, _Pending):
            return PENDING
        pending = False
        for facts in functions:
            found = search(facts)
            if isinstance(found, str):
                return found
            pending = pending or found is PENDING
        return PENDING if pending else None

    def _own_method(self, ref: Ref) -> Optional["FunctionFacts"]:
        """`self.m` where the class's own body defines `m`: Python finds it there before any
        base, whatever the bases the index cannot see. (A metaclass could still replace it;
        for what the work does, the def as written is the best reading.)"""
        if ref[0] != "attr" or ref[1][0] != "instance" or ref[1][1][0] != "def":
            return None
        facts = self.index.classes.get(ref[1][1][1])
        if facts is None or ref[2] in facts.attributes:
            return None
        method = facts.methods.get(ref[2])
        return self.index.functions.get(method) if method is not None else None

    def io_work(self, ref: Ref, mode: str) -> Outcome:
        """Whether the work `ref` runs calls another service with no limiter on the way."""
        direct = self.io_call(ref)  # `gather(*map(session.get, urls))`: the call itself
        if direct is not None:
            return f"each calls {direct}" if isinstance(direct, str) else direct
        return self._first(ref, lambda facts: self._io_path(facts, mode, 0, set()))

    def _io_path(self, facts: "FunctionFacts", mode: str, depth: int, seen: Set[str]) -> Outcome:
        if facts.name in seen:
            return None
        seen.add(facts.name)
        limited = self.acquires_limiter(facts)
        if limited is PENDING:
            return PENDING
        if limited and mode == "running":
            return None  # a semaphore in the work bounds how many run at once
        found = self._io_below(facts, mode, depth, seen)
        if isinstance(found, str) and limited:
            # Over a stream the work's own semaphore lets every task be made, then wait.
            found += f"; the limiter in `{_short(facts.name)}` bounds how many run, not how many are made"
        return found

    def _io_below(self, facts: "FunctionFacts", mode: str, depth: int, seen: Set[str]) -> Outcome:
        name = _short(facts.name)
        return self._through(
            facts.calls,
            lambda callee: _calls(name, self.io_call(callee)),
            lambda called: _chained(name, self._io_path(called, mode, depth + 1, seen)),
            depth < MAX_CALL_DEPTH,
        )

    def _through(
        self,
        callees: Tuple[Ref, ...],
        direct: Callable[[Ref], Outcome],
        deeper: Callable[["FunctionFacts"], Outcome],
        descend: bool,
    ) -> Outcome:
        """The first reason `direct` gives for one of `callees`, else (when `descend`) the
        first `deeper` gives for a project function one of them runs; PENDING when one of
        them is not known yet."""
        pending = False
        for callee in callees:
            found = direct(callee)
            if isinstance(found, str):
                return found
            pending = pending or found is PENDING
        if descend:
            for callee in callees:
                inner = self._project_functions(callee)
                if isinstance(inner, _Pending):
                    pending = True
                    continue
                for called in inner:
                    found = deeper(called)
                    if isinstance(found, str):
                        return found
                    pending = pending or found is PENDING
        return PENDING if pending else None

    def acquires_limiter(self, facts: "FunctionFacts") -> Union[bool, _Pending]:
        """Whether `facts` acquires a semaphore or limiter (known by its class, or spelled like
        one where its type is unknown)."""
        pending = False
        for ref in facts.limiters:
            if ref == SPELLED_LIMITER:
                return True
            values = self.index.evaluate(ref)
            if any(v.kind == "deferred" for v in values):
                pending = True
            elif values and all(_is_limiter(v) for v in values):
                return True
        return PENDING if pending else False

    def may_raise(self, ref: Ref) -> Outcome:
        """Whether calling `ref` can raise what it does not handle: it is itself a call into
        another service, or a project function that raises, or calls one, outside every
        `try` of its own."""
        direct = self.io_call(ref)
        if direct is not None:
            return f"it is a call to {direct}" if isinstance(direct, str) else direct
        return self._first(ref, lambda facts: self._raises(facts, 0, set()))

    def _raises(self, facts: "FunctionFacts", depth: int, seen: Set[str]) -> Outcome:
        if facts.name in seen:
            return None
        seen.add(facts.name)
        name = _short(facts.name)
        if facts.raises_unguarded:
            return f"`{name}` raises"
        return self._through(
            facts.exposed,
            lambda callee: _calls(name, self.io_call(callee), " outside any `try`"),
            lambda called: _chained(name, self._raises(called, depth + 1, seen)),
            depth < MAX_CALL_DEPTH,
        )

    def writes(self, ref: Ref) -> Outcome:
        """Whether the project function calling `ref` runs writes a file or a database (a
        method such as `write` or `commit` on one), two calls deep."""
        return self._first(ref, lambda facts: self._writes(facts, 0, set()))

    def _writes(self, facts: "FunctionFacts", depth: int, seen: Set[str]) -> Outcome:
        if facts.name in seen:
            return None
        seen.add(facts.name)
        name = _short(facts.name)

        def written(callee: Ref) -> Outcome:
            if callee[0] != "attr" or callee[2] not in WRITE_METHODS:
                return None
            kind = self.io_call(callee)
            if isinstance(kind, str) and not kind.endswith(("(file)", "(database)")):
                return None  # a write to a socket or a queue is not what this asks
            return _calls(name, kind)

        return self._through(facts.calls, written, lambda called: self._writes(called, depth + 1, seen), depth < 2)


def _calls(name: str, found: Outcome, where: str = "") -> Outcome:
    """`name calls <found>` for a description, else the answer as it is."""
    return f"`{name}` calls {found}{where}" if isinstance(found, str) else found


def _chained(name: str, found: Outcome) -> Outcome:
    """`name -> <found>` for a description found deeper, else the answer as it is."""
    return f"`{name}` -> {found}" if isinstance(found, str) else found


def _io_of_name(name: str, coroutine: Optional[bool] = None) -> Optional[str]:
    """What calling the library name `name` does outside the process. Calling a class makes
    an object (a client, a path) and is I/O only where the tables name that class itself
    (`zipfile.ZipFile` opens its file)."""
    last = name.rpartition(".")[2]
    if last[:1].isupper() and name not in STDLIB_IO:
        return None
    return io_kind(name, coroutine)


def _is_limiter(value: Value) -> bool:
    if value.kind not in ("external-instance", "instance"):
        return False
    return value.name in LIMITER_CLASSES or value.name.rpartition(".")[2] in LIMITER_CLASS_NAMES


def _described(kinds: set, callee: Ref) -> str:
    return f"`{spelled_ref(callee)}` ({', '.join(sorted(kinds))})"


def _short(qualified: str) -> str:
    """`Client.fetch` for `app.client.Client.fetch`; `inner` for `app.f.<locals>.inner`."""
    parts = qualified.split(".")
    if "<locals>" in parts:
        return parts[-1]
    # Keep a class name before a method: the part before the last when it is capitalised.
    if len(parts) >= 2 and parts[-2][:1].isupper():
        return ".".join(parts[-2:])
    return parts[-1]
