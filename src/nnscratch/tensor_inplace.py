"""A Tensor's in-place operations (`t[i] = v`, `add_`, `mul_`, `zero_`, ...) and the version counter
they bump, as in PyTorch.

An operation's backward reads arrays saved at forward time; change one in place and the gradient
would silently use the new numbers. So every in-place change bumps `t._version`, the engine
records the version of every tensor whose array an op saved, and backward refuses when it moved
on (`tensor.Function.check_saved_versions`). Imports numpy and grad_mode only.
"""

from __future__ import annotations

import numpy as np

from .grad_mode import _grad_mode


def _raw(x):
    return x.data if hasattr(x, "_ctx") else x  # a Tensor's array, anything else as it is


def _plain(index):
    if isinstance(index, tuple):
        return tuple(_raw(i) for i in index)
    return _raw(index)


class InPlaceMethods:
    """Mixin of `Tensor`: the in-place operations. Each returns the tensor itself and raises
    RuntimeError, as PyTorch does, on a tensor that requires grad while grad mode is on (an
    optimiser's update runs under `no_grad()`)."""

    _version = 0  # how many in-place changes `data` has seen

    def _bump_version(self, operation):
        if self.requires_grad and _grad_mode.enabled:
            where = "a leaf tensor that requires grad" if self._ctx is None else "a tensor recorded in a graph"
            raise RuntimeError(
                f"{operation} changes {where} in place, which would corrupt its gradient; do the update "
                f"inside `with nnscratch.no_grad():` (as an optimiser does), or write it out of place "
                f"(t = t + x) or on a clone (t.clone())"
            )
        self._version += 1

    def _in_place(self, operation, ufunc, *operands):
        self._bump_version(operation)
        ufunc(self.data, *[_raw(x) for x in operands], out=self.data, casting="same_kind")
        return self

    def __setitem__(self, index, value):
        self._bump_version("t[index] = value")
        self.data[_plain(index)] = _raw(value)

    def add_(self, other, *, alpha=1):
        """self += alpha * other, in place (other broadcasts to self's shape); returns self."""
        return self._in_place("add_", np.add, _raw(other) * alpha if alpha != 1 else other)

    def sub_(self, other, *, alpha=1):
        """self -= alpha * other, in place; returns self."""
        return self._in_place("sub_", np.subtract, _raw(other) * alpha if alpha != 1 else other)

    def mul_(self, other):
        """self *= other, in place; returns self."""
        return self._in_place("mul_", np.multiply, other)

    def div_(self, other):
        """self /= other, in place (a float tensor: true division); returns self."""
        return self._in_place("div_", np.divide, other)

    def zero_(self):
        """Set every element to 0, in place; returns self."""
        self._bump_version("zero_")
        self.data.fill(0)
        return self

    def fill_(self, value):
        """Set every element to the number `value`, in place; returns self."""
        self._bump_version("fill_")
        self.data.fill(_raw(value))
        return self

    def copy_(self, src):
        """Copy `src` (broadcastable to self's shape) into self in place, keeping self's dtype; returns self."""
        self._bump_version("copy_")
        np.copyto(self.data, _raw(src), casting="same_kind")
        return self

    def clamp_(self, min=None, max=None):
        """Limit every element to [min, max] in place (either bound may be None); returns self."""
        if min is None and max is None:
            raise ValueError("clamp_() needs min= or max= (or both)")
        self._bump_version("clamp_")
        np.clip(self.data, _raw(min), _raw(max), out=self.data)
        return self
