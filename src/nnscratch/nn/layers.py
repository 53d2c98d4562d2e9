"""Layers with parameters (`Linear`, `Maxout`) and the shape-only `Flatten` and `Identity`."""

from __future__ import annotations

import numpy as np

from .. import functional as F
from ..rng import as_generator
from ..tensor import Tensor
from . import init as initializers
from .module import Module, Parameter


def _check_size(layer, **sizes):
    for name, value in sizes.items():
        if not isinstance(value, (int, np.integer)) or value < 1:
            raise ValueError(f"{layer}: {name} must be a positive integer, got {value!r}")


class Linear(Module):
    """y = x @ W + b, with W of shape (in_features, out_features): the lecture's `x @ W`.

    x: (N, in_features) -> y: (N, out_features). `init` names the weight initialiser
    (see `nn.init`); biases start at zero.
    """

    def __init__(self, in_features, out_features, bias=True, init="kaiming", rng=None, dtype=np.float32):
        _check_size("Linear", in_features=in_features, out_features=out_features)
        self.in_features, self.out_features = int(in_features), int(out_features)
        self.init = init if isinstance(init, str) else getattr(init, "__name__", "custom")
        draw = initializers.get(init)
        self.weight = Parameter(draw((self.in_features, self.out_features), rng=rng, dtype=dtype))
        self.bias = Parameter(np.zeros(self.out_features, dtype=dtype)) if bias else None

    def forward(self, x):
        if x.ndim < 1 or x.shape[-1] != self.in_features:
            raise ValueError(f"{self._name()} got input of shape {tuple(x.shape)}; {self._fix_for(x.shape)}")
        return F.linear(x, self.weight, self.bias)

    def config(self):
        return {"in_features": self.in_features, "out_features": self.out_features,
                "bias": self.bias is not None, "dtype": str(self.weight.dtype)}

    def _name(self):
        return f"Linear({self.in_features} -> {self.out_features})"

    def _fix_for(self, shape):
        if len(shape) > 2 and int(np.prod(shape[1:])) == self.in_features:
            return "flatten the images first (nn.Flatten() or x.reshape(len(x), -1))"
        return f"it expects (N, {self.in_features}): check the previous layer's out_features or the data's width"

    def extra_repr(self):
        return f"{self.in_features} -> {self.out_features}" + ("" if self.bias is not None else ", bias=False")


class Maxout(Module):
    """Maxout (Goodfellow et al., 2013): the max over `pieces` linear maps of the input.

    y = max_k (x @ W[k] + b[k]), W: (pieces, in_features, out_features). The max gate routes
    each output's gradient to the winning piece only.
    """

    def __init__(self, in_features, out_features, pieces=2, init="kaiming", rng=None, dtype=np.float32):
        _check_size("Maxout", in_features=in_features, out_features=out_features, pieces=pieces)
        self.in_features, self.out_features, self.pieces = int(in_features), int(out_features), int(pieces)
        draw = initializers.get(init)
        self.weight = Parameter(draw((self.pieces, self.in_features, self.out_features), rng=rng, dtype=dtype))
        self.bias = Parameter(np.zeros((self.pieces, 1, self.out_features), dtype=dtype))

    def forward(self, x):
        if x.ndim != 2 or x.shape[-1] != self.in_features:
            raise ValueError(
                f"Maxout({self.in_features} -> {self.out_features}) got input of shape {tuple(x.shape)}; "
                f"it expects (N, {self.in_features})"
            )
        if x.dtype != self.weight.dtype:
            x = (x if isinstance(x, Tensor) else Tensor(x)).astype(self.weight.dtype)
        pieces = x @ self.weight + self.bias  # (pieces, N, out): x is copied to every piece
        return pieces.max(axis=0)

    def config(self):
        return {"in_features": self.in_features, "out_features": self.out_features, "pieces": self.pieces,
                "dtype": str(self.weight.dtype)}

    def extra_repr(self):
        return f"{self.in_features} -> {self.out_features}, pieces={self.pieces}"


class Flatten(Module):
    """(N, d1, d2, ...) -> (N, d1 * d2 * ...): images to the rows a Linear layer takes."""

    def forward(self, x):
        return F.flatten(x)

    def config(self):
        return {}


class Identity(Module):
    """Returns its input: a placeholder where a layer is optional (no activation, say)."""

    def forward(self, x):
        return x

    def config(self):
        return {}


class Dropout(Module):
    """Inverted dropout: in training, zero each input with probability p and scale the rest
    by 1 / (1 - p), so evaluation (which passes x through) needs no rescaling."""

    def __init__(self, p=0.5, rng=None):
        if not 0 <= p < 1:
            raise ValueError(f"Dropout: p must lie in [0, 1), got {p}")
        self.p = float(p)
        self.rng = as_generator(rng)

    def forward(self, x):
        if not self.training or self.p == 0:
            return x
        keep = self.rng.random(x.shape, dtype=np.float32) >= self.p
        return x * Tensor(keep * np.asarray(1 / (1 - self.p), dtype=x.dtype))

    def config(self):
        return {"p": self.p}

    def extra_repr(self):
        return f"p={self.p}"


class Unflatten(Module):
    """Split axis `dim` into `unflattened_size`, as PyTorch's: Unflatten(1, (1, 28)) makes (N, 28, 28)
    images the (N, 1, 28, 28) a Conv2d reads; Unflatten(1, (1, 28, 28)) does so for rows (N, 784).
    Raises ValueError when the sizes do not multiply to the axis's length."""

    def __init__(self, dim, unflattened_size):
        self.dim, self.unflattened_size = int(dim), tuple(int(s) for s in unflattened_size)

    def forward(self, x):
        x = x if isinstance(x, Tensor) else Tensor(np.asarray(x))
        dim = self.dim % x.ndim
        if x.shape[dim] != int(np.prod(self.unflattened_size)):
            raise ValueError(f"Unflatten({self.dim}, {self.unflattened_size}) got input of shape {tuple(x.shape)}; "
                             f"axis {self.dim} must hold {int(np.prod(self.unflattened_size))} values")
        return x.reshape(*x.shape[:dim], *self.unflattened_size, *x.shape[dim + 1:])

    def config(self):
        return {"dim": self.dim, "unflattened_size": list(self.unflattened_size)}

    def extra_repr(self):
        return f"dim={self.dim}, unflattened_size={self.unflattened_size}"


class Permute(Module):
    """Reorder the axes: Permute((0, 3, 1, 2)) makes channels-last (N, H, W, C) images the
    (N, C, H, W) a Conv2d reads (as torchvision.ops.Permute). dims: one index per axis, batch first."""

    def __init__(self, dims):
        self.dims = tuple(int(d) for d in dims)

    def forward(self, x):
        x = x if isinstance(x, Tensor) else Tensor(np.asarray(x))
        if x.ndim != len(self.dims):
            raise ValueError(f"Permute{self.dims} got input of shape {tuple(x.shape)}; it expects {len(self.dims)} axes")
        return x.transpose(*self.dims)

    def config(self):
        return {"dims": list(self.dims)}

    def extra_repr(self):
        return f"dims={self.dims}"
