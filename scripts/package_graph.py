"""Print the import graph between unionaid's top-level packages and its strongly connected
components (a component of more than one package is a cycle). Tests are left out: they may
import anything. Uses grimp, the graph library behind import-linter.

    .venv/bin/python scripts/package_graph.py          # components, one line each
    .venv/bin/python scripts/package_graph.py --edges  # every package → package edge, counted
"""

from __future__ import annotations

import sys
from collections import defaultdict

import grimp


def package_edges() -> dict[tuple[str, str], int]:
    graph = grimp.build_graph("unionaid")
    edges: dict[tuple[str, str], int] = defaultdict(int)
    for importer in graph.modules:
        if ".tests" in importer or ".migrations" in importer:
            continue
        source = importer.split(".")[1] if "." in importer else importer
        for imported in graph.find_modules_directly_imported_by(importer):
            parts = imported.split(".")
            if len(parts) < 2 or parts[0] != "unionaid":
                continue
            if parts[1] != source:
                edges[(source, parts[1])] += 1
    return edges


def components(nodes: set[str], edges: dict[tuple[str, str], int]) -> list[list[str]]:
    """Tarjan's strongly connected components."""
    adjacent: dict[str, set[str]] = defaultdict(set)
    for a, b in edges:
        adjacent[a].add(b)
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for nxt in adjacent[node]:
            if nxt not in index:
                visit(nxt)
                low[node] = min(low[node], low[nxt])
            elif nxt in on_stack:
                low[node] = min(low[node], index[nxt])
        if low[node] == index[node]:
            part = []
            while True:
                top = stack.pop()
                on_stack.discard(top)
                part.append(top)
                if top == node:
                    break
            found.append(sorted(part))

    for node in sorted(nodes):
        if node not in index:
            visit(node)
    return found


def main() -> int:
    sys.setrecursionlimit(10_000)
    edges = package_edges()
    nodes = {a for a, _ in edges} | {b for _, b in edges}
    if "--edges" in sys.argv:
        for (a, b), count in sorted(edges.items()):
            print(f"{a} -> {b}  ({count})")
        return 0
    parts = components(nodes, edges)
    cycles = [p for p in parts if len(p) > 1]
    for part in sorted(parts):
        print(" ".join(part))
    print(f"{len(parts)} components, {len(cycles)} with a cycle")
    return 1 if cycles else 0


if __name__ == "__main__":
    raise SystemExit(main())
