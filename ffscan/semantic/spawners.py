"""Project functions that are spawn APIs: which start a task from a parameter, and what they
do with it (`ffscan spawners` shows them, with the evidence).

A function is a spawner of its parameter `p` when it hands `p` (or `p(...)`) to a spawn API
of the standard library (`asyncio.create_task`, a loop's `create_task`), to a task group, or
to another project function that is a spawner of that argument. What it does with the task:

- "drops":   nothing keeps it (the task can vanish; FF201 reports it there);
- "returns": it hands the task back, unkept: each caller must keep it (FF201 reports callers
             that drop it);
- "keeps":   it keeps the task (a set of running tasks, a task group, an attribute): its
             callers need not.

Helpers calling helpers are settled in dependency order over a graph of (function, parameter)
nodes; a cycle of helpers is left undecided.
"""

from __future__ import annotations

from typing import Dict, List, NamedTuple, Optional, Tuple

from ffscan.semantic.index import ProjectIndex

Node = Tuple[str, str]  # (function, parameter)


class Spawner(NamedTuple):
    function: str  # qualified name
    param: str
    behaviour: str  # "drops", "returns" or "keeps"
    path: str  # the file that defines the function
    line: int  # the line of the hand-off that decides it
    via: str  # what the parameter is handed to: `asyncio.create_task`, or another helper
    configured: bool = False  # named in `tracked-spawners`


# What the task becomes when the function hands it to an API that `behaves` so, with the
# call's result `fate` ("dropped", "returned", "kept").
def _compose(behaves: str, fate: str) -> str:
    if behaves in ("drops", "keeps"):
        return behaves
    return {"dropped": "drops", "returned": "returns"}.get(fate, "keeps")


def infer_spawners(index: ProjectIndex, tracked: Tuple[str, ...] = ()) -> List[Spawner]:
    """Every project function inferred to spawn a task from a parameter."""
    import networkx as nx  # only here: the graph of helpers calling helpers

    graph = nx.DiGraph()
    direct: Dict[Node, Tuple[str, int, str]] = {}  # node -> (behaviour, line, via)
    edges: Dict[Tuple[Node, Node], Tuple[str, int, str]] = {}  # (caller, callee) -> (fate, line, via)
    for name, facts in index.functions.items():
        for handoff in facts.handoffs:
            node = (name, handoff.param)
            values = index.evaluate(handoff.callee)
            if len(values) != 1:
                continue
            value = values[0]
            api = _spawn_api(index, value, handoff.position)
            if api is not None:
                behaviour = _compose(api[0], handoff.fate)
                if behaviour == "keeps" and _returns_unkept_task(index, name):
                    behaviour = "returns"  # bound to a local, then handed back unkept
                direct.setdefault(node, (behaviour, handoff.line, api[1]))
                graph.add_node(node)
            elif value.kind == "function" and value.name in index.functions and not value.bound:
                callee = index.functions[value.name]
                if handoff.position < len(callee.params):
                    target = (value.name, callee.params[handoff.position])
                    graph.add_edge(node, target)
                    edges[(node, target)] = (handoff.fate, handoff.line, value.name.rsplit(".", 1)[-1])
    decided: Dict[Node, Tuple[str, int, str]] = dict(direct)
    condensed = nx.condensation(graph)
    for component in reversed(list(nx.topological_sort(condensed))):
        members = condensed.nodes[component]["members"]
        if len(members) > 1:
            continue  # helpers calling each other in a cycle: undecided
        (node,) = members
        if node in decided:
            continue
        outcomes = [
            (_compose(decided[target][0], edges[(node, target)][0]), edges[(node, target)][1], edges[(node, target)][2])
            for target in graph.successors(node)
            if target in decided
        ]
        if outcomes and len({o[0] for o in outcomes}) == 1:
            decided[node] = outcomes[0]
    found = []
    for (function, param), (behaviour, line, via) in sorted(decided.items()):
        module = index.modules.get(index.module_of(function))
        configured = function in tracked
        found.append(
            Spawner(function, param, "keeps" if configured else behaviour, module.path if module else "", line, via, configured)
        )
    return found


def _returns_unkept_task(index: ProjectIndex, function: str) -> bool:
    result = index.call_result(function)
    return bool(result) and all(v.kind == "task" for v in result)


def _spawn_api(index: ProjectIndex, value, position: int) -> Optional[Tuple[str, str]]:
    """(behaviour, name) when `value` is a spawn API of the standard library taking the
    coroutine at `position`: "returns" for create_task/ensure_future, "keeps" for a task group."""
    if position != 0:
        return None
    if value.kind == "external" and value.name in _RETURNING:
        return "returns", value.name
    if value.kind == "external-method" and value.items and value.items[0] in ("spawns-task", "tracked-spawn"):
        return ("returns" if value.items[0] == "spawns-task" else "keeps"), value.name
    return None


_RETURNING = frozenset({"asyncio.create_task", "asyncio.ensure_future", "asyncio.tasks.create_task", "asyncio.tasks.ensure_future"})
