"""Graphs made for you: a function stepped through on given inputs, and a model on one sample."""

from __future__ import annotations

import inspect

import numpy as np

from ..tensor import Tensor
from .graph import Graph
from .scopes import record_modules


def _input_names(fn, count):
    try:
        parameters = list(inspect.signature(fn).parameters.values())
    except (TypeError, ValueError):
        parameters = []
    names = [p.name for p in parameters if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)]
    return names[:count] + [f"x{k}" for k in range(len(names), count)]


def step_through(fn, *inputs, labels=None) -> Graph:
    """Run `fn(*inputs)` and its backward, and return the Graph whose HTML form is the step-through.

    inputs: Tensors (used as given) or numbers/arrays (made float64 tensors that require grad,
    named after fn's parameters: `step_through(lambda x, y, z: (x + y) * z, -2, 5, -4)`).
    `fn` must return a scalar Tensor (the loss); raises ValueError naming its shape otherwise.
    Save it with `g.save("steps.html")`; in Jupyter it shows itself.
    """
    names = _input_names(fn, len(inputs))
    tensors = []
    for name, value in zip(names, inputs):
        if isinstance(value, Tensor):
            tensors.append(value)
            continue
        t = Tensor(np.asarray(value, dtype=np.float64), requires_grad=True)
        t.name = name
        tensors.append(t)
    with record_modules():
        output = fn(*tensors)
    if not isinstance(output, Tensor) or output.size != 1:
        shape = output.shape if isinstance(output, Tensor) else type(output).__name__
        raise ValueError(f"step_through needs fn to return a scalar Tensor (the loss); it returned {shape}: "
                         f"reduce it with .sum() or .mean()")
    graph = Graph(output, labels=labels)
    output.backward()
    graph.step_through_default = True
    return graph


def model_graph(model, x, target=None, *, loss=None) -> Graph:
    """The graph of `model(x)` (and of `loss(model(x), target)` with its gradients when a target is
    given), collapsed by module; each box opens in the HTML form.

    x: (1, ...) one sample with its batch axis (an array, made a tensor that requires grad so its
    gradient shows, or a Tensor used as given); target: its class index
    (int) or None; loss: a loss Module (default nn.CrossEntropyLoss()).
    """
    from ..nn import CrossEntropyLoss

    if not isinstance(x, Tensor):  # the input's own gradient (dL/dx, a saliency map) is worth seeing too
        x = np.asarray(x)
        x = Tensor(x if x.dtype.kind == "f" else x.astype(np.float32), requires_grad=True)
    x.name = getattr(x, "name", None) or "x"
    with record_modules():
        output = model(x)
        if target is not None:
            y = Tensor(np.atleast_1d(np.asarray(target)))
            y.name = "target"
            output = (loss or CrossEntropyLoss())(output, y)
    graph = Graph(output, collapse="modules", labels=model)
    if target is not None:
        loss_op = graph.ops[graph.values[graph.root].producer]
        if len(loss_op.inputs) > 1 and not graph.values[loss_op.inputs[1]].label:
            graph.values[loss_op.inputs[1]].label = "target"  # the loss made its own tensor of y
        output.backward()
    return graph


def model_graph_html(model, sample) -> str:
    """An HTML fragment with the model's collapsed graph as inline SVG, for report.html.

    sample: x of shape (1, ...) or a pair (x, target); with a target the boxes show gradients too.
    The model's parameters' `.grad` are left as they were.
    """
    from .page import fragment

    x, target = sample if isinstance(sample, tuple) else (sample, None)
    saved = [(p, p.grad) for p in model.parameters()]
    for p, _ in saved:
        p.grad = None
    try:
        return fragment(model_graph(model, x, target))
    finally:
        for p, grad in saved:
            p.grad = grad
