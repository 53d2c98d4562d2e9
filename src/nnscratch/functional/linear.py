"""The affine map y = x @ W + b as one fused operation.

Fused because the maths is simplest together: one matrix product forward, and backward
dx = g @ W.T, dW = x.T @ g, db = the sum of g over the batch (b was copied to every row).
dW is handed back as a `LazyProduct`: SGD folds it into its velocity in one BLAS call.
"""

from __future__ import annotations

import numpy as np

from .. import blas
from ..tensor import Function, LazyProduct


class Linear(Function):
    """y = x @ W + b with x: (..., D), W: (D, H), b: (H,) or absent.

    x is computed in W's dtype: float64 or integer data fed to a float32 layer stays float32.
    """

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
        dx = grad @ weight.T if self.needs_grad[0] else None
        # collapse leading dimensions: every row of the batch is one more use of W and b
        g2 = grad.reshape(-1, grad.shape[-1])
        dw = LazyProduct(x.reshape(-1, x.shape[-1]), g2) if self.needs_grad[1] else None  # x.T @ g, on demand
        db = g2.sum(axis=0) if len(self.needs_grad) > 2 and self.needs_grad[2] else None
        return dx, dw, db


def linear(x, weight, bias=None):
    """y = x @ weight + bias, weight of shape (in_features, out_features)."""
    if bias is None:
        return Linear.apply(x, weight)
    return Linear.apply(x, weight, bias)


def flatten(x, start_axis=1):
    """Keep the first `start_axis` axes, merge the rest: (N, 28, 28) -> (N, 784)."""
    return x.reshape(*x.shape[:start_axis], int(np.prod(x.shape[start_axis:], dtype=np.int64)))
