"""The project's name graph (networkx): which qualified names are coroutine functions."""

from __future__ import annotations

from typing import Iterable, List

import networkx as nx

from ffscan.semantic.summary import Deferred, ModuleSummary
from ffscan.model import Finding

MAX_HOPS = 16


class ProjectIndex:
    """Qualified names as nodes; an edge from a re-exported name to what it imports."""

    def __init__(self, summaries: Iterable[ModuleSummary]) -> None:
        self.graph = nx.DiGraph()
        for summary in summaries:
            prefix = f"{summary.module}." if summary.module else ""
            for name in summary.coroutine_functions:
                self.graph.add_node(prefix + name, coroutine=True)
            for name in summary.other_names:
                self.graph.add_node(prefix + name, coroutine=False)
            for name, target in summary.reexports:
                self.graph.add_edge(prefix + name, target)

    def is_coroutine_function(self, qualified: str) -> bool:
        """Follow re-exports from `qualified` to a definition; True if it is an `async def`."""
        current, seen = qualified, set()
        for _ in range(MAX_HOPS):
            if current in seen or current not in self.graph:
                return False
            seen.add(current)
            data = self.graph.nodes[current]
            if "coroutine" in data:
                return bool(data["coroutine"])
            successors = list(self.graph.successors(current))
            if len(successors) != 1:
                return False
            current = successors[0]
        return False

    def settle(self, deferred: Iterable[Deferred]) -> List[Finding]:
        return [item.finding for item in deferred if self.is_coroutine_function(item.requires)]
