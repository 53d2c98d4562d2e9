"""Tensors made from scratch, with PyTorch's names: `tensor`, `zeros`, `ones`, `randn`, `arange`.

    import nnscratch as ns
    x = ns.tensor([[1.0, 2.0]], requires_grad=True)
    w = ns.randn(2, 3, rng=0)

Float tensors are float32 unless `dtype=` says otherwise; everything random takes `rng=`
(an int seed or a numpy Generator), never numpy's global state.
"""

from __future__ import annotations

import numbers

import numpy as np

from .rng import as_generator
from .tensor import DEFAULT_DTYPE, Tensor


def _size(size):
    shape = tuple(size[0]) if len(size) == 1 and isinstance(size[0], (tuple, list)) else tuple(size)
    for n in shape:
        if not isinstance(n, (numbers.Integral, np.integer)) or n < 0:
            raise ValueError(f"sizes must be non-negative integers, got {shape}")
    return shape


def tensor(data, dtype=None, requires_grad=False):
    """A new Tensor holding a copy of `data` (a number, a nested list or tuple, an array or a Tensor),
    as torch.tensor. Python numbers and lists become float32 (int64 when they are all integers);
    numpy arrays keep their dtype. Raises ValueError for requires_grad on a non-float dtype."""
    raw = data.data if isinstance(data, Tensor) else data
    if dtype is None and not isinstance(raw, (np.ndarray, np.generic)):
        kind = np.asarray(raw).dtype.kind
        dtype = np.int64 if kind in "iu" else np.bool_ if kind == "b" else DEFAULT_DTYPE
    return Tensor(np.array(raw, dtype=dtype), requires_grad=requires_grad)


def zeros(*size, dtype=None, requires_grad=False):
    """A Tensor of zeros of shape `size` (`zeros(2, 3)` or `zeros((2, 3))`), float32 by default."""
    return Tensor(np.zeros(_size(size), dtype or DEFAULT_DTYPE), requires_grad=requires_grad)


def ones(*size, dtype=None, requires_grad=False):
    """A Tensor of ones of shape `size`, float32 by default."""
    return Tensor(np.ones(_size(size), dtype or DEFAULT_DTYPE), requires_grad=requires_grad)


def randn(*size, rng=None, dtype=None, requires_grad=False):
    """Standard-normal samples N(0, 1) of shape `size`, float32 by default, drawn from `rng`
    (an int seed or a numpy Generator; the same seed gives the same numbers)."""
    dtype = np.dtype(dtype or DEFAULT_DTYPE)
    if dtype.kind != "f":
        raise ValueError(f"randn draws floating-point numbers; dtype={dtype} is not one (use float32 or float64)")
    data = as_generator(rng).standard_normal(_size(size), dtype=dtype.type if dtype.itemsize >= 4 else np.float32)
    return Tensor(data.astype(dtype, copy=False), requires_grad=requires_grad)


def arange(start, end=None, step=1, *, dtype=None, requires_grad=False):
    """Numbers from `start` up to (not including) `end` in steps of `step`, as torch.arange:
    int64 when all three are integers, else float32 (`arange(5)` is 0..4)."""
    if end is None:
        start, end = 0, start
    if step == 0:
        raise ValueError("arange: step must not be 0")
    if dtype is None:
        whole = all(isinstance(v, (numbers.Integral, np.integer)) for v in (start, end, step))
        dtype = np.int64 if whole else DEFAULT_DTYPE
    return Tensor(np.arange(start, end, step).astype(dtype), requires_grad=requires_grad)
