"""Backpropagation on the lecture's worked examples: the engine's gradients against the hand-derived ones."""

from __future__ import annotations

import numpy as np

from ..atomic import write_bytes_atomic
from ..viz.examples import EXAMPLES
from .base import Part, Verdict, experiment


@experiment("backprop", "Backpropagation is the chain rule applied gate by gate: on the lecture's worked examples "
                        "((x + y)·z, the sigmoid neuron, the add/mul/max patterns, a fan-out, the two-layer net) "
                        "the engine's gradients equal the ones derived by hand.")
def backprop(ctx):
    """Run each worked example through the engine, compare with the hand-derived gradients, write its
    drawing (SVG) and step-through (HTML). One part per example: it holds when every engine number
    equals the hand-derived one to the example's decimals."""
    measured, parts = {}, []
    for name, example in EXAMPLES.items():
        graph = example.run()
        got = example.measured(graph)
        match = example.matches(graph)
        measured[name] = {"engine": got, "by_hand": example.expected, "decimals": example.decimals, "match": match}
        ctx.save_file(f"{name}.svg", graph.svg().encode("utf-8"),
                      f"{example.title}: every value and gradient the engine computed, gate by gate.")
        write_bytes_atomic(ctx.out_dir / f"{name}.html", graph.html(step_through=True).encode("utf-8"))
        parts.append(Part(f"the engine's gradients on {name} equal the hand-derived ones", match,
                          _numbers(name, got, example.decimals),
                          f"the engine gave {_rounded(got, example.decimals)} where the lecture derives "
                          f"{example.expected}"))
    measured["step_through_pages"] = [f"{name}.html" for name in EXAMPLES]
    matched = sum(m["match"] for k, m in measured.items() if k in EXAMPLES)
    return Verdict(parts, measured, key_number=f"{matched} of {len(EXAMPLES)} examples match")


def _rounded(values, decimals):
    return {k: np.round(np.asarray(v, dtype=np.float64), decimals).tolist() for k, v in values.items()}


def _numbers(name, got, decimals):
    """The numbers a learner checks by hand: the sigmoid neuron's as the lecture writes them."""
    if name == "sigmoid-neuron":
        return (f"dw = [{got['w0']:.2f}, {got['w1']:.2f}, {got['w2']:.2f}], "
                f"dx = [{got['x0']:.2f}, {got['x1']:.2f}]")
    return ", ".join(f"d{k} = {v}" if k != "output" else f"output = {v}"
                     for k, v in _rounded(got, decimals).items())
