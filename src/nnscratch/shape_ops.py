"""Operations that only move numbers around: reshape, transpose, indexing, joining.

Their backward moves the gradient back the same way: reshape it back, permute it back, scatter it
into the places that were read (adding where one element was read twice), cut it into the pieces
that were joined.
"""

from __future__ import annotations

import numpy as np

from .function import Function
from .tensor import Tensor


class Reshape(Function):
    """The same numbers in a new shape; the gradient is reshaped back."""

    name, rule = "reshape", "a reshape passes the gradient through, reshaped back to the input's shape"

    def forward(self, a, *, shape):
        self.shape = a.shape
        try:
            return a.reshape(shape)
        except ValueError:
            raise ValueError(
                f"cannot reshape a tensor of shape {a.shape} ({a.size} elements) into {tuple(shape)}"
            ) from None

    def backward(self, grad):
        return (grad.reshape(self.shape),)


class Transpose(Function):
    """Axes permuted; the gradient is permuted back by the inverse permutation."""

    name, rule = "transpose", "a transpose passes the gradient through, its axes permuted back"

    def forward(self, a, *, axes=None):
        self.axes = tuple(reversed(range(a.ndim))) if axes is None else tuple(axes)
        return a.transpose(self.axes)

    def backward(self, grad):
        return (grad.transpose(np.argsort(self.axes)),)


class GetItem(Function):
    """z = a[index]. The gradient is scattered back; an element picked twice gets both."""

    name, rule = "getitem", "indexing scatters the gradient back to the elements read; one read twice gets the sum"

    def forward(self, a, *, index):
        self.index = _plain_index(index)
        self.shape = a.shape
        return a[self.index]

    def backward(self, grad):
        out = np.zeros(self.shape, dtype=grad.dtype)
        if _is_basic_index(self.index):
            out[self.index] = grad  # basic slicing never repeats an element
        else:
            np.add.at(out, self.index, grad)  # repeats in an integer index add up
        return (out,)


def _plain_index(index):
    if isinstance(index, Tensor):
        return index.data
    if isinstance(index, tuple):
        return tuple(i.data if isinstance(i, Tensor) else i for i in index)
    if isinstance(index, list):
        return np.asarray(index)
    return index


def _is_basic_index(index):
    parts = index if isinstance(index, tuple) else (index,)
    return all(p is None or p is Ellipsis or isinstance(p, (int, np.integer, slice)) for p in parts)


class Concatenate(Function):
    """z = the inputs joined along an axis; the gradient is cut back into their pieces."""

    name, rule = "concatenate", "a join cuts the gradient back into the pieces that were joined"

    def forward(self, *arrays, axis=0):
        self.bounds = np.cumsum([a.shape[axis] for a in arrays])[:-1]
        return np.concatenate(arrays, axis=axis)

    def backward(self, grad):
        return tuple(np.split(grad, self.bounds, axis=self.constants.get("axis", 0)))


class Stack(Function):
    """z = the inputs stacked along a new axis; each gets its slice of the gradient."""

    name, rule = "stack", "a stack hands each input its slice of the gradient"

    def forward(self, *arrays, axis=0):
        return np.stack(arrays, axis=axis)

    def backward(self, grad):
        return tuple(np.moveaxis(grad, self.constants.get("axis", 0), 0))


def _axis_or_dim(axis, dim, default=0):
    if axis is not None and dim is not None and axis != dim:
        raise TypeError(f"got axis={axis!r} and dim={dim!r}: they are one argument; give one")
    return default if axis is None and dim is None else (axis if dim is None else dim)


def concatenate(tensors, axis=None, *, dim=None):
    """Join tensors along an existing axis (numpy.concatenate; `dim=` as torch.cat), default 0.
    tensors: a sequence of tensors equal in shape except along `axis`. Differentiable."""
    return Concatenate.apply(*tensors, axis=_axis_or_dim(axis, dim))


def stack(tensors, axis=None, *, dim=None):
    """Join tensors of one shape along a new axis (numpy.stack; `dim=` as torch.stack), default 0."""
    return Stack.apply(*tensors, axis=_axis_or_dim(axis, dim))
