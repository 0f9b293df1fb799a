"""The import contract: each part of ffscan imports only the parts below it (see STYLE.md).

    cli -> engine -> rules -> semantic -> model
    fix/ and report/ see model objects; runtime/ stands alone (standard library only).

Every import counts, including ones inside functions and under `TYPE_CHECKING`.
"""

from __future__ import annotations

import ast
from typing import Dict, Set, Tuple

import networkx as nx
import pytest

from helpers import ROOT

PACKAGE = ROOT / "ffscan"

# part -> the parts it may import (besides itself)
ALLOWED: Dict[str, Set[str]] = {
    "model": set(),
    "config": {"runtime"},  # runtime: its own parser of [tool.ffscan.queues], one definition
    "runtime": set(),
    "semantic": {"model", "config", "version"},  # version: the key of cached library summaries
    "rules": {"semantic", "model", "config"},
    "report": {"model", "runtime"},  # runtime: the journal rows `ffscan jobs` shows
    "fix": {"model", "runtime"},
    "engine": {"rules", "semantic", "model", "config", "fix"},
    "server": {"engine", "rules", "report", "fix", "model", "config"},
    "cli": {"engine", "rules", "report", "fix", "model", "config", "server", "runtime", "version"},
    "main": {"cli"},
    "version": set(),
}
# Third-party libraries and the only parts that may import them.
THIRD_PARTY = {
    "libcst": {"fix"},
    "rich": {"report"},
    "networkx": {"semantic"},
    "pathspec": {"engine"},
    "pygls": {"server"},
    "lsprotocol": {"server"},
}


def part_of(module: str) -> str:
    """`ffscan.engine.runner` -> `engine`; top-level modules are parts of their own."""
    parts = [p for p in module.split(".") if p != "__init__"]
    if len(parts) == 1:
        return "version"  # ffscan/__init__.py holds only the version
    name = parts[1]
    return {"__main__": "main"}.get(name, name)


def imports_of(path) -> Set[Tuple[str, int]]:
    """(absolute module imported, line) for every import in the file, wherever it stands."""
    module = ".".join(path.relative_to(ROOT).with_suffix("").parts)
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found.update((alias.name, node.lineno) for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")[: len(package.split(".")) - node.level + 1]
                target = ".".join(base + ([node.module] if node.module else []))
            else:
                target = node.module or ""
            found.add((target, node.lineno))
    return found


def module_graph() -> Tuple[nx.DiGraph, list]:
    graph = nx.DiGraph()
    violations = []
    for path in sorted(PACKAGE.rglob("*.py")):
        module = ".".join(path.relative_to(ROOT).with_suffix("").parts)
        source = part_of(module)
        graph.add_node(source)
        for target, line in imports_of(path):
            where = f"{path.relative_to(ROOT)}:{line}"
            top = target.split(".")[0]
            if top == "ffscan":
                destination = part_of(target) if target != "ffscan" else "version"
                if destination == "version":
                    continue  # `from ffscan import __version__`: a constant anyone may read
                if destination != source:
                    graph.add_edge(source, destination)
                    if destination not in ALLOWED.get(source, set()):
                        violations.append(f"{where}: {source} imports {destination} ({target})")
            elif top in THIRD_PARTY and source not in THIRD_PARTY[top]:
                violations.append(f"{where}: {source} imports {top}")
    return graph, violations


def test_every_import_follows_the_contract():
    _, violations = module_graph()
    assert violations == []


def test_no_cycle_between_parts():
    graph, _ = module_graph()
    assert list(nx.simple_cycles(graph)) == []


def test_every_part_is_named_in_the_contract():
    graph, _ = module_graph()
    assert set(graph.nodes) <= set(ALLOWED)


@pytest.mark.parametrize(
    "source, target, expected",
    [
        ("ffscan/rules/ff201_dangling_task.py", "ffscan.fix.apply", "rules imports fix"),
        ("ffscan/semantic/names.py", "ffscan.rules", "semantic imports rules"),
        ("ffscan/report/text.py", "ffscan.engine", "report imports engine"),
    ],
)
def test_a_forbidden_import_is_caught(tmp_path, monkeypatch, source, target, expected):
    # The checker itself can fail: plant one forbidden import and see it reported.
    original = imports_of

    def planted(path):
        found = original(path)
        if path == ROOT / source:
            found = found | {(target, 1)}
        return found

    monkeypatch.setattr(__import__(__name__), "imports_of", planted)
    _, violations = module_graph()
    assert violations == [f"{source}:1: {expected} ({target})"]
