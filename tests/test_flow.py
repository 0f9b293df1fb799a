"""Value flow helpers: where a name is declared global or nonlocal."""

from __future__ import annotations

import ast
import textwrap

import pytest

from ffscan.semantic.flow import is_declared_global

# `global x` / `nonlocal x` in every place a statement can stand inside a function.
DECLARED = {
    "top": "global x",
    "if": "if ready:\n    pass\nelse:\n    global x",
    "while": "while ready:\n    global x",
    "for-else": "for item in items:\n    pass\nelse:\n    global x",
    "async-for": "async for item in items:\n    global x",
    "with": "with lock:\n    global x",
    "async-with": "async with lock:\n    global x",
    "try": "try:\n    global x\nexcept OSError:\n    pass",
    "except": "try:\n    pass\nexcept OSError:\n    global x",
    "try-else": "try:\n    pass\nexcept OSError:\n    pass\nelse:\n    global x",
    "finally": "try:\n    pass\nfinally:\n    global x",
    "match": "match value:\n    case 1:\n        global x",
    "nested-def": "def inner():\n    global x",
    "nested-async-def": "async def inner():\n    global x",
    "nested-class": "class Inner:\n    def method(self):\n        global x",
    "nonlocal": "def inner():\n    nonlocal x",
    "deep": "if a:\n    for b in c:\n        with d:\n            try:\n                pass\n            except E:\n                if f:\n                    global x",
}


def _function(body: str) -> ast.AST:
    text = "async def handler(ready, items, lock, value, a, c, d, f):\n" + textwrap.indent(body, "    ") + "\n"
    return ast.parse(text).body[0]


@pytest.mark.parametrize("where", sorted(DECLARED))
def test_a_declaration_anywhere_in_the_body_counts(where):
    function = _function(DECLARED[where])
    assert (is_declared_global(function, "x"), is_declared_global(function, "y")) == (True, False)


def test_names_only_spoken_of_in_expressions_are_not_declared():
    function = _function('x = [global_ for global_ in "global x"]\nf(lambda: x)')
    assert is_declared_global(function, "x") is False
