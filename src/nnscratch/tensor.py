"""The Tensor and the reverse-mode engine that back-propagates through it.

A `Tensor` wraps a numpy array. Every differentiable operation is a `Function`
(see `ops.py` and `functional/`): its `forward` computes on plain arrays and saves
what its `backward` needs; `Function.apply` records the call in the graph.

`Tensor.backward` walks that graph once, in reverse topological order, without
recursion. It is the one place that knows two rules every op relies on:

* a gradient arriving from several uses of a node is summed (fan-out is a copy,
  and a copy's gradient is a sum);
* broadcasting is also a copy, so a gradient shaped like the broadcast result is
  summed back down to the input's shape (`unbroadcast`).

A linear layer's weight gradient x.T @ g may arrive as a `LazyProduct`; the engine keeps it
so for a leaf (SGD folds it into its velocity) and multiplies it out for anything else.
"""

from __future__ import annotations

import contextlib
import numbers

import numpy as np

from .lazy_product import LazyProduct, evaluated

DEFAULT_DTYPE = np.float32

_grad_enabled = True


def is_grad_enabled() -> bool:
    return _grad_enabled


@contextlib.contextmanager
def no_grad():
    """Inside this block operations record no graph: for evaluation and optimiser updates."""
    global _grad_enabled
    previous, _grad_enabled = _grad_enabled, False
    try:
        yield
    finally:
        _grad_enabled = previous


class Tensor:
    """An n-dimensional array that remembers how it was computed.

    `data` is a plain `numpy.ndarray`. A numpy array keeps its dtype; Python numbers
    and lists become float32. `grad` holds d(output)/d(self) after `backward()`.
    """

    __array_ufunc__ = None  # make `ndarray * Tensor` call Tensor.__rmul__, not numpy

    def __init__(self, data, requires_grad=False, dtype=None):
        if isinstance(data, Tensor):
            data = data.data
        if isinstance(data, (np.ndarray, np.generic)):
            data = np.asarray(data) if dtype is None else np.asarray(data, dtype=dtype)
        else:
            data = np.asarray(data, dtype=DEFAULT_DTYPE if dtype is None else dtype)
        if requires_grad and not np.issubdtype(data.dtype, np.floating):
            raise ValueError(
                f"only floating-point tensors can require gradients, got dtype {data.dtype}; "
                f"pass dtype=np.float32 (or float64)"
            )
        self.data = data
        self.requires_grad = bool(requires_grad)
        self._grad = None
        self._ctx = None  # the Function that produced this tensor, if recorded

    @classmethod
    def _from_op(cls, data, ctx):
        out = cls.__new__(cls)
        out.data, out._grad, out._ctx = data, None, ctx
        out.requires_grad = ctx is not None
        return out

    @property
    def grad(self):
        """d(output)/d(self) after `backward()`, an array (None before any backward)."""
        if type(self._grad) is LazyProduct:
            self._grad = self._grad.evaluate()
        return self._grad

    @grad.setter
    def grad(self, value):
        self._grad = value

    @property
    def raw_grad(self):
        """The gradient as backward left it: an array, or a `LazyProduct` not yet multiplied out.

        An optimiser that can fold `a.T @ b` straight into its own sums (SGD) reads this, so a
        weight's gradient need never be stored; anything else reads `grad`."""
        return self._grad

    # ----- array-like facts -------------------------------------------------------------
    shape = property(lambda self: self.data.shape)
    dtype = property(lambda self: self.data.dtype)
    ndim = property(lambda self: self.data.ndim)
    size = property(lambda self: self.data.size)

    def __len__(self):
        return len(self.data)

    def __repr__(self):
        body = np.array2string(self.data, separator=", ", prefix="Tensor(")
        extra = ", requires_grad=True" if self.requires_grad else ""
        dtype = "" if self.dtype == DEFAULT_DTYPE else f", dtype={self.dtype}"
        return f"Tensor({body}{dtype}{extra})"

    def numpy(self) -> np.ndarray:
        return self.data

    def item(self):
        if self.data.size != 1:
            raise ValueError(f"item() needs a tensor with one element, this one has shape {self.shape}")
        return self.data.item()

    def detach(self) -> "Tensor":
        """The same data, cut from the graph."""
        return Tensor(self.data)

    def zero_grad(self):
        self.grad = None

    def retain_grad(self):
        """Keep this non-leaf tensor's `.grad` after backward: the sum of every gradient that reached it
        (as in PyTorch). A leaf keeps its gradient anyway."""
        self._retains_grad = True

    # ----- the engine -------------------------------------------------------------------
    def backward(self, grad=None, retain_graph=False):
        """Back-propagate from this tensor, adding d(self)/d(leaf) into every leaf's `.grad`.

        Each operation's saved arrays are released as soon as its backward has run (as in
        PyTorch), so the activations of a step are freed before the next one allocates its
        own; `retain_graph=True` keeps them for a second backward through the same graph.
        """
        if self._ctx is _RELEASED:
            raise RuntimeError("backward through this graph a second time: its saved arrays were freed by the "
                               "first backward; pass retain_graph=True to the first call to keep them")
        if not self.requires_grad:
            raise RuntimeError(
                "backward() on a tensor that does not require grad: no input of the computation "
                "had requires_grad=True (or it ran inside no_grad())"
            )
        if grad is None:
            if self.data.size != 1:
                raise ValueError(
                    f"backward() without a gradient needs a scalar; this tensor has shape {self.shape}. "
                    f"Reduce it first (.sum() or .mean()) or pass grad= of the same shape"
                )
            grad = np.ones_like(self.data)
        else:
            grad = np.asarray(grad.data if isinstance(grad, Tensor) else grad, dtype=self.dtype)
            if grad.shape != self.shape:
                raise ValueError(f"backward(grad) got shape {grad.shape} for a tensor of shape {self.shape}")

        grads = {id(self): grad}
        handed_to_leaves = {id(grad)}  # arrays a leaf may not share with anything else
        for node in reversed(_topological_order(self)):
            g = grads.pop(id(node), None)
            if g is None:
                continue
            if node._ctx is None:
                _accumulate_into_leaf(node, g, handed_to_leaves)
                continue
            g = evaluated(g)  # an operation's backward works on arrays
            if getattr(node, "_retains_grad", False):
                node._grad = g.copy() if node._grad is None else node.grad + g
            ctx = node._ctx
            if ctx is _RELEASED:
                raise RuntimeError("backward through part of a graph that an earlier backward already freed; "
                                   "pass retain_graph=True to that earlier call")
            for inp, needs, ig in zip(ctx.inputs, ctx.needs_grad, ctx.backward(g)):
                if needs and ig is not None:
                    if ig.shape != inp.data.shape or ig.dtype != inp.data.dtype:
                        ig = unbroadcast(evaluated(ig), inp.data.shape, inp.data.dtype)
                    key = id(inp)
                    # a node used twice gets the sum; never add in place: `ig` may be shared
                    grads[key] = ig if key not in grads else evaluated(grads[key]) + evaluated(ig)
            if not retain_graph:
                node._ctx = _RELEASED

    # ----- operators (the ops live in ops.py) -------------------------------------------
    def __add__(self, other):
        return _ops.Add.apply(self, other)

    def __radd__(self, other):
        return _ops.Add.apply(other, self)

    def __sub__(self, other):
        return _ops.Sub.apply(self, other)

    def __rsub__(self, other):
        return _ops.Sub.apply(other, self)

    def __mul__(self, other):
        return _ops.Mul.apply(self, other)

    def __rmul__(self, other):
        return _ops.Mul.apply(other, self)

    def __truediv__(self, other):
        return _ops.Div.apply(self, other)

    def __rtruediv__(self, other):
        return _ops.Div.apply(other, self)

    def __neg__(self):
        return _ops.Neg.apply(self)

    def __pow__(self, exponent):
        if not isinstance(exponent, numbers.Real):
            raise TypeError(
                f"only a constant exponent is supported, got {type(exponent).__name__}; "
                f"for a tensor exponent write exp(b * log(a))"
            )
        return _ops.Pow.apply(self, exponent=exponent)

    def __matmul__(self, other):
        return _ops.MatMul.apply(self, other)

    def __rmatmul__(self, other):
        return _ops.MatMul.apply(other, self)

    def __getitem__(self, index):
        return _ops.GetItem.apply(self, index=index)

    # comparisons give constant boolean tensors: useful as masks, not differentiable
    def __lt__(self, other):
        return Tensor(self.data < _raw(other))

    def __le__(self, other):
        return Tensor(self.data <= _raw(other))

    def __gt__(self, other):
        return Tensor(self.data > _raw(other))

    def __ge__(self, other):
        return Tensor(self.data >= _raw(other))

    __hash__ = object.__hash__

    # ----- methods ----------------------------------------------------------------------
    def sum(self, axis=None, keepdims=False):
        return _ops.Sum.apply(self, axis=axis, keepdims=keepdims)

    def mean(self, axis=None, keepdims=False):
        return _ops.Mean.apply(self, axis=axis, keepdims=keepdims)

    def max(self, axis=None, keepdims=False):
        return _ops.Max.apply(self, axis=axis, keepdims=keepdims)

    def exp(self):
        return _ops.Exp.apply(self)

    def log(self):
        return _ops.Log.apply(self)

    def sqrt(self):
        return _ops.Sqrt.apply(self)

    def abs(self):
        return _ops.Abs.apply(self)

    def reshape(self, *shape):
        if len(shape) == 1 and isinstance(shape[0], (tuple, list)):
            shape = tuple(shape[0])
        return _ops.Reshape.apply(self, shape=shape)

    def transpose(self, *axes):
        if len(axes) == 1 and isinstance(axes[0], (tuple, list)):
            axes = tuple(axes[0])
        return _ops.Transpose.apply(self, axes=axes or None)

    @property
    def T(self):
        return self.transpose()

    def astype(self, dtype):
        return _ops.AsType.apply(self, dtype=np.dtype(dtype))


class _Released:
    """Stands where a Function was once its saved arrays are freed; leads nowhere."""

    inputs = ()


_RELEASED = _Released()


def _raw(x):
    return x.data if isinstance(x, Tensor) else x


def _topological_order(root):
    """Nodes reachable from `root`, each after all of its inputs; iterative depth-first search."""
    order, visited = [], set()
    stack = [(root, False)]
    while stack:
        node, inputs_done = stack.pop()
        if inputs_done:
            order.append(node)
            continue
        if id(node) in visited:
            continue
        visited.add(id(node))
        stack.append((node, True))
        if node._ctx is not None:
            for inp in node._ctx.inputs:
                if inp.requires_grad and id(inp) not in visited:
                    stack.append((inp, False))
    return order


def _accumulate_into_leaf(leaf, grad, handed_to_leaves):
    """Add `grad` into `leaf.grad`, copying when the array may be shared with another holder."""
    if leaf._grad is not None:
        leaf._grad = leaf.grad + evaluated(grad)
        return
    if type(grad) is LazyProduct:  # evaluates to a fresh array: shared with no one
        leaf._grad = grad
        return
    if grad.base is not None or id(grad) in handed_to_leaves or not grad.flags.writeable:
        grad = grad.copy()
    handed_to_leaves.add(id(grad))
    leaf.grad = grad


def unbroadcast(grad, shape, dtype):
    """Sum `grad` down to `shape`: broadcasting copied the input, and a copy's gradient is a sum."""
    if grad.shape != shape:
        extra = grad.ndim - len(shape)
        if extra > 0:
            grad = grad.sum(axis=tuple(range(extra)))
        stretched = tuple(i for i, n in enumerate(shape) if n == 1 and grad.shape[i] != 1)
        if stretched:
            grad = grad.sum(axis=stretched, keepdims=True)
    if grad.dtype != dtype:
        grad = grad.astype(dtype)
    return grad


class Function:
    """One differentiable operation: `forward` on arrays, `backward` from the output's gradient.

    `apply` turns its positional arguments into tensors (a Python number takes the dtype of
    the tensor beside it, as in NumPy 2 and PyTorch), runs `forward` on their arrays and, when
    some input requires a gradient, records itself as the output's creator. Keyword arguments
    are constants of the operation (an axis, an exponent) and go to `forward` unchanged.

    `backward(grad)` returns one gradient per positional input, shaped like the output's
    broadcast if need be (the engine sums it back down), or None where none is needed.
    `self.needs_grad[i]` says whether input i wants one (never, under `no_grad`), so forward can
    skip saving what backward would need and backward can skip costly unused gradients.
    """

    def save(self, *arrays):
        self.saved = arrays

    @classmethod
    def apply(cls, *args, **constants):
        inputs = args if all(isinstance(a, Tensor) for a in args) else _as_tensors(args)
        fn = cls()
        fn.needs_grad = needs = tuple([t.requires_grad for t in inputs]) if _grad_enabled else (False,) * len(inputs)
        data = fn.forward(*[t.data for t in inputs], **constants)
        if True in needs:
            fn.inputs = inputs
            return Tensor._from_op(data, fn)
        return Tensor._from_op(data, None)

    def forward(self, *arrays, **constants):
        raise NotImplementedError

    def backward(self, grad):
        raise NotImplementedError


def _as_tensors(args):
    weak_dtype = next(
        (a.data.dtype for a in args if isinstance(a, Tensor) and a.data.dtype.kind == "f"),
        None,
    )
    out = []
    for a in args:
        if isinstance(a, Tensor):
            out.append(a)
        elif isinstance(a, (bool, numbers.Number)) and not isinstance(a, np.generic):
            out.append(Tensor(np.asarray(a, dtype=weak_dtype) if weak_dtype else np.asarray(a)))
        else:
            out.append(Tensor(np.asarray(a) if isinstance(a, (np.ndarray, np.generic)) else a))
    return out


from . import ops as _ops  # noqa: E402  (ops needs Tensor and Function defined above)
