"""Analyses of the in-place schema graph: cycles and evaluation cost.

Nodes are schema locations; an edge means "evaluating this schema evaluates that one on the
same instance" ($ref, allOf, anyOf, oneOf, not, if/then/else, dependentSchemas). A cycle of such
edges never terminates (bad-inputs S02). The in-place cost of a node is how many schemas one
evaluation touches without descending into the instance; a ``$ref`` fan-out of 30 levels of
``allOf: [L(n-1), L(n-1)]`` costs 2^30 (S10), which no request may be allowed to trigger.
Identical ``$ref`` members of one ``allOf``/``anyOf`` are one edge (the compiler evaluates them
once), so that textbook case is linear.
"""

from __future__ import annotations

from collections.abc import Hashable, Mapping, Sequence
from typing import TypeVar

K = TypeVar("K", bound=Hashable)

MAX_IN_PLACE_COST = 100_000


def find_cycle(graph: Mapping[K, Sequence[K]]) -> list[K] | None:
    """A cycle as [a, b, ..., a], or None (iterative DFS, no recursion limit)."""
    state: dict[K, int] = {}  # 1 on the current path, 2 finished
    for start in graph:
        if start in state:
            continue
        path = [start]
        iters = [iter(graph.get(start, ()))]
        state[start] = 1
        while iters:
            nxt = next(iters[-1], None)
            if nxt is None:
                state[path.pop()] = 2
                iters.pop()
                continue
            mark = state.get(nxt)
            if mark == 1:
                return [*path[path.index(nxt):], nxt]
            if mark is None:
                state[nxt] = 1
                path.append(nxt)
                iters.append(iter(graph.get(nxt, ())))
    return None


def over_budget(graph: Mapping[K, Sequence[K]], budget: int = MAX_IN_PLACE_COST) -> K | None:
    """The first node whose in-place cost exceeds ``budget`` (the graph must be acyclic)."""
    cost: dict[K, int] = {}
    for start in graph:
        if start in cost:
            continue
        stack: list[tuple[K, bool]] = [(start, False)]
        while stack:
            node, expanded = stack.pop()
            if node in cost:
                continue
            successors = list(dict.fromkeys(graph.get(node, ())))
            if expanded:
                total = 1 + sum(cost[s] for s in successors)
                cost[node] = total
                if total > budget:
                    return node
                continue
            stack.append((node, True))
            stack.extend((s, False) for s in successors if s not in cost)
    return None
