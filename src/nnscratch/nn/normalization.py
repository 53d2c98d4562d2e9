"""Batch normalisation layers (Ioffe and Szegedy, 2015): `BatchNorm1d` on (N, C) or (N, C, L),
`BatchNorm2d` on (N, C, H, W). Learned γ (`weight`, ones) and β (`bias`, zeros); the running
mean and variance are Buffers (saved with the model, not learned). train() normalises with the
batch's statistics and updates the running ones; eval() uses the running ones. momentum and eps
mean what they mean in PyTorch: running = (1 − momentum)·running + momentum·batch.
"""

from __future__ import annotations

import numpy as np

from .. import functional as F
from .layers import _check_size
from .module import Buffer, Module, Parameter


class _BatchNorm(Module):
    ranks = ()

    def __init__(self, num_features, eps=1e-5, momentum=0.1, affine=True, dtype=np.float32):
        _check_size(type(self).__name__, num_features=num_features)
        if not 0 <= momentum <= 1 or eps <= 0:
            raise ValueError(f"{type(self).__name__}: momentum must lie in [0, 1] and eps be positive, got "
                             f"momentum={momentum}, eps={eps}")
        self.num_features, self.eps, self.momentum = int(num_features), float(eps), float(momentum)
        self.weight = Parameter(np.ones(self.num_features, dtype)) if affine else None
        self.bias = Parameter(np.zeros(self.num_features, dtype)) if affine else None
        self.running_mean = Buffer(np.zeros(self.num_features, dtype))
        self.running_var = Buffer(np.ones(self.num_features, dtype))

    def forward(self, x):
        if x.ndim not in self.ranks or x.shape[1] != self.num_features:
            shapes = " or ".join(f"(N, {self.num_features}{', L' * (r == 3)}{', H, W' * (r == 4)})" for r in self.ranks)
            raise ValueError(f"{type(self).__name__}({self.num_features}) got input of shape {tuple(x.shape)}; "
                             f"it expects {shapes}")
        weight, bias = self.weight, self.bias
        if weight is None:  # affine=False: a fixed γ = 1, β = 0
            weight, bias = np.ones(self.num_features, x.dtype), np.zeros(self.num_features, x.dtype)
        return F.batch_norm(x, self.running_mean.data, self.running_var.data, weight, bias,
                            training=self.training, momentum=self.momentum, eps=self.eps)

    def config(self):
        return {"num_features": self.num_features, "eps": self.eps, "momentum": self.momentum,
                "affine": self.weight is not None, "dtype": str(self.running_mean.dtype)}

    def extra_repr(self):
        return f"{self.num_features}, eps={self.eps}, momentum={self.momentum}"


class BatchNorm1d(_BatchNorm):
    """Batch normalisation of x: (N, C) (per feature) or (N, C, L) (per channel, over N and L)."""

    ranks = (2, 3)


class BatchNorm2d(_BatchNorm):
    """Batch normalisation of x: (N, C, H, W) per channel, over N, H and W."""

    ranks = (4,)
