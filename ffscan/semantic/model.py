"""The semantic model of one module: what rules may know about the code they look at.

The engine builds one per file and links every node to its parent during its single pass;
rules ask it what names mean, where a node sits, and what the module's functions are. Rules
never open files: everything they may read is here.
"""

from __future__ import annotations

import ast
import io
import tokenize
from typing import TYPE_CHECKING, Any, Dict, Iterator, List, Optional, Tuple

from ffscan.model import Location, line_starts
from ffscan.semantic.names import NameResolver
from ffscan.semantic.refs import RefBuilder

if TYPE_CHECKING:
    from ffscan.config import Settings


class SemanticModel:
    """One module: its tree, source text, names and scopes, and a per-file memo."""

    def __init__(self, tree: ast.Module, text: str, settings: "Settings", module_name: str, is_package: bool = False):
        self.tree = tree
        self.text = text
        self.settings = settings
        self.module_name = module_name
        self.is_package = is_package
        self.parents: Dict[ast.AST, ast.AST] = {}
        self.stack: List[ast.AST] = []  # the nodes being visited, outermost first
        # The calls made directly in each def or lambda (None: at module or class level),
        # recorded by the engine's pass.
        self.calls_by_function: Dict[Optional[ast.AST], List[ast.Call]] = {}
        # Likewise every `Name` read directly in each def or lambda; the def or lambda each
        # one is nested in; and the ones the pass has left (their records are complete).
        self.loads_by_function: Dict[Optional[ast.AST], List[ast.Name]] = {}
        self.function_parents: Dict[ast.AST, Optional[ast.AST]] = {}
        # The `while`, `async for`, `async with` and `await` nodes directly in each def.
        self.waits_by_function: Dict[Optional[ast.AST], List[ast.AST]] = {}
        self.except_handlers: List[ast.ExceptHandler] = []  # every `except` clause the pass reached
        self.visited_functions: set = set()
        self.names = NameResolver(tree, module_name, self.parents, self.stack, is_package=is_package)
        self.refs = RefBuilder(self.names)
        # Per-file memo for semantic helpers (e.g. name loads per scope); dropped with the file.
        self.cache: Dict[str, Dict[Any, Any]] = {}
        self._line_starts: Optional[Tuple[int, ...]] = None

    # ---- where a node sits ----------------------------------------------------------------

    def parent(self, node: ast.AST) -> Optional[ast.AST]:
        """The parent of `node`: known for every node the pass has reached."""
        found = self.parents.get(node)
        if found is None and self.stack and self.stack[-1] is node and len(self.stack) > 1:
            return self.stack[-2]
        return found

    def ancestors(self, node: ast.AST) -> Iterator[ast.AST]:
        current = self.parent(node)
        while current is not None:
            yield current
            current = self.parents.get(current)

    def statement_of(self, node: ast.AST) -> ast.AST:
        if isinstance(node, ast.stmt):
            return node
        for ancestor in self.ancestors(node):
            if isinstance(ancestor, ast.stmt):
                return ancestor
        for ancestor in reversed(self.stack):
            if isinstance(ancestor, ast.stmt):
                return ancestor
        return node

    # ---- source text ------------------------------------------------------------------------

    def line_text(self, line: int) -> str:
        """Line `line` (1-based) with its line break; "" past the end."""
        starts = self._starts()
        if not 0 < line <= len(starts):
            return ""
        end = starts[line] if line < len(starts) else len(self.text)
        return self.text[starts[line - 1] : end]

    def location(self, line: int, byte_column: int) -> Location:
        """A finding's position (character column) for an `ast` one (UTF-8 byte column)."""
        text = self.line_text(line)
        if text.isascii():
            return Location(line, byte_column + 1)
        return Location(line, len(text.encode("utf-8")[:byte_column].decode("utf-8", errors="replace")) + 1)

    def start(self, node: ast.AST) -> Location:
        return self.location(node.lineno, node.col_offset)  # type: ignore[attr-defined]

    def end(self, node: ast.AST) -> Location:
        return self.location(node.end_lineno, node.end_col_offset)  # type: ignore[attr-defined]

    def offset(self, location: Location) -> int:
        """The index into `text` of a position."""
        starts = self._starts()
        return starts[location.line - 1] + location.column - 1

    def segment(self, node: ast.AST) -> str:
        """The exact source text of `node` (without parentheses around it)."""
        return self.text[self.offset(self.start(node)) : self.offset(self.end(node))]

    def comments(self) -> Dict[int, str]:
        """Line -> the comment on it, for every real comment (read with `tokenize`, once)."""
        found = self.cache.get("comments")
        if found is None:
            found = self.cache["comments"] = {}
            try:
                for token in tokenize.generate_tokens(io.StringIO(self.text).readline):
                    if token.type == tokenize.COMMENT:
                        found[token.start[0]] = token.string
            except (tokenize.TokenError, SyntaxError):
                pass  # the comments read so far still count; the file parsed, so this is rare
        return found

    def _starts(self) -> Tuple[int, ...]:
        if self._line_starts is None:
            self._line_starts = line_starts(self.text)
        return self._line_starts
