"""Batch normalisation (Ioffe and Szegedy, 2015) as one fused operation.

Each channel is standardised with its batch's mean and variance, then scaled and shifted:
x̂ = (x − μ) / √(σ² + eps), y = γ·x̂ + β. Fused because the backward is simplest in closed form
(the paper's Algorithm, collapsed): with m values per channel and dx̂ = g·γ,

    dx = (1/m) · (1/√(σ² + eps)) · (m·dx̂ − Σ dx̂ − x̂ · Σ (dx̂ · x̂)),   dγ = Σ g·x̂,   dβ = Σ g.

Written as five passes over the array forward (mean, centre, Σ (x − μ)², scale, shift) and six
backward (two sums, four for dx), each a whole-array NumPy call; the centred x is what backward
keeps (x̂ = centred / σ is a per-channel factor away, so it is never stored). Sums run in the
array's dtype; the variance is taken of the centred values (two passes), which keeps it accurate
when the mean is large against the spread (tests/test_cnn_fast_paths.py bounds the float32 error).
Every channel is normalised on its own, so forward and backward are written for a block of channels
`c` (x[c]), which parallel.for_channel_blocks runs on two threads, half the channels each.

In training the running statistics move towards the batch's as PyTorch's do:
running = (1 − momentum)·running + momentum·batch, with the unbiased variance (m/(m − 1)·σ²);
in evaluation the running statistics are used and x̂ is an affine map of x.
"""

from __future__ import annotations

import numpy as np

from ..function import Function
from ..parallel import for_channel_blocks
from .conv import in_layout_of


def _channel_axes(x):
    """The axes a channel's statistics run over: (0,) for (N, C), (0, 2) for (N, C, L), (0, 2, 3) for NCHW."""
    if x.ndim < 2:
        raise ValueError(f"batch_norm: expected x: (N, C) or (N, C, ...), got shape {x.shape}")
    return (0,) + tuple(range(2, x.ndim))


def _sum_over_channel(a, b):
    """Σ a·b per channel over every axis but 1, without the product array: (N, C, ...) -> (C,)."""
    axes = "nc" + "ijklm"[: a.ndim - 2]  # "nc", "nci", "ncij": the subscripts of (N, C), (N, C, L), (N, C, H, W)
    return np.einsum(f"{axes},{axes}->c", a, b)


def _per_channel(v, ndim):
    """A (C,) vector shaped to broadcast over (N, C, ...)."""
    return v.reshape((1, -1) + (1,) * (ndim - 2))


class BatchNormFunction(Function):
    """y = γ·(x − μ)/√(σ² + eps) + β per channel: x: (N, C) or (N, C, L) or (N, C, H, W); γ, β: (C,).

    Constants: running_mean, running_var ((C,) arrays, updated in place in training, or None),
    training, momentum, eps."""

    name = "batchnorm"
    rule = ("a batch-norm gate standardises each channel: dγ = Σ g·x̂, dβ = Σ g, and dx removes from "
            "g·γ its mean and its projection on x̂, divided by the std")

    def forward(self, x, weight, bias, *, running_mean=None, running_var=None, training=True, momentum=0.1,
                eps=1e-5):
        axes, ndim = _channel_axes(x), x.ndim
        if x.shape[1] != weight.shape[0]:
            raise ValueError(f"batch_norm: input of shape {x.shape} has {x.shape[1]} channels, the layer "
                             f"{weight.shape[0]} (num_features)")
        if x.dtype != weight.dtype:
            x = x.astype(weight.dtype)
        self.batch_stats = training or running_mean is None
        count = x.size // x.shape[1]
        if self.batch_stats and count < 2:
            raise ValueError(f"batch_norm: expected more than 1 value per channel when training, got input "
                             f"of shape {x.shape}; use a larger batch, or call model.eval() to use the "
                             f"running statistics")
        # per-channel vectors as (1, C, 1, 1), so a block of channels is `v[c]`, as it is `x[c]`
        gamma, beta = _per_channel(weight, ndim), _per_channel(bias, ndim)
        if self.batch_stats:
            mean, var = np.empty_like(gamma), np.empty_like(gamma)
        else:
            mean, var = (_per_channel(running.astype(x.dtype), ndim) for running in (running_mean, running_var))
        inv_std, centred, y = np.empty_like(gamma), np.empty_like(x), np.empty_like(x)  # x's memory layout

        def normalise(c):  # every channel is normalised on its own, so a block of channels is the whole maths
            if self.batch_stats:
                mean[c] = x[c].mean(axis=axes, keepdims=True)
            np.subtract(x[c], mean[c], out=centred[c])
            if self.batch_stats:
                var[c] = _sum_over_channel(centred[c], centred[c]).reshape(mean[c].shape) / count
            inv_std[c] = 1 / np.sqrt(var[c] + eps)
            np.multiply(centred[c], gamma[c] * inv_std[c], out=y[c])  # γ·x̂ = (x − μ)·γ/σ: x̂ never stored
            y[c] += beta[c]
        for_channel_blocks(normalise, x)
        if training and running_mean is not None:
            running_mean *= 1 - momentum
            running_mean += momentum * mean.ravel()
            running_var *= 1 - momentum
            running_var += momentum * var.ravel() * (count / (count - 1))
        self.save(centred, inv_std, gamma)
        return y

    def backward(self, grad):
        centred, inv_std, gamma = self.saved
        grad = in_layout_of(grad, centred)
        axes, needs = _channel_axes(grad), self.needs_grad
        need_sums = needs[0] and self.batch_stats
        m = grad.size // grad.shape[1]
        dgamma, dbeta = np.empty_like(inv_std), np.empty_like(inv_std)  # (1, C, 1, 1), like the saved vectors
        dx = np.empty_like(centred) if needs[0] else None

        def gradients(c):  # channel by channel, as forward
            g = grad[c]
            if needs[1] or need_sums:
                dgamma[c] = inv_std[c] * _sum_over_channel(g, centred[c]).reshape(inv_std[c].shape)  # Σ g·x̂
            if needs[2] or need_sums:
                dbeta[c] = np.add.reduce(g, axis=axes, keepdims=True)  # Σ g
            if needs[0] and self.batch_stats:  # μ and σ depend on x too: remove g's mean and x̂-projection,
                # dx = γ/σ · (g − Σg/m − x̂·Σ(g·x̂)/m), with x̂ = centred/σ: four in-place passes
                np.multiply(centred[c], inv_std[c] * dgamma[c] / m, out=dx[c])
                dx[c] += dbeta[c] / m
                np.subtract(g, dx[c], out=dx[c])
                dx[c] *= gamma[c] * inv_std[c]
            elif needs[0]:
                np.multiply(g, gamma[c] * inv_std[c], out=dx[c])
        for_channel_blocks(gradients, centred)
        return dx, (dgamma.ravel() if needs[1] else None), (dbeta.ravel() if needs[2] else None)


def batch_norm(x, running_mean, running_var, weight, bias, training=False, momentum=0.1, eps=1e-5):
    """Batch normalisation (Ioffe and Szegedy, 2015) of x: (N, C) or (N, C, L) or (N, C, H, W), per channel,
    with weight γ: (C,) and bias β: (C,) (Tensors). running_mean, running_var: (C,) arrays updated in place
    when training (PyTorch's momentum convention and unbiased variance), used instead of the batch's
    statistics when not; None to always use the batch's. Raises ValueError when training with one value
    per channel or when the channels differ."""
    return BatchNormFunction.apply(x, weight, bias, running_mean=running_mean, running_var=running_var,
                                   training=bool(training), momentum=float(momentum), eps=float(eps))
