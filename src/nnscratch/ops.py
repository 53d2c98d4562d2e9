"""The engine's elementary operations, each forward beside its backward.

Every backward is one of the lecture's gradient-flow rules:
add passes the gradient through, mul swaps its inputs, a copy (sum's broadcast,
fan-out) hands the same gradient to every copy, max routes it to the winner.
Summing a broadcast gradient back to an input's shape is the engine's job
(`tensor.unbroadcast`), so no op here repeats it.
"""

from __future__ import annotations

import numpy as np

from .tensor import Function, Tensor


# ----- arithmetic ---------------------------------------------------------------------------
class Add(Function):
    """z = a + b. Backward passes the gradient through to both inputs."""

    def forward(self, a, b):
        return a + b

    def backward(self, grad):
        return grad, grad


class Sub(Function):
    """z = a - b. Backward passes the gradient to a and its negation to b."""

    def forward(self, a, b):
        return a - b

    def backward(self, grad):
        return grad, (-grad if self.needs_grad[1] else None)


class Mul(Function):
    """z = a * b. Backward swaps the inputs: dz/da = b, dz/db = a."""

    def forward(self, a, b):
        self.save(a, b)
        return a * b

    def backward(self, grad):
        a, b = self.saved
        return (grad * b if self.needs_grad[0] else None), (grad * a if self.needs_grad[1] else None)


class Div(Function):
    """z = a / b. dz/da = 1/b, dz/db = -a/b² = -z/b."""

    def forward(self, a, b):
        out = a / b
        self.save(b, out)
        return out

    def backward(self, grad):
        b, out = self.saved
        da = grad / b
        return da, (-da * out if self.needs_grad[1] else None)


class Neg(Function):
    """z = -a."""

    def forward(self, a):
        return -a

    def backward(self, grad):
        return (-grad,)


class Pow(Function):
    """z = a ** p for a constant p. dz/da = p * a ** (p - 1)."""

    def forward(self, a, *, exponent):
        self.save(a)
        self.exponent = exponent
        return a**exponent

    def backward(self, grad):
        (a,) = self.saved
        p = self.exponent
        return (grad * (p * a ** (p - 1)),)


class MatMul(Function):
    """z = a @ b. Backward: da = grad @ b.T, db = a.T @ grad (1-D operands as row/column)."""

    def forward(self, a, b):
        check_matmul_shapes(a.shape, b.shape)
        self.save(a, b)
        return a @ b

    def backward(self, grad):
        a, b = self.saved
        if a.ndim == 1 and b.ndim == 1:  # a dot product: a mul gate followed by a sum
            return grad * b, grad * a
        a2 = a[np.newaxis, :] if a.ndim == 1 else a
        b2 = b[:, np.newaxis] if b.ndim == 1 else b
        if a.ndim == 1:
            grad = np.expand_dims(grad, -2)
        if b.ndim == 1:
            grad = np.expand_dims(grad, -1)
        da = db = None
        if self.needs_grad[0]:
            da = grad @ np.swapaxes(b2, -1, -2)
            da = da.squeeze(-2) if a.ndim == 1 else da
        if self.needs_grad[1]:
            db = np.swapaxes(a2, -1, -2) @ grad
            db = db.squeeze(-1) if b.ndim == 1 else db
        return da, db


def check_matmul_shapes(a_shape, b_shape):
    if not a_shape or not b_shape:
        raise ValueError(f"matmul needs arrays of at least one dimension, got shapes {a_shape} and {b_shape}")
    inner_b = b_shape[0] if len(b_shape) == 1 else b_shape[-2]
    if a_shape[-1] != inner_b:
        raise ValueError(
            f"matmul of shapes {a_shape} @ {b_shape}: the last dimension of the left ({a_shape[-1]}) "
            f"must equal the {'first' if len(b_shape) == 1 else 'second-to-last'} dimension of the "
            f"right ({inner_b}); transpose one operand (.T) or reshape it"
        )


# ----- element-wise functions ---------------------------------------------------------------
class Exp(Function):
    """z = exp(a). dz/da = z."""

    def forward(self, a):
        self.out = np.exp(a)
        return self.out

    def backward(self, grad):
        return (grad * self.out,)


class Log(Function):
    """z = log(a). dz/da = 1/a."""

    def forward(self, a):
        self.save(a)
        return np.log(a)

    def backward(self, grad):
        (a,) = self.saved
        return (grad / a,)


class Sqrt(Function):
    """z = sqrt(a). dz/da = 1 / (2 z)."""

    def forward(self, a):
        self.out = np.sqrt(a)
        return self.out

    def backward(self, grad):
        return (grad / (2 * self.out),)


class Abs(Function):
    """z = |a|. dz/da = sign(a) (0 at 0)."""

    def forward(self, a):
        self.save(a)
        return np.abs(a)

    def backward(self, grad):
        (a,) = self.saved
        return (grad * np.sign(a),)


class Maximum(Function):
    """z = max(a, b) element-wise. A max gate routes the gradient to the winner; a tie splits it."""

    def forward(self, a, b):
        self.save(a, b)
        return np.maximum(a, b)

    def backward(self, grad):
        a, b = self.saved
        a_share = (a > b) + 0.5 * (a == b)
        a_share = a_share.astype(grad.dtype, copy=False)
        return grad * a_share, grad * (1 - a_share)


class Where(Function):
    """z = a where cond else b. The gradient goes to whichever input was picked."""

    def forward(self, cond, a, b):
        self.cond = cond.astype(bool, copy=False)
        return np.where(self.cond, a, b)

    def backward(self, grad):
        zero = np.zeros((), grad.dtype)
        da = np.where(self.cond, grad, zero) if self.needs_grad[1] else None
        db = np.where(self.cond, zero, grad) if self.needs_grad[2] else None
        return None, da, db


class AsType(Function):
    """A change of dtype; the gradient goes back in the input's dtype (the engine casts it)."""

    def forward(self, a, *, dtype):
        return a.astype(dtype)

    def backward(self, grad):
        return (grad,)


# ----- reductions ---------------------------------------------------------------------------
def _expand_to(grad, shape, axis, keepdims):
    """Put back the reduced axes of `grad` so it broadcasts against an input of `shape`."""
    if axis is None:
        return grad.reshape((1,) * len(shape)) if not keepdims else grad
    if not keepdims:
        axes = (axis,) if np.isscalar(axis) else axis
        grad = np.expand_dims(grad, tuple(ax % len(shape) for ax in axes))
    return grad


class Sum(Function):
    """z = sum(a). Summing is a copy in reverse: every input element gets the whole gradient."""

    def forward(self, a, *, axis=None, keepdims=False):
        self.shape, self.axis, self.keepdims = a.shape, axis, keepdims
        return np.asarray(a.sum(axis=axis, keepdims=keepdims))

    def backward(self, grad):
        grad = _expand_to(grad, self.shape, self.axis, self.keepdims)
        return (np.broadcast_to(grad, self.shape),)


class Mean(Function):
    """z = mean(a). Like sum, with each element's share divided by the count."""

    def forward(self, a, *, axis=None, keepdims=False):
        self.shape, self.axis, self.keepdims = a.shape, axis, keepdims
        out = np.asarray(a.mean(axis=axis, keepdims=keepdims))
        self.count = a.size // max(out.size, 1) if a.size else 1
        return out

    def backward(self, grad):
        grad = _expand_to(grad, self.shape, self.axis, self.keepdims) / self.count
        return (np.broadcast_to(grad, self.shape),)


class Max(Function):
    """z = max(a). A max gate routes the gradient to the winner (ties share it equally)."""

    def forward(self, a, *, axis=None, keepdims=False):
        if a.size == 0:
            raise ValueError(f"max() of an empty tensor of shape {a.shape}")
        out = np.asarray(a.max(axis=axis, keepdims=keepdims))
        self.axis, self.keepdims = axis, keepdims
        self.save(a, out)
        return out

    def backward(self, grad):
        a, out = self.saved
        out = _expand_to(out, a.shape, self.axis, self.keepdims)
        winners = a == out
        count = winners.sum(axis=self.axis, keepdims=True)
        grad = _expand_to(grad, a.shape, self.axis, self.keepdims)
        return (winners * (grad / count).astype(a.dtype, copy=False),)


# ----- shape ----------------------------------------------------------------------------------
class Reshape(Function):
    """The same numbers in a new shape; the gradient is reshaped back."""

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

    def forward(self, a, *, axes=None):
        self.axes = tuple(reversed(range(a.ndim))) if axes is None else tuple(axes)
        return a.transpose(self.axes)

    def backward(self, grad):
        return (grad.transpose(np.argsort(self.axes)),)


class GetItem(Function):
    """z = a[index]. The gradient is scattered back; an element picked twice gets both."""

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
    return index


def _is_basic_index(index):
    parts = index if isinstance(index, tuple) else (index,)
    return all(p is None or p is Ellipsis or isinstance(p, (int, np.integer, slice)) for p in parts)


class Concatenate(Function):
    """z = the inputs joined along an axis; the gradient is cut back into their pieces."""

    def forward(self, *arrays, axis=0):
        self.axis = axis
        self.bounds = np.cumsum([a.shape[axis] for a in arrays])[:-1]
        return np.concatenate(arrays, axis=axis)

    def backward(self, grad):
        return tuple(np.split(grad, self.bounds, axis=self.axis))


class Stack(Function):
    """z = the inputs stacked along a new axis; each gets its slice of the gradient."""

    def forward(self, *arrays, axis=0):
        self.axis = axis
        return np.stack(arrays, axis=axis)

    def backward(self, grad):
        return tuple(np.moveaxis(grad, self.axis, 0))


# ----- the functions of the public namespace ----------------------------------------------
def concatenate(tensors, axis=0):
    """Join tensors along an existing axis (like numpy.concatenate)."""
    return Concatenate.apply(*tensors, axis=axis)


def stack(tensors, axis=0):
    """Join tensors along a new axis (like numpy.stack)."""
    return Stack.apply(*tensors, axis=axis)


def maximum(a, b):
    """Element-wise maximum; the gradient goes to the larger input."""
    return Maximum.apply(a, b)


def where(cond, a, b):
    """Element-wise choice: `a` where `cond` is true, else `b`. `cond` is constant."""
    cond = cond.data if isinstance(cond, Tensor) else np.asarray(cond)
    return Where.apply(Tensor(cond), a, b)
