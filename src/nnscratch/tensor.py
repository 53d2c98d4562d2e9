"""The Tensor and the reverse-mode engine that back-propagates through it.

A `Tensor` wraps a numpy array. Every differentiable operation is a `Function` (see `ops.py` and
`functional/`): its `forward` computes on plain arrays and saves what its `backward` needs;
`Function.apply` records the call in the graph (`t._ctx` is the Function that made `t`).

`Tensor.backward` is the lecture's algorithm (CS231n, "Backpropagation, intuitions"): put the
graph in topological order, visit it in reverse, and at each node run the operation's backward
on the gradient that arrived. Two rules every op relies on live here and nowhere else:

* fan-out: a node used several times gets the SUM of the gradients from every use
  (a copy's gradient is a sum), in `_add_gradient`;
* broadcasting is a copy too, so a gradient shaped like the broadcast result is summed back
  down to the input's shape, in `unbroadcast`.

Gradients are plain numpy arrays the moment `backward` returns. In-place changes bump a tensor's
`_version` (`tensor_inplace.py`); a backward that needs an array saved at an older version refuses,
as PyTorch does (`Function.check_saved_versions`). Grad mode (`no_grad`, `grad_mode.py`, re-exported
here) is per thread. The factory functions (`tensor`, `zeros`, `ones`, `randn`,
`arange`) live in `creation.py`; this module is also callable: `nnscratch.tensor([1.0, 2.0])`.
"""

from __future__ import annotations

import numbers
import sys
import types

import numpy as np

from .grad_mode import _grad_mode, enable_grad, is_grad_enabled, no_grad, set_grad_enabled  # noqa: F401
from .tensor_inplace import InPlaceMethods

DEFAULT_DTYPE = np.float32


class Tensor(InPlaceMethods):
    """An n-dimensional array that remembers how it was computed.

    data: any shape; a numpy array keeps its dtype, Python numbers and lists become float32
    (`dtype=` overrides). `requires_grad=True` needs a floating dtype (ValueError otherwise).
    `grad` holds d(output)/d(self) (an ndarray of self's shape and dtype) after `backward()`;
    `name` is a label for drawings and messages (None by default and for ops' outputs).
    """

    __array_ufunc__ = None  # make `ndarray * Tensor` call Tensor.__rmul__, not numpy
    _retains_grad = False
    name = None

    def __init__(self, data, requires_grad=False, dtype=None, name=None):
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
        self.grad = None
        self._ctx = None  # the Function that produced this tensor, if recorded
        if name is not None:
            self.name = name

    @classmethod
    def _from_op(cls, data, ctx):
        out = cls.__new__(cls)
        out.data, out.grad, out._ctx = data, None, ctx
        out.requires_grad = ctx is not None
        return out

    # ----- array-like facts -------------------------------------------------------------
    shape = property(lambda self: self.data.shape, doc="The shape of `data`, a tuple of ints.")
    dtype = property(lambda self: self.data.dtype, doc="The numpy dtype of `data`.")
    ndim = property(lambda self: self.data.ndim, doc="The number of axes of `data`.")
    size = property(lambda self: self.data.size, doc="The number of elements of `data`.")
    is_leaf = property(lambda self: self._ctx is None, doc="True for a tensor no recorded operation made.")

    def __len__(self):
        return len(self.data)

    def __repr__(self):
        body = np.array2string(self.data, separator=", ", prefix="Tensor(")
        extra = ", requires_grad=True" if self.requires_grad else ""
        dtype = "" if self.dtype == DEFAULT_DTYPE else f", dtype={self.dtype}"
        return f"Tensor({body}{dtype}{extra})"

    def _repr_html_(self):
        """Jupyter's display: shape, dtype, values (or statistics when large) and the gradient."""
        from .display import tensor_html

        return tensor_html(self)

    def numpy(self) -> np.ndarray:
        """The data itself (not a copy): an ndarray of this tensor's shape and dtype."""
        return self.data

    def tolist(self):
        """The data as (nested) Python lists of Python numbers, as `ndarray.tolist()`."""
        return self.data.tolist()

    def item(self):
        """The one element as a Python number; ValueError when the tensor has more than one."""
        if self.data.size != 1:
            raise ValueError(f"item() needs a tensor with one element, this one has shape {self.shape}")
        return self.data.item()

    def detach(self) -> "Tensor":
        """The same data (shared, not copied), cut from the graph: requires_grad is False."""
        return Tensor(self.data)

    def retain_grad(self):
        """Keep `.grad` on this non-leaf tensor after backward (the sum of every gradient that
        reached it), as PyTorch's `retain_grad`; leaves keep theirs anyway. Returns None."""
        if not self.requires_grad:
            raise RuntimeError("retain_grad() on a tensor that does not require grad: nothing will reach it")
        self._retains_grad = True

    def zero_grad(self):
        """Forget the gradient: `.grad` becomes None (the next backward writes a fresh array)."""
        self.grad = None

    # ----- the engine -------------------------------------------------------------------
    def backward(self, gradient=None, retain_graph=False):
        """Back-propagate from this tensor, adding d(self)/d(leaf) into every leaf's `.grad`.

        gradient: None for a one-element tensor (d self/d self = 1), else an array of self's shape.
        Each operation's saved arrays are released as soon as its backward has run (as in PyTorch);
        `retain_graph=True` keeps them for a second backward through the same graph. Raises
        RuntimeError when nothing requires grad, when the graph was already freed, or when a saved
        tensor was modified in place since forward; ValueError for a wrong `gradient` shape.
        """
        handed_out = set()  # ids of arrays some .grad now owns: never add into them elsewhere
        grads = {id(self): self._seed_gradient(gradient, handed_out)}
        for node in reversed(topological_order(self)):
            grad = grads.pop(id(node), None)
            if grad is None:
                continue
            if node._ctx is None or node._retains_grad:
                node._accumulate_grad(grad, handed_out)
            fn = node._ctx
            if fn is None:
                continue
            if fn is _RELEASED:
                raise RuntimeError("backward through a graph a second time: its saved arrays were freed by the "
                                   "first backward; pass retain_graph=True to the first call to keep them")
            fn.check_saved_versions(node)
            for inp, needs, input_grad in zip(fn.inputs, fn.needs_grad, fn.backward(grad)):
                if needs and input_grad is not None:
                    _add_gradient(grads, inp, unbroadcast(input_grad, inp.data.shape, inp.data.dtype))
            if not retain_graph:
                node._ctx = _RELEASED

    def _seed_gradient(self, gradient, handed_out):
        if not self.requires_grad:
            raise RuntimeError(
                "backward() on a tensor that does not require grad: no input of the computation "
                "had requires_grad=True (or it ran inside no_grad())"
            )
        if self._ctx is _RELEASED:
            raise RuntimeError("backward through a graph a second time: its saved arrays were freed by the "
                               "first backward; pass retain_graph=True to the first call to keep them")
        if gradient is None:
            if self.data.size != 1:
                raise ValueError(
                    f"backward() without a gradient needs a scalar; this tensor has shape {self.shape}. "
                    f"Reduce it first (.sum() or .mean()) or pass gradient= of the same shape"
                )
            return np.ones_like(self.data)
        gradient = np.asarray(gradient.data if isinstance(gradient, Tensor) else gradient, dtype=self.dtype)
        if gradient.shape != self.shape:
            raise ValueError(f"backward(gradient) got shape {gradient.shape} for a tensor of shape {self.shape}")
        handed_out.add(id(gradient))  # the caller's array: never add into it
        return gradient

    def _accumulate_grad(self, grad, handed_out):
        """self.grad += grad; the first gradient is kept as is when nothing else can hold it."""
        if self.grad is not None:
            self.grad += grad
            return
        if grad.base is not None or id(grad) in handed_out or not grad.flags.writeable:
            grad = grad.copy()
        handed_out.add(id(grad))
        self.grad = grad

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

    # ----- methods: reductions, element-wise, shape (dim=/keepdim= as PyTorch, axis=/keepdims= as NumPy) --
    def sum(self, axis=None, keepdims=False, *, dim=None, keepdim=None):
        """Sum over `axis` (int, tuple or None for all); differentiable (a copy in reverse)."""
        return _ops.Sum.apply(self, axis=_axis(axis, dim), keepdims=_keep(keepdims, keepdim))

    def mean(self, axis=None, keepdims=False, *, dim=None, keepdim=None):
        """Mean over `axis` (int, tuple or None for all); differentiable."""
        return _ops.Mean.apply(self, axis=_axis(axis, dim), keepdims=_keep(keepdims, keepdim))

    def max(self, axis=None, keepdims=False, *, dim=None, keepdim=None):
        """Largest value over `axis` (the values only; `argmax` gives the indices); differentiable."""
        return _ops.Max.apply(self, axis=_axis(axis, dim), keepdims=_keep(keepdims, keepdim))

    def argmax(self, axis=None, keepdims=False, *, dim=None, keepdim=None):
        """Indices (int64, not differentiable) of the largest values along `axis` (None: of the flattened data)."""
        return Tensor(np.argmax(self.data, axis=_axis(axis, dim), keepdims=_keep(keepdims, keepdim)))

    def exp(self):
        """e ** self, element-wise; differentiable."""
        return _ops.Exp.apply(self)

    def log(self):
        """Natural logarithm, element-wise; differentiable."""
        return _ops.Log.apply(self)

    def sqrt(self):
        """Square root, element-wise; differentiable."""
        return _ops.Sqrt.apply(self)

    def abs(self):
        """|self|, element-wise; differentiable (gradient 0 at 0)."""
        return _ops.Abs.apply(self)

    def clamp(self, min=None, max=None):
        """Each element limited to [min, max] (either may be None); the gradient passes where
        min <= x <= max and stops where the bound was applied, as torch.clamp."""
        if min is None and max is None:
            raise ValueError("clamp() needs min= or max= (or both)")
        return _ops.Clamp.apply(self, min=min, max=max)

    def clone(self):
        """A copy of the data that stays in the graph (its gradient passes straight through)."""
        return _ops.Clone.apply(self)

    def reshape(self, *shape):
        """The same numbers in a new shape (one dimension may be -1); `t.reshape(2, 3)` or `((2, 3))`."""
        return _ops.Reshape.apply(self, shape=_shape_of(shape))

    view = reshape  # PyTorch's name; here it may copy when the data is not contiguous

    def flatten(self, start_dim=0):
        """Axes from `start_dim` on merged into one: (N, 28, 28).flatten(1) -> (N, 784)."""
        return self.reshape(*self.shape[:start_dim], -1) if self.ndim else self.reshape(1)

    def unsqueeze(self, dim):
        """A new axis of length 1 at position `dim` (negative counts from the end of the result)."""
        dim = dim if dim >= 0 else dim + self.ndim + 1
        return self.reshape(*self.shape[:dim], 1, *self.shape[dim:])

    def squeeze(self, dim=None):
        """Axes of length 1 removed (all of them, or only `dim` when it has length 1), as torch.squeeze."""
        dims = [d % max(self.ndim, 1) for d in ((dim,) if isinstance(dim, int) else dim or range(self.ndim))]
        return self.reshape(*[n for i, n in enumerate(self.shape) if not (i in dims and n == 1)])

    def transpose(self, *axes):
        """Axes permuted (all reversed when none given); `t.transpose(1, 0)` or `((1, 0))`."""
        return _ops.Transpose.apply(self, axes=_shape_of(axes) or None)

    T = property(lambda self: self.transpose(), doc="The transpose (axes reversed).")

    def astype(self, dtype):
        """A copy in another dtype; differentiable (the gradient comes back in self's dtype)."""
        return _ops.AsType.apply(self, dtype=np.dtype(dtype))

    def float(self):
        """This tensor as float32 (itself when it already is), as PyTorch's `.float()`."""
        return self if self.dtype == np.float32 else self.astype(np.float32)

    def double(self):
        """This tensor as float64 (itself when it already is), as PyTorch's `.double()`."""
        return self if self.dtype == np.float64 else self.astype(np.float64)



class _Released:
    """Stands where a Function was once backward freed its saved arrays; leads nowhere."""

    name, rule, inputs, needs_grad, saved, constants = "released", "its saved arrays were freed", (), (), (), {}


_RELEASED = _Released()


def _raw(x):
    return x.data if isinstance(x, Tensor) else x


def _axis(axis, dim):
    """One axis argument from NumPy's `axis=` or PyTorch's `dim=` (a list becomes a tuple)."""
    if dim is not None and axis is not None and dim != axis:
        raise TypeError(f"got axis={axis!r} and dim={dim!r}: they are one argument (NumPy's and PyTorch's name); give one")
    axis = axis if dim is None else dim
    return tuple(axis) if isinstance(axis, list) else axis


def _keep(keepdims, keepdim):
    return bool(keepdims if keepdim is None else keepdim)


def _shape_of(args):
    return tuple(args[0]) if len(args) == 1 and isinstance(args[0], (tuple, list)) else tuple(args)


def topological_order(root):
    """Every node reachable from `root` that requires grad, each after all of its inputs (a list).

    Iterative depth-first search (no recursion limit); `backward` visits the reverse of this list.
    """
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


def _add_gradient(grads, node, grad):
    """Fan-out: a node used twice gets the sum (never in place: `grad` may be shared with another input)."""
    key = id(node)
    grads[key] = grad if key not in grads else grads[key] + grad


def unbroadcast(grad, shape, dtype):
    """Sum `grad` down to `shape` (and cast it to `dtype`): broadcasting copied the input, and a
    copy's gradient is a sum. grad: the broadcast result's shape; returns an array of `shape`."""
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


class _CallableModule(types.ModuleType):
    """This module, callable: `nnscratch.tensor(data)` makes a Tensor (see `creation.tensor`)."""

    def __call__(self, data, dtype=None, requires_grad=False):
        from .creation import tensor

        return tensor(data, dtype=dtype, requires_grad=requires_grad)

    def __getattr__(self, name):
        if name == "Function":  # its home is function.py; ops and older code import it from here
            from .function import Function

            return Function
        raise AttributeError(f"module {self.__name__!r} has no attribute {name!r}")


sys.modules[__name__].__class__ = _CallableModule

from . import ops as _ops  # noqa: E402  (ops needs Tensor defined above)
