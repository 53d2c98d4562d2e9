"""Layout speed of nnscratch.viz: the issue's target is a 200-node graph laid out in under 1 s.

Measures, median of five runs each: (1) `viz.layout.layout` alone on a random 200-node DAG whose
nodes have up to two inputs (a harder ordering problem than a network's graph); (2) the whole
drawing, `Graph.svg()`, of a real engine graph of 200+ nodes (a small network unrolled over
steps: matmuls, tanh, fan-out into a sum), with its values and gradients.

    PYTHONPATH=src python benchmarks/viz_layout.py
"""

import statistics
import time

import numpy as np

from nnscratch import Tensor, viz
from nnscratch.functional import tanh
from nnscratch.viz.layout import layout

TARGET_SECONDS = 1.0
RUNS = 5


def random_dag(n, rng):
    sizes = {f"n{i}": (float(rng.integers(40, 200)), float(rng.integers(20, 80))) for i in range(n)}
    edges = [(f"n{j}", f"n{i}") for i in range(1, n) for j in rng.choice(i, size=min(i, 2), replace=False)]
    return sizes, edges


def engine_graph(rng):
    w = Tensor(rng.standard_normal((3, 3)), requires_grad=True)
    h = Tensor(rng.standard_normal((1, 3)), requires_grad=True)
    total = None
    for _ in range(18):  # each step: matmul, tanh, a mul by a constant, and the running sum: 5 nodes or more
        h = tanh(h @ w) * 0.9
        total = h.sum() if total is None else total + h.sum()
    return total


def median_seconds(fn):
    times = []
    for _ in range(RUNS):
        started = time.perf_counter()
        fn()
        times.append(time.perf_counter() - started)
    return statistics.median(times), min(times), max(times)


def report(what, n, seconds):
    median, low, high = seconds
    verdict = "met" if median < TARGET_SECONDS else "NOT met"
    print(f"{what}, {n} nodes: median {median * 1000:.0f} ms (range {low * 1000:.0f}-{high * 1000:.0f} ms); "
          f"target < {TARGET_SECONDS:.0f} s {verdict}")


def main():
    rng = np.random.default_rng(0)
    sizes, edges = random_dag(200, rng)
    report("layout of a random DAG", len(sizes), median_seconds(lambda: layout(sizes, edges)))
    output = engine_graph(rng)
    graph = viz.graph(output)
    output.backward()
    report("Graph.svg() of an engine graph", len(graph.values) + len(graph.ops), median_seconds(graph.svg))


if __name__ == "__main__":
    main()
