"""Backpropagation on the lecture's worked examples: the engine's gradients against the hand-derived ones."""

from __future__ import annotations

from ..atomic import write_bytes_atomic
from ..viz.examples import EXAMPLES
from .base import Verdict, experiment


@experiment("backprop", "Backpropagation is the chain rule applied gate by gate: on the lecture's worked examples "
                        "((x + y)·z, the sigmoid neuron, the add/mul/max patterns, a fan-out, the two-layer net) "
                        "the engine's gradients equal the ones derived by hand.")
def backprop(ctx):
    """Run each worked example through the engine, compare with the hand-derived gradients, write its
    drawing (SVG) and step-through (HTML); supported when every example matches."""
    measured, failures, pages = {}, [], []
    for name, example in EXAMPLES.items():
        graph = example.run()
        got = example.measured(graph)
        measured[name] = {"engine": got, "by_hand": example.expected, "decimals": example.decimals,
                          "match": example.matches(graph)}
        if not measured[name]["match"]:
            failures.append(name)
        write_bytes_atomic(ctx.out_dir / f"{name}.html", graph.html(step_through=True).encode("utf-8"))
        write_bytes_atomic(ctx.out_dir / f"{name}.svg", graph.svg().encode("utf-8"))
        ctx.figures.append(f"{name}.svg")
        pages.append(f"{name}.html")
    measured["step_through_pages"] = pages
    neuron = measured["sigmoid-neuron"]["engine"]
    reason = (f"{len(EXAMPLES) - len(failures)} of {len(EXAMPLES)} worked examples match the hand-derived gradients "
              f"(sigmoid neuron: dw = [{neuron['w0']:.2f}, {neuron['w1']:.2f}, {neuron['w2']:.2f}], "
              f"dx = [{neuron['x0']:.2f}, {neuron['x1']:.2f}])")
    if failures:
        reason += f"; differ: {', '.join(failures)}"
    return Verdict(not failures, reason, measured)
