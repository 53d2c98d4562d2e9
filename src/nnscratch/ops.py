"""The engine's elementary operations, each forward beside its backward.

Every backward is one of the lecture's gradient-flow rules (CS231n, "Backpropagation,
intuitions"): add passes the gradient through, mul swaps its inputs, a copy (sum's broadcast,
fan-out) hands the same gradient to every copy, max routes it to the winner. Summing a broadcast
gradient back to an input's shape is the engine's job (`tensor.unbroadcast`), so no op here
repeats it. Each class's `name` is its gate and `rule` its backward in one sentence. The ops
that only move numbers around (reshape, transpose, indexing, joining) are in `shape_ops.py`.
"""

from __future__ import annotations

import numpy as np

from .function import Function
from .tensor import Tensor


# ----- arithmetic ---------------------------------------------------------------------------
class Add(Function):
    """z = a + b. Backward passes the gradient through to both inputs."""

    name, rule = "add", "an add gate passes the upstream gradient to both inputs unchanged"

    def forward(self, a, b):
        return a + b

    def backward(self, grad):
        return grad, grad


class Sub(Function):
    """z = a - b. Backward passes the gradient to a and its negation to b."""

    name, rule = "sub", "a sub gate passes the upstream gradient to a and its negation to b"

    def forward(self, a, b):
        return a - b

    def backward(self, grad):
        return grad, (-grad if self.needs_grad[1] else None)


class Mul(Function):
    """z = a * b. Backward swaps the inputs: dz/da = b, dz/db = a."""

    name, rule = "mul", "a mul gate swaps its inputs: da = g·b, db = g·a"

    def forward(self, a, b):
        self.save(a, b)
        return a * b

    def backward(self, grad):
        a, b = self.saved
        return (grad * b if self.needs_grad[0] else None), (grad * a if self.needs_grad[1] else None)


class Div(Function):
    """z = a / b. dz/da = 1/b, dz/db = -a/b² = -z/b."""

    name, rule = "div", "a div gate scales the gradient by 1/b for a and by -a/b² = -z/b for b"

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

    name, rule = "neg", "a neg gate passes the negated gradient"

    def forward(self, a):
        return -a

    def backward(self, grad):
        return (-grad,)


class Pow(Function):
    """z = a ** p for a constant p. dz/da = p * a ** (p - 1)."""

    name, rule = "pow", "a pow gate multiplies the gradient by p·a^(p-1) (the power rule)"

    def forward(self, a, *, exponent):
        self.save(a)
        return a**exponent

    def backward(self, grad):
        (a,) = self.saved
        p = self.constants["exponent"]
        return (grad * (p * a ** (p - 1)),)


class MatMul(Function):
    """z = a @ b. Backward: da = grad @ b.T, db = a.T @ grad (1-D operands as row/column)."""

    name, rule = "matmul", "a matmul gate swaps its inputs, transposed: da = g @ bᵀ, db = aᵀ @ g"

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
    """ValueError naming both shapes when `a @ b` is undefined (empty shapes, or inner sizes differ)."""
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

    name, rule = "exp", "an exp gate multiplies the gradient by its own output, exp(a)"

    def forward(self, a):
        out = np.exp(a)
        self.save(out)
        return out

    def backward(self, grad):
        (out,) = self.saved
        return (grad * out,)


class Log(Function):
    """z = log(a). dz/da = 1/a."""

    name, rule = "log", "a log gate divides the gradient by its input"

    def forward(self, a):
        self.save(a)
        return np.log(a)

    def backward(self, grad):
        (a,) = self.saved
        return (grad / a,)


class Sqrt(Function):
    """z = sqrt(a). dz/da = 1 / (2 z)."""

    name, rule = "sqrt", "a sqrt gate divides the gradient by twice its output"

    def forward(self, a):
        out = np.sqrt(a)
        self.save(out)
        return out

    def backward(self, grad):
        (out,) = self.saved
        return (grad / (2 * out),)


class Abs(Function):
    """z = |a|. dz/da = sign(a) (0 at 0)."""

    name, rule = "abs", "an abs gate passes the gradient where a > 0 and negates it where a < 0"

    def forward(self, a):
        self.save(a)
        return np.abs(a)

    def backward(self, grad):
        (a,) = self.saved
        return (grad * np.sign(a),)


class Clamp(Function):
    """z = min(max(a, min), max). Like a max gate against a constant: the gradient passes where
    min <= a <= max (PyTorch's choice at the bounds) and stops where a bound was applied."""

    name, rule = "clamp", "a clamp gate passes the gradient where the input lay within the bounds, else 0"

    def forward(self, a, *, min=None, max=None):
        self.save(a)
        return np.clip(a, min, max)

    def backward(self, grad):
        (a,) = self.saved
        low, high = self.constants.get("min"), self.constants.get("max")
        inside = np.ones(a.shape, bool)
        if low is not None:
            inside &= a >= low
        if high is not None:
            inside &= a <= high
        return (grad * inside,)


class Clone(Function):
    """z = a copy of a; the gradient passes straight through (PyTorch's clone)."""

    name, rule = "clone", "a copy passes the upstream gradient through unchanged"

    def forward(self, a):
        return a.copy()

    def backward(self, grad):
        return (grad,)


class Maximum(Function):
    """z = max(a, b) element-wise. A max gate routes the gradient to the winner; a tie splits it."""

    name, rule = "maximum", "a max gate routes the gradient to the winner (a tie splits it)"

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

    name, rule = "where", "a where gate routes the gradient to the input that was picked"

    def forward(self, cond, a, b):
        cond = cond.astype(bool, copy=False)
        self.save(cond)
        return np.where(cond, a, b)

    def backward(self, grad):
        (cond,) = self.saved
        zero = np.zeros((), grad.dtype)
        da = np.where(cond, grad, zero) if self.needs_grad[1] else None
        db = np.where(cond, zero, grad) if self.needs_grad[2] else None
        return None, da, db


class AsType(Function):
    """A change of dtype; the gradient goes back in the input's dtype (the engine casts it)."""

    name, rule = "astype", "a cast passes the gradient through, cast back to the input's dtype"

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

    name, rule = "sum", "a sum gate hands the upstream gradient to every element it added"

    def forward(self, a, *, axis=None, keepdims=False):
        self.shape = a.shape
        return np.asarray(a.sum(axis=axis, keepdims=keepdims))

    def backward(self, grad):
        grad = _expand_to(grad, self.shape, self.constants.get("axis"), self.constants.get("keepdims", False))
        return (np.broadcast_to(grad, self.shape),)


class Mean(Function):
    """z = mean(a). Like sum, with each element's share divided by the count."""

    name, rule = "mean", "a mean gate hands every element the upstream gradient divided by the count"

    def forward(self, a, *, axis=None, keepdims=False):
        self.shape = a.shape
        out = np.asarray(a.mean(axis=axis, keepdims=keepdims))
        self.count = a.size // max(out.size, 1) if a.size else 1
        return out

    def backward(self, grad):
        grad = _expand_to(grad, self.shape, self.constants.get("axis"), self.constants.get("keepdims", False))
        return (np.broadcast_to(grad / self.count, self.shape),)


class Max(Function):
    """z = max(a). A max gate routes the gradient to the winner (ties share it equally)."""

    name, rule = "max", "a max gate routes the gradient to the winner (ties share it equally)"

    def forward(self, a, *, axis=None, keepdims=False):
        if a.size == 0:
            raise ValueError(f"max() of an empty tensor of shape {a.shape}")
        out = np.asarray(a.max(axis=axis, keepdims=keepdims))
        self.save(a, out)
        return out

    def backward(self, grad):
        a, out = self.saved
        axis, keepdims = self.constants.get("axis"), self.constants.get("keepdims", False)
        winners = a == _expand_to(out, a.shape, axis, keepdims)
        count = winners.sum(axis=axis, keepdims=True)
        grad = _expand_to(grad, a.shape, axis, keepdims)
        return (winners * (grad / count).astype(a.dtype, copy=False),)


# ----- the functions of the public namespace ----------------------------------------------
def maximum(a, b):
    """Element-wise maximum of two tensors (or numbers/arrays) broadcast together, in their dtype;
    the gradient goes to the larger input (a tie splits it)."""
    return Maximum.apply(a, b)


def where(cond, a, b):
    """Element-wise choice: `a` where `cond` (a boolean array or Tensor, constant) is true, else `b`;
    all three broadcast together. The gradient goes to the input that was picked."""
    cond = cond.data if isinstance(cond, Tensor) else np.asarray(cond)
    return Where.apply(Tensor(cond), a, b)


from .shape_ops import (  # noqa: E402,F401  (the Tensor methods find every op here)
    Concatenate, GetItem, Reshape, Stack, Transpose, _plain_index, concatenate, stack)
