"""The lecture's worked examples of backpropagation, each with the gradients derived by hand.

CS231n lecture 4 ("Backpropagation and neural networks"): `(x + y)·z`, the sigmoid neuron drawn
gate by gate, the gradient-flow patterns (add distributes, mul swaps, max routes), a variable
used twice (a copy sums), and the two-layer network trained in twenty lines of NumPy.

    ex = viz.examples.EXAMPLES["add-mul"]
    g = ex.run()                 # the engine's forward and backward, captured
    g.save("add-mul.html", step_through=True)
    ex.expected                  # {"x": -4, "y": -4, "z": 3}: the lecture's numbers
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..functional import sigmoid
from ..ops import maximum
from ..tensor import Tensor
from .graph import Graph


@dataclass
class Example:
    """A worked example: `build()` returns (output, {name: tensor}); `expected` holds the hand-derived
    gradients (and "output", the forward value) that the engine's must match to `decimals`."""

    name: str
    title: str
    build: callable
    expected: dict
    decimals: int

    def run(self) -> Graph:
        """Build the example, capture its graph, run the engine's backward; the Graph steps through."""
        output, tensors = self.build()
        graph = Graph(output)
        output.backward()
        graph.step_through_default = True
        graph.tensors = tensors
        return graph

    def measured(self, graph):
        """{name: the engine's gradient (a float or list)} and "output", for comparison with `expected`."""
        out = {"output": float(graph.output.data)}
        for name in self.expected:
            if name != "output":
                grad = graph.tensors[name].grad
                out[name] = float(grad) if np.size(grad) == 1 else np.asarray(grad).tolist()
        return out

    def matches(self, graph):
        """True when every engine number equals the hand-derived one to `decimals` places."""
        got = self.measured(graph)
        return all(np.allclose(np.round(np.asarray(got[k], dtype=np.float64), self.decimals),
                               np.asarray(v, dtype=np.float64), atol=10.0 ** -self.decimals / 2)
                   for k, v in self.expected.items())


def _leaf(value, name):
    t = Tensor(np.asarray(value, dtype=np.float64), requires_grad=True)
    t.name = name
    return t


def _named(t, name):
    t.name = name
    return t


def add_mul():
    """f(x, y, z) = (x + y)·z at x = -2, y = 5, z = -4: q = x + y = 3, f = q·z = -12."""
    x, y, z = _leaf(-2.0, "x"), _leaf(5.0, "y"), _leaf(-4.0, "z")
    q = _named(x + y, "q")
    return _named(q * z, "f"), {"x": x, "y": y, "z": z}


def sigmoid_neuron():
    """f = 1 / (1 + exp(-(w0·x0 + w1·x1 + w2))) at w = [2, -3, -3], x = [-1, -2], gate by gate."""
    w0, x0, w1, x1, w2 = (_leaf(v, n) for v, n in [(2, "w0"), (-1, "x0"), (-3, "w1"), (-2, "x1"), (-3, "w2")])
    dot = _named(w0 * x0 + w1 * x1 + w2, "s")
    e = _named((-dot).exp(), "e")
    return _named(1.0 / (1.0 + e), "f"), {"w0": w0, "w1": w1, "w2": w2, "x0": x0, "x1": x1}


def gate_patterns():
    """f = 2·(x·y + max(z, w)) at x = 3, y = -4, z = 2, w = -1: add distributes, mul swaps, max routes."""
    x, y, z, w = _leaf(3.0, "x"), _leaf(-4.0, "y"), _leaf(2.0, "z"), _leaf(-1.0, "w")
    m = _named(maximum(z, w), "m")
    s = _named(x * y + m, "s")
    return _named(2.0 * s, "f"), {"x": x, "y": y, "z": z, "w": w}


def fan_out():
    """f = x·y + x at x = 3, y = -4: x is used twice, so df/dx = y + 1 = -3, the sum of both uses."""
    x, y = _leaf(3.0, "x"), _leaf(-4.0, "y")
    p = _named(x * y, "p")
    return _named(p + x, "f"), {"x": x, "y": y}


TWO_LAYER_SEED = 0


def _two_layer_arrays():
    rng = np.random.default_rng(TWO_LAYER_SEED)
    x, y = rng.standard_normal((1, 2)), rng.standard_normal((1, 2))
    w1, w2 = rng.standard_normal((2, 3)), rng.standard_normal((3, 2))
    return x, y, w1, w2


def two_layer_net():
    """The lecture's two-layer network on one sample: h = sigmoid(x @ w1), y_pred = h @ w2,
    loss = sum((y_pred - y)²); x: (1, 2), w1: (2, 3), w2: (3, 2), drawn from default_rng(0)."""
    x, y, w1, w2 = _two_layer_arrays()
    x, y = _named(Tensor(x), "x"), _named(Tensor(y), "y")
    w1, w2 = _leaf(w1, "w1"), _leaf(w2, "w2")
    h = _named(sigmoid(x @ w1), "h")
    y_pred = _named(h @ w2, "y_pred")
    loss = _named(((y_pred - y) ** 2).sum(), "loss")
    return loss, {"w1": w1, "w2": w2}


def two_layer_by_hand():
    """The lecture's hand-written backward of `two_layer_net`, in NumPy (CS231n lecture 4)."""
    x, y, w1, w2 = _two_layer_arrays()
    h = 1 / (1 + np.exp(-x.dot(w1)))
    y_pred = h.dot(w2)
    loss = np.square(y_pred - y).sum()
    grad_y_pred = 2.0 * (y_pred - y)
    grad_w2 = h.T.dot(grad_y_pred)
    grad_h = grad_y_pred.dot(w2.T)
    grad_w1 = x.T.dot(grad_h * h * (1 - h))
    return {"output": loss, "w1": grad_w1.tolist(), "w2": grad_w2.tolist()}


EXAMPLES = {
    "add-mul": Example("add-mul", "f(x, y, z) = (x + y)·z at x = -2, y = 5, z = -4", add_mul,
                       {"output": -12, "x": -4, "y": -4, "z": 3}, 6),
    "sigmoid-neuron": Example("sigmoid-neuron", "the sigmoid neuron 1 / (1 + exp(-(w0·x0 + w1·x1 + w2))) "
                              "at w = [2, -3, -3], x = [-1, -2]", sigmoid_neuron,
                              {"output": 0.73, "w0": -0.20, "w1": -0.39, "w2": 0.20, "x0": 0.39, "x1": -0.59}, 2),
    "gate-patterns": Example("gate-patterns", "f = 2·(x·y + max(z, w)) at x = 3, y = -4, z = 2, w = -1: "
                             "add distributes, mul swaps, max routes", gate_patterns,
                             {"output": -20, "x": -8, "y": 6, "z": 2, "w": 0}, 6),
    "fan-out": Example("fan-out", "f = x·y + x at x = 3, y = -4: a variable used twice gets the sum", fan_out,
                       {"output": -9, "x": -3, "y": 3}, 6),
    "two-layer-net": Example("two-layer-net", "the lecture's two-layer network (sigmoid hidden layer, squared "
                             "error) on one sample", two_layer_net, two_layer_by_hand(), 6),
}
