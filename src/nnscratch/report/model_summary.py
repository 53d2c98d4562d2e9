"""A model's summary, Keras- and torchinfo-style: each layer, its output shape, its parameter count."""

from __future__ import annotations

import numpy as np

from ..tensor import Tensor, no_grad


def input_features(model):
    """The number of input features the model's first weight layer reads (Linear W: (D, H), Maxout W: (k, D, H))."""
    for layer in model.modules():
        weight = getattr(layer, "weight", None)
        if weight is not None and weight.ndim >= 2:
            return int(weight.shape[-2])
    raise ValueError(f"{type(model).__name__} has no layer with a weight matrix to read its input size from")


def model_summary(model, sample=None):
    """Rows (layer, output shape, parameters) for each top-level layer of a Sequential `model`, and the total.

    sample: one input batch (1, ...) to push through; by default zeros of (1, input_features(model)).
    Output shapes are written with N for the batch, e.g. "(N, 512)". Returns (rows, total_parameters).
    """
    x = Tensor(np.zeros((1, input_features(model)), dtype=np.float32) if sample is None else sample)
    rows, was_training = [], model.training
    model.eval()
    try:
        with no_grad():
            for layer in model:
                x = layer(x)
                count = int(sum(p.size for p in layer.parameters()))
                shape = "(N, " + ", ".join(str(d) for d in x.shape[1:]) + ")"
                rows.append((repr(layer), shape, count))
    finally:
        model.train(was_training)
    return rows, int(sum(p.size for p in model.parameters()))
