"""Apply fixes to source text: the only code that edits.

A fix is data (`ffscan.model.Fix`): text edits over exact ranges and the imports they need.
Fixes are applied in the order given; one whose range overlaps or touches a fix already taken
is left for the next pass, on the rewritten text. Every change is kept as offset edits
(`Change`), so a position in the fixed text can be traced back to the text it came from.

Imports are placed where Ruff's isort (I001) puts them with its default settings: in the
first block of top-level imports, in its section (`__future__`, standard library, third
party, first party, local), straight imports before `from` imports, modules in natural
case-insensitive order, and a name merged into an existing `from module import ...` in
member order (constants, classes, then the rest).
"""

from __future__ import annotations

import ast
import io
import os
import re
import sys
import sysconfig
import tokenize
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Dict, Iterable, List, Optional, Sequence, Tuple

from ffscan.model import Fix, Location, line_starts


class CannotEdit(Exception):
    """The text cannot take the edits or imports (the edited text does not parse, for one)."""


@dataclass(frozen=True)
class TextEdit:
    """Replace `text[start:end]` with `content` (offsets in characters)."""

    start: int
    end: int
    content: str = ""


class Change:
    """Non-overlapping edits over one text, applied together; insertions at one point keep
    the order given."""

    def __init__(self, edits: Iterable[TextEdit]) -> None:
        self.edits: Tuple[TextEdit, ...] = tuple(sorted(edits, key=lambda e: (e.start, e.end)))

    def __bool__(self) -> bool:
        return bool(self.edits)

    def apply(self, text: str) -> str:
        pieces, position = [], 0
        for edit in self.edits:
            pieces.append(text[position : edit.start])
            pieces.append(edit.content)
            position = max(position, edit.end)
        pieces.append(text[position:])
        return "".join(pieces)

    def original_offset(self, offset: int) -> int:
        """Where `offset` of the changed text came from; text an edit wrote maps to its start."""
        delta = 0
        for edit in self.edits:
            new_start = edit.start + delta
            if offset < new_start:
                break
            if offset < new_start + len(edit.content):
                return edit.start
            delta += len(edit.content) - (edit.end - edit.start)
        return offset - delta


@dataclass(frozen=True)
class ImportSections:
    """What decides an import's isort section beyond the standard library, as in Ruff:
    `src` (the project root and its `src/`; a module is first party when its path exists
    under one) and the top-level package of the file being fixed (`detect-same-package`)."""

    src: Tuple[Path, ...] = ()
    package: str = ""


FUTURE, STANDARD_LIBRARY, THIRD_PARTY, FIRST_PARTY, LOCAL_FOLDER = range(5)


@dataclass
class Applied:
    text: str
    fixes: List[Fix] = field(default_factory=list)  # applied, in the order given
    deferred: List[Fix] = field(default_factory=list)  # overlapping an applied one: next pass
    changes: List[Change] = field(default_factory=list)  # in order: the edits, then the imports
    imports_added: List[Tuple[str, str]] = field(default_factory=list)  # (module, name), new to the file


def apply_fixes(text: str, fixes: Sequence[Fix], sections: ImportSections = ImportSections()) -> Applied:
    """Apply the fixes that do not overlap one applied before them, then add their imports."""
    starts = line_starts(text)
    taken: List[Tuple[int, int]] = []
    edits: List[TextEdit] = []
    outcome = Applied(text)
    for fix in fixes:
        ranges = [TextEdit(_offset(starts, e.start), _offset(starts, e.end), e.content) for e in fix.edits]
        low, high = min(r.start for r in ranges), max(r.end for r in ranges)
        if any(low <= other_high and other_low <= high for other_low, other_high in taken):
            outcome.deferred.append(fix)
            continue
        taken.append((low, high))
        edits.extend(ranges)
        outcome.fixes.append(fix)
    change = Change(edits)
    text = change.apply(text)
    outcome.changes.append(change)
    imports = [item for fix in outcome.fixes for item in fix.imports]
    if imports:
        import_change, outcome.imports_added = add_imports(text, imports, sections)
        text = import_change.apply(text)
        outcome.changes.append(import_change)
    outcome.text = text
    return outcome


def _offset(starts: Tuple[int, ...], location: Location) -> int:
    return starts[location.line - 1] + location.column - 1


# ---- adding imports -------------------------------------------------------------------------


def add_imports(
    text: str, imports: Iterable[Tuple[str, str]], sections: ImportSections = ImportSections()
) -> Tuple[Change, List[Tuple[str, str]]]:
    """The edits that add `from module import name` for each pair the module does not import
    at top level yet, and the pairs they add."""
    tree = _parse(text)
    wanted: Dict[str, List[str]] = {}
    for module, name in dict.fromkeys(imports):
        if not _imports_name(tree, module, name):
            wanted.setdefault(module, []).append(name)
    if not wanted:
        return Change(()), []
    layout = _Layout(text, tree)
    block = _first_import_block(tree, wanted)
    edits: List[TextEdit] = []
    added: List[Tuple[str, str]] = []
    for module, names in wanted.items():
        names = sorted(names, key=_member_key)
        target = _mergeable_from_import(block, module)
        if target is not None:
            edits.extend(_merge(layout, target, names))
        else:
            edits.append(_new_statement(layout, tree, block, module, names, sections))
        added.extend((module, name) for name in names)
    return Change(edits), added


def _parse(text: str) -> ast.Module:
    try:
        return ast.parse(text)
    except SyntaxError as error:
        raise CannotEdit(f"the fixed code does not parse ({error.msg}, line {error.lineno})") from None
    except (RecursionError, MemoryError, ValueError) as error:
        raise CannotEdit(f"the fixed code cannot be parsed ({type(error).__name__})") from None


def _imports_name(tree: ast.Module, module: str, name: str) -> bool:
    return any(
        isinstance(node, ast.ImportFrom)
        and not node.level
        and node.module == module
        and any(alias.name == name and alias.asname is None for alias in node.names)
        for node in tree.body
    )


def _first_import_block(tree: ast.Module, wanted: Dict[str, List[str]]) -> List[ast.stmt]:
    """The first run of top-level import statements, as isort sees a block; empty when there
    is none, or when module-level code before it already uses a name being imported."""
    body = tree.body
    first = next((i for i, node in enumerate(body) if isinstance(node, (ast.Import, ast.ImportFrom))), None)
    if first is None:
        return []
    names = {name for listed in wanted.values() for name in listed}
    if any(_loads_at_import_time(node, names) for node in body[:first]):
        return []  # the import must run before that code: it goes to the top of the file
    block = []
    for node in body[first:]:
        if not isinstance(node, (ast.Import, ast.ImportFrom)):
            break
        block.append(node)
    return block


def _loads_at_import_time(node: ast.AST, names: set) -> bool:
    """Whether running `node` reads one of `names` (function bodies run later)."""
    if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda)):
        return False
    if isinstance(node, ast.Name) and isinstance(node.ctx, ast.Load) and node.id in names:
        return True
    return any(_loads_at_import_time(child, names) for child in ast.iter_child_nodes(node))


def _mergeable_from_import(block: Sequence[ast.stmt], module: str) -> Optional[ast.ImportFrom]:
    """`from module import a, b`: isort merges the names; one holding only aliased or star
    imports stays on its own (`combine-as-imports = false`)."""
    for node in block:
        if isinstance(node, ast.ImportFrom) and not node.level and node.module == module:
            if any(alias.asname is None and alias.name != "*" for alias in node.names):
                return node
    return None


class _Layout:
    """Offsets of lines and statements in one text."""

    def __init__(self, text: str, tree: ast.Module) -> None:
        self.text = text
        self.tree = tree
        self.starts = line_starts(text)
        match = re.search(r"\r\n|\r|\n", text)
        self.newline = match.group(0) if match else "\n"

    def line_start(self, line: int) -> int:
        return self.starts[line - 1] if line - 1 < len(self.starts) else len(self.text)

    def after_line(self, line: int) -> Tuple[int, str]:
        """The offset just past line `line` and its line break, and a line break to write
        first when the text ends on that line without one."""
        if line < len(self.starts):
            return self.starts[line], ""
        return len(self.text), self.newline if self.text and not self.text.endswith(("\n", "\r")) else ""

    def line_text(self, line: int) -> str:
        start = self.line_start(line)
        end = self.starts[line] if line < len(self.starts) else len(self.text)
        return self.text[start:end]

    def offset(self, line: int, byte_column: int) -> int:
        """The character offset of an ast position (its column counts UTF-8 bytes)."""
        line_text = self.line_text(line)
        return self.line_start(line) + len(line_text.encode("utf-8")[:byte_column].decode("utf-8", "replace"))

    def is_comment_line(self, line: int) -> bool:
        return self.line_text(line).lstrip().startswith("#")

    def is_blank_line(self, line: int) -> bool:
        return 0 < line <= len(self.starts) and not self.line_text(line).strip()


def _merge(layout: _Layout, node: ast.ImportFrom, names: Sequence[str]) -> List[TextEdit]:
    """Edits that put `names` into `from module import ...` at their sorted places."""
    items, trailing_comma, parenthesized = _import_items(layout, node)
    edits = []
    for name in names:
        key = _member_key(name)
        after = next((item for item in items if _member_key(item.name, item.asname) > key), None)
        if after is not None:
            own_line = not layout.text[layout.line_start(after.line) : after.start].strip()
            if parenthesized and own_line:
                indent = layout.text[layout.line_start(after.line) : after.start]
                edits.append(TextEdit(after.start, after.start, f"{name},{layout.newline}{indent}"))
            else:
                edits.append(TextEdit(after.start, after.start, f"{name}, "))
            continue
        last = items[-1]
        own_line = not layout.text[layout.line_start(last.line) : last.start].strip()
        if parenthesized and own_line and trailing_comma is not None:
            indent = layout.text[layout.line_start(last.line) : last.start]
            edits.append(TextEdit(trailing_comma, trailing_comma, f"{layout.newline}{indent}{name},"))
        else:
            edits.append(TextEdit(last.end, last.end, f", {name}"))
    return edits


@dataclass(frozen=True)
class _Item:
    name: str
    asname: Optional[str]
    start: int
    end: int
    line: int


def _import_items(layout: _Layout, node: ast.ImportFrom) -> Tuple[List[_Item], Optional[int], bool]:
    """The imported names of `from m import ...` with their offsets (ast gives alias positions
    only from Python 3.10), the offset just past a trailing comma, and whether in brackets."""
    start = layout.offset(node.lineno, node.col_offset)
    end = layout.offset(node.end_lineno or node.lineno, node.end_col_offset or 0)
    segment = layout.text[start:end]
    tokens = [t for t in _tokens(segment) if t.type not in (tokenize.NL, tokenize.NEWLINE, tokenize.COMMENT)]
    index = next(i for i, t in enumerate(tokens) if t.type == tokenize.NAME and t.string == "import")
    rest = tokens[index + 1 :]
    parenthesized = bool(rest) and rest[0].string == "("
    if parenthesized:
        rest = rest[1:]
    seg_starts = line_starts(segment)

    def absolute(position: Tuple[int, int]) -> int:
        return start + seg_starts[position[0] - 1] + position[1]

    items: List[_Item] = []
    trailing: Optional[int] = None
    i = 0
    while i < len(rest):
        token = rest[i]
        if token.type == tokenize.NAME or token.string == "*":
            name, asname, last = token.string, None, token
            if i + 2 < len(rest) and rest[i + 1].string == "as":
                asname, last = rest[i + 2].string, rest[i + 2]
                i += 2
            items.append(_Item(name, asname, absolute(token.start), absolute(last.end), node.lineno + token.start[0] - 1))
            trailing = None
        elif token.string == ",":
            trailing = absolute(token.end)
        i += 1
    return items, trailing, parenthesized


def _tokens(segment: str) -> List[tokenize.TokenInfo]:
    found = []
    try:
        for token in tokenize.generate_tokens(io.StringIO(segment).readline):
            found.append(token)
    except (tokenize.TokenError, IndentationError):
        pass  # a statement ends the segment mid-way only at EOF: what was read is the statement
    return found


def _new_statement(
    layout: _Layout, tree: ast.Module, block: Sequence[ast.stmt], module: str, names: Sequence[str], sections: ImportSections
) -> TextEdit:
    """A new `from module import names` line in its sorted place (a new section gets its
    blank lines), or at the top of a file without imports."""
    nl = layout.newline
    statement = f"from {module} import {', '.join(names)}"
    section = section_of(module, 0, sections)
    key = (section, 1, _module_key(module, 0, names[0], None))
    if not block:
        return _at_start_of_file(layout, tree, statement)
    keys = [_statement_key(node, sections) for node in block]
    index = next((i for i, other in enumerate(keys) if other > key), len(block))
    previous = block[index - 1] if index > 0 else None
    following = block[index] if index < len(block) else None
    if previous is not None and keys[index - 1][0] == section:
        offset, prefix = layout.after_line(previous.end_lineno or previous.lineno)
        return TextEdit(offset, offset, prefix + statement + nl)
    if following is not None:
        first_line = following.lineno
        lowest = (previous.end_lineno or previous.lineno) + 1 if previous is not None else 1
        while first_line - 1 >= lowest and layout.is_comment_line(first_line - 1):
            first_line -= 1  # comments right above an import belong to it
        offset = layout.line_start(first_line)
        gap = nl if keys[index][0] != section else ""
        return TextEdit(offset, offset, statement + nl + gap)
    offset, prefix = layout.after_line(previous.end_lineno or previous.lineno)  # type: ignore[union-attr]
    return TextEdit(offset, offset, prefix + nl + statement + nl)


def _at_start_of_file(layout: _Layout, tree: ast.Module, statement: str) -> TextEdit:
    """After the docstring and the comments at the top (Ruff's `Insertion::start_of_file`),
    followed by the blank lines isort keeps after imports: two before a `def` or `class`,
    one before other code."""
    nl = layout.newline
    line = 1
    body = tree.body
    if body and isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant) and isinstance(body[0].value.value, str):
        line = (body[0].end_lineno or body[0].lineno) + 1
    total = len(layout.starts) if layout.text and not layout.text.endswith(("\n", "\r")) else len(layout.starts) - 1
    while line <= total and (layout.is_comment_line(line) or layout.is_blank_line(line)):
        line += 1
    offset = layout.line_start(line) if line <= total else len(layout.text)
    prefix = nl if offset == len(layout.text) and layout.text and not layout.text.endswith(("\n", "\r")) else ""
    following = next((node for node in body if _first_line(node) >= line), None)
    if following is None:
        return TextEdit(offset, offset, prefix + statement + nl)
    wanted = 2 if isinstance(following, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)) else 1
    blank = 0
    while layout.is_blank_line(line + blank):
        blank += 1
    return TextEdit(offset, offset, prefix + statement + nl + nl * max(0, wanted - blank))


def _first_line(node: ast.stmt) -> int:
    decorators = getattr(node, "decorator_list", None) or []
    return min([node.lineno, *(d.lineno for d in decorators)])


def _statement_key(node: ast.stmt, sections: ImportSections) -> tuple:
    if isinstance(node, ast.Import):
        alias = node.names[0]
        return (section_of(alias.name, 0, sections), 0, _module_key(alias.name, 0, None, alias.asname))
    assert isinstance(node, ast.ImportFrom)
    module = node.module or ""
    first = node.names[0]
    return (section_of(module, node.level, sections), 1, _module_key(module, node.level, first.name, first.asname))


def _natural(text: str) -> tuple:
    """Natural order, as `natord`: runs of digits compare as numbers."""
    return tuple((0, int(part), "") if part.isdigit() else (1, 0, part) for part in re.split(r"(\d+)", text) if part)


def _module_key(module: str, level: int, first: Optional[str], asname: Optional[str]) -> tuple:
    # Ruff's ModuleKey: relative imports furthest first, then the lower-cased name, the name,
    # the first imported member.
    return (
        -level,
        _natural(module.lower()),
        _natural(module),
        _member_key(first) if first is not None else (),
        _natural(asname or ""),
    )


def _member_key(name: str, asname: Optional[str] = None) -> tuple:
    # Ruff's MemberKey with `order-by-type`: `*` first, then CONSTANTS, Classes, the rest.
    if len(name) > 1 and name.isupper():
        member_type = 0
    elif name[:1].isupper():
        member_type = 1
    else:
        member_type = 2
    return (name != "*", member_type, _natural(name.lower()), _natural(name), _natural(asname or ""))


def section_of(module: str, level: int, sections: ImportSections) -> int:
    """The isort section of an import, decided as Ruff's `categorize` does by default."""
    base = module.split(".")[0]
    if level:
        return LOCAL_FOLDER
    if base == "__future__":
        return FUTURE
    if base in standard_library():
        return STANDARD_LIBRARY
    if sections.package and base == sections.package:
        return FIRST_PARTY
    if any(_exists_under(root, module) for root in sections.src):
        return FIRST_PARTY
    if module == "__main__":
        return FIRST_PARTY
    return THIRD_PARTY


@lru_cache(maxsize=None)
def _exists_under(root: Path, module: str) -> bool:
    """`a.b` is under `root` when `root/a/b` is a folder or `root/a/b.py(i)` a file."""
    candidate = root.joinpath(*module.split("."))
    return candidate.is_dir() or candidate.with_suffix(".py").is_file() or candidate.with_suffix(".pyi").is_file()


@lru_cache(maxsize=1)
def standard_library() -> frozenset:
    """Top-level module names of the standard library of the running Python."""
    names = getattr(sys, "stdlib_module_names", None)  # Python 3.10+
    if names is not None:
        return frozenset(names)
    found = set(sys.builtin_module_names)
    for folder in {sysconfig.get_paths()["stdlib"], sysconfig.get_paths()["platstdlib"]}:
        for directory in (folder, os.path.join(folder, "lib-dynload")):
            try:
                entries = os.listdir(directory)
            except OSError:
                continue  # a layout without it (lib-dynload is a CPython build detail)
            for entry in entries:
                stem = entry.split(".", 1)[0]
                if stem.isidentifier() and entry != "site-packages":
                    found.add(stem)
    return frozenset(found)


def remove_import(text: str, tree: ast.Module, module: str, name: str) -> Change:
    """The edits that drop `name` from the top-level `from module import ...`, and the whole
    statement (with one blank line of its section) when it is the only name."""
    node = next(
        (
            n
            for n in tree.body
            if isinstance(n, ast.ImportFrom) and not n.level and n.module == module and any(a.name == name and a.asname is None for a in n.names)
        ),
        None,
    )
    if node is None:
        return Change(())
    layout = _Layout(text, tree)
    items, _, _ = _import_items(layout, node)
    index = next(i for i, item in enumerate(items) if item.name == name and item.asname is None)
    if len(items) > 1:
        item = items[index]
        if index + 1 < len(items):
            return Change([TextEdit(item.start, items[index + 1].start)])
        return Change([TextEdit(items[index - 1].end, item.end)])
    first, last = node.lineno, node.end_lineno or node.lineno
    start = layout.line_start(first)
    end, _ = layout.after_line(last)
    if layout.is_blank_line(first - 1) and (layout.is_blank_line(last + 1) or end == len(text)):
        start = layout.line_start(first - 1)  # the statement was a section of its own
    return Change([TextEdit(start, end)])
