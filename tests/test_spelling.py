"""How messages spell code: the quick spelling of names and attributes is unparse's."""

from __future__ import annotations

import ast

from ffscan.semantic.spelling import spelled
from helpers import FIXTURES


def test_names_and_attributes_are_spelled_as_unparse_spells_them():
    different = []
    for path in sorted(FIXTURES.rglob("*.py")):
        try:
            tree = ast.parse(path.read_bytes())
        except (SyntaxError, ValueError, RecursionError, MemoryError):
            continue  # the fixtures that do not parse, on purpose
        for node in ast.walk(tree):
            if isinstance(node, (ast.Name, ast.Attribute)) and spelled(node, limit=1000) != ast.unparse(node):
                different.append((path.name, node.lineno, ast.unparse(node)))
    assert different == []


def test_a_long_dotted_name_is_cut_as_any_expression_is():
    chain = ast.parse("alpha.beta.gamma.delta.epsilon.zeta.eta.theta", mode="eval").body
    assert (spelled(chain), spelled(chain, too_long="a long chain")) == ("alpha.beta.gamma.delta.epsilon.zeta.e...", "a long chain")


def test_an_attribute_of_a_number_keeps_the_space_unparse_writes():
    node = ast.parse("(1).real", mode="eval").body
    assert spelled(node) == "1 .real"
