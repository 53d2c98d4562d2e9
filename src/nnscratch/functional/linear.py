"""The affine map y = x @ W + b as one fused operation.

Fused because the maths is simplest together: one matrix product forward (the bias already in
the output array, so the product is added to it inside the GEMM), and backward
dx = g @ Wᵀ, dW = xᵀ @ g, db = the sum of g over the batch (b was copied to every row).
"""

from __future__ import annotations

import numpy as np

from .. import blas
from ..function import Function


class LinearFunction(Function):
    """y = x @ W + b with x: (..., D), W: (D, H), b: (H,) or absent; y: (..., H) in W's dtype.

    x is computed in W's dtype: float64 or integer data fed to a float32 layer stays float32.
    """

    name = "linear"
    rule = "a linear gate is a matmul plus a copied bias: dx = g @ Wᵀ, dW = xᵀ @ g, db = Σ over rows of g"

    def forward(self, x, weight, bias=None):
        if x.ndim == 0 or x.shape[-1] != weight.shape[0]:
            raise ValueError(
                f"linear: input of shape {x.shape} does not fit a weight of shape {weight.shape}; "
                f"the input's last dimension must be {weight.shape[0]}"
            )
        if x.dtype != weight.dtype:  # data (float64, uint8) joins the model's dtype, never the reverse
            x = x.astype(weight.dtype)
        self.save(x, weight)
        if bias is None:
            return x @ weight
        out = np.empty(x.shape[:-1] + weight.shape[1:], weight.dtype)
        out[...] = bias  # the bias first, so the product is added to it inside the matrix product
        blas.gemm_nn(1.0, x.reshape(-1, x.shape[-1]), weight, 1.0, out.reshape(-1, out.shape[-1]))
        return out

    def backward(self, grad):
        x, weight = self.saved
        needs = self.needs_grad
        dx = grad @ weight.T if needs[0] else None
        # collapse leading dimensions: every row of the batch is one more use of W and b
        g2 = grad.reshape(-1, grad.shape[-1])
        dw = x.reshape(-1, x.shape[-1]).T @ g2 if needs[1] else None
        db = g2.sum(axis=0) if len(needs) > 2 and needs[2] else None
        return dx, dw, db


def linear(x, weight, bias=None):
    """y = x @ weight + bias: x: (..., in_features), weight: (in_features, out_features) (the
    lecture's layout, the transpose of PyTorch's), bias: (out_features,) or None; y in weight's
    dtype. Raises ValueError naming both shapes when x's last dimension is not in_features."""
    if bias is None:
        return LinearFunction.apply(x, weight)
    return LinearFunction.apply(x, weight, bias)


def flatten(x, start_axis=1, *, start_dim=None):
    """Keep the first `start_axis` (PyTorch: `start_dim`) axes, merge the rest: (N, 28, 28) -> (N, 784)."""
    start = start_axis if start_dim is None else start_dim
    return x.reshape(*x.shape[:start], int(np.prod(x.shape[start:], dtype=np.int64)))
