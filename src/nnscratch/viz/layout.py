"""A layered (Sugiyama-style) layout, left to right, in pure Python: no Graphviz binary.

Sugiyama, Tagawa and Toda (1981), "Methods for visual understanding of hierarchical system
structures", in its simplest sound form:

1. layers: each node one column right of its furthest input (longest path); a source sits
   just left of its first consumer, so a weight is drawn beside the op that uses it;
2. edges longer than one column get a dummy node per column crossed;
3. order within a column: barycenter sweeps, right then left, keeping the best order found
   (fewest crossings);
4. coordinates: columns as wide as their widest node; in each column nodes are pulled toward
   the mean height of their neighbours, then pushed apart so none overlap.

A computational graph is acyclic, so no cycle breaking is needed.
"""

from __future__ import annotations

from dataclasses import dataclass

COLUMN_GAP = 48
ROW_GAP = 16
SWEEPS = 8
MARGIN = 12


@dataclass
class Placed:
    """Node positions (centres) and each edge's route as a list of points, with the drawing's size."""

    centers: dict
    routes: dict  # (source, target) -> [(x, y), ...]
    width: float
    height: float


def layout(sizes, edges):
    """Lay out nodes `sizes: {id: (width, height)}` joined by `edges: [(source, target), ...]`.

    The order of `sizes` is kept where nothing better is known (a forward order reads best).
    Returns a `Placed`. Raises ValueError naming the node when an edge names one not in `sizes`.
    """
    for s, t in edges:
        for end in (s, t):
            if end not in sizes:
                raise ValueError(f"layout: edge {s!r} -> {t!r} names a node {end!r} that has no size")
    layer = _layers(list(sizes), edges)
    nodes, links, chains = _with_dummies(sizes, edges, layer)
    columns = _order(nodes, links, layer)
    return _coordinates(columns, nodes, links, chains, edges)


def _layers(ids, edges):
    preds = {n: [] for n in ids}
    succs = {n: [] for n in ids}
    for s, t in edges:
        preds[t].append(s)
        succs[s].append(t)
    layer, pending = {}, {n: len(preds[n]) for n in ids}
    ready = [n for n in ids if pending[n] == 0]
    order = []
    while ready:
        n = ready.pop()
        order.append(n)
        layer[n] = max((layer[p] + 1 for p in preds[n]), default=0)
        for s in succs[n]:
            pending[s] -= 1
            if pending[s] == 0:
                ready.append(s)
    if len(order) != len(ids):
        raise ValueError("layout: the graph has a cycle; a computational graph never does")
    for n in reversed(order):  # sources move right, next to their first consumer
        if not preds[n] and succs[n]:
            layer[n] = min(layer[s] for s in succs[n]) - 1
    return layer


def _with_dummies(sizes, edges, layer):
    nodes = {n: {"size": sizes[n], "layer": layer[n]} for n in sizes}
    links, chains = [], {}
    for s, t in edges:
        chain = [s]
        for k in range(layer[s] + 1, layer[t]):
            dummy = ("dummy", s, t, k)
            nodes[dummy] = {"size": (0, 0), "layer": k}
            chain.append(dummy)
        chain.append(t)
        chains[(s, t)] = chain
        links.extend(zip(chain[:-1], chain[1:]))
    return nodes, links, chains


def _order(nodes, links, layer_of):
    low = min(n["layer"] for n in nodes.values())
    depth = max(n["layer"] for n in nodes.values()) - low + 1
    columns = [[] for _ in range(depth)]
    for n, info in nodes.items():  # dicts keep insertion order: the caller's order first
        columns[info["layer"] - low].append(n)
    preds = {n: [] for n in nodes}
    succs = {n: [] for n in nodes}
    for s, t in links:
        preds[t].append(s)
        succs[s].append(t)
    best, best_crossings = [list(c) for c in columns], _crossings(columns, succs)
    for sweep in range(SWEEPS):
        forward = sweep % 2 == 0
        indices = range(1, depth) if forward else range(depth - 2, -1, -1)
        for i in indices:
            fixed = {n: k for k, n in enumerate(columns[i - 1 if forward else i + 1])}
            neighbours = preds if forward else succs
            columns[i] = _by_barycenter(columns[i], neighbours, fixed)
        crossings = _crossings(columns, succs)
        if crossings < best_crossings:
            best, best_crossings = [list(c) for c in columns], crossings
    return best


def _by_barycenter(column, neighbours, fixed):
    def key(item):
        k, n = item
        places = [fixed[m] for m in neighbours[n] if m in fixed]
        return (sum(places) / len(places) if places else k * len(fixed) / max(len(column), 1), k)

    return [n for _, n in sorted(enumerate(column), key=key)]


def _crossings(columns, succs):
    total = 0
    for left, right in zip(columns[:-1], columns[1:]):
        place = {n: k for k, n in enumerate(right)}
        ends = [place[t] for n in left for t in sorted(succs[n], key=place.get) if t in place]
        total += _inversions(ends)
    return total


def _inversions(seq):
    """Pairs out of order in `seq` (edge crossings between two columns), by merge sort: O(n log n)."""
    count, width, items = 0, 1, list(seq)
    while width < len(items):
        merged = []
        for lo in range(0, len(items), 2 * width):
            left, right = items[lo:lo + width], items[lo + width:lo + 2 * width]
            i = j = 0
            while i < len(left) and j < len(right):
                if right[j] < left[i]:
                    merged.append(right[j])
                    count += len(left) - i  # right[j] crosses every edge still waiting on the left
                    j += 1
                else:
                    merged.append(left[i])
                    i += 1
            merged.extend(left[i:])
            merged.extend(right[j:])
        items, width = merged, 2 * width
    return count


def _coordinates(columns, nodes, links, chains, edges):
    xs, x = [], MARGIN
    for column in columns:
        width = max((nodes[n]["size"][0] for n in column), default=0)
        xs.append(x + width / 2)
        x += width + COLUMN_GAP
    neighbours = {n: [] for n in nodes}
    for s, t in links:
        neighbours[s].append(t)
        neighbours[t].append(s)
    y = {}
    for column in columns:
        _stack(column, nodes, y, {n: 0.0 for n in column})
    for _ in range(6):  # pull each node toward its neighbours, keeping the column's order and gaps
        for column in columns:
            wanted = {n: sum(y[m] for m in neighbours[n]) / len(neighbours[n]) if neighbours[n] else y[n]
                      for n in column}
            _stack(column, nodes, y, wanted)
    top = min(y[n] - nodes[n]["size"][1] / 2 for n in nodes)
    centers = {}
    for k, column in enumerate(columns):
        for n in column:
            y[n] += MARGIN - top
            if not isinstance(n, tuple) or n[:1] != ("dummy",):
                centers[n] = (xs[k], y[n])
    positions = {n: (xs[k], y[n]) for k, column in enumerate(columns) for n in column}
    routes = {e: [positions[n] for n in chains[e]] for e in edges}
    height = max(y[n] + nodes[n]["size"][1] / 2 for n in nodes) + MARGIN
    return Placed(centers, routes, x - COLUMN_GAP + MARGIN, height)


def _stack(column, nodes, y, wanted):
    """Place `column` as near `wanted` as its order and the gaps allow: a push down, then a push up,
    averaged, so a crowded column spreads evenly around where its nodes want to be."""
    half = [nodes[n]["size"][1] / 2 for n in column]
    down, last = [], None
    for k, n in enumerate(column):
        position = wanted[n] if last is None else max(wanted[n], last + half[k - 1] + ROW_GAP + half[k])
        down.append(position)
        last = position
    up, last = [0.0] * len(column), None
    for k in range(len(column) - 1, -1, -1):
        position = wanted[column[k]] if last is None else min(wanted[column[k]], last - half[k + 1] - ROW_GAP - half[k])
        up[k] = position
        last = position
    for k, n in enumerate(column):
        y[n] = (down[k] + up[k]) / 2
