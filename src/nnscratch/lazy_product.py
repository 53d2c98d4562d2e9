"""`LazyProduct`: a weight gradient x.T @ g kept as its two factors (numpy only).

The engine (tensor.py) keeps one as is for a leaf and multiplies it out for anything else;
`optim.SGD` folds it into its velocity in one BLAS call.
"""

from __future__ import annotations

import numpy as np


class LazyProduct:
    """The matrix product `a.T @ b`, kept as its two factors until someone needs the numbers.

    A linear layer's weight gradient is x.T @ g (inputs by upstream gradients). Left as a
    product, SGD computes `v = momentum * v + x.T @ g` as one BLAS call, so the gradient is
    never written out and read back; reading `.grad` multiplies it out (once). Its factors
    are the layer's saved input and upstream gradient: like backward itself, it needs the
    input array unchanged, so read `.grad` before overwriting a batch's array in place. It
    holds those arrays (and the arrays they are views of) until `zero_grad()` lets them go.
    """

    __slots__ = ("a", "b", "shape", "dtype")

    def __init__(self, a, b):
        self.a, self.b = a, b
        self.shape = (a.shape[1], b.shape[1])
        self.dtype = np.result_type(a, b)

    def evaluate(self):
        return self.a.T @ self.b


def evaluated(grad):
    """An array: the product multiplied out, or the array itself."""
    return grad.evaluate() if type(grad) is LazyProduct else grad
