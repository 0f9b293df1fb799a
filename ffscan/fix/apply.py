"""Apply fixes to source text: the only code that edits. libcst is used to add imports only.

A fix is data (`ffscan.model.Fix`): text edits over exact ranges and the imports they need.
Fixes are applied in the order given; one whose range overlaps or touches a fix already taken
is left for the next pass, on the rewritten text.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Iterable, List, Sequence, Tuple

from ffscan.model import Fix, Location, line_starts


class CannotEdit(Exception):
    """The text cannot take the edits or imports (libcst cannot parse it, for one)."""


@dataclass
class Applied:
    text: str
    fixes: List[Fix] = field(default_factory=list)  # applied, in the order given
    deferred: List[Fix] = field(default_factory=list)  # overlapping an applied one: next pass


def apply_fixes(text: str, fixes: Sequence[Fix]) -> Applied:
    """Apply the fixes that do not overlap one applied before them, then add their imports."""
    starts = line_starts(text)
    taken: List[Tuple[int, int]] = []
    edits: List[Tuple[int, int, str]] = []
    outcome = Applied(text)
    for fix in fixes:
        ranges = [(_offset(starts, e.start), _offset(starts, e.end), e.content) for e in fix.edits]
        low, high = min(r[0] for r in ranges), max(r[1] for r in ranges)
        if any(low <= other_high and other_low <= high for other_low, other_high in taken):
            outcome.deferred.append(fix)
            continue
        taken.append((low, high))
        edits.extend(ranges)
        outcome.fixes.append(fix)
    # From the end, so that earlier offsets stay valid; insertions at one point keep their order.
    for start, end, content in sorted(edits, key=lambda e: (e[0], e[1]), reverse=True):
        text = text[:start] + content + text[end:]
    imports = [item for fix in outcome.fixes for item in fix.imports]
    outcome.text = add_imports(text, imports) if imports else text
    return outcome


def _offset(starts: Tuple[int, ...], location: Location) -> int:
    return starts[location.line - 1] + location.column - 1


def add_imports(text: str, imports: Iterable[Tuple[str, str]]) -> str:
    """`from module import name` for each pair the module does not import yet, placed where
    libcst's AddImportsVisitor puts them (after the docstring, `__future__` and other imports)."""
    import libcst as cst
    from libcst.codemod import CodemodContext
    from libcst.codemod.visitors import AddImportsVisitor

    try:
        module = cst.parse_module(text)
        context = CodemodContext()
        for module_name, name in dict.fromkeys(imports):
            AddImportsVisitor.add_needed_import(context, module_name, name)
        return AddImportsVisitor(context).transform_module(module).code
    except (cst.ParserSyntaxError, RecursionError) as error:
        raise CannotEdit(f"libcst cannot handle this file ({type(error).__name__})") from None

