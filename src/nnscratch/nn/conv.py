"""Convolutional layers: `Conv2d` on NCHW images and `Conv1d` on NCL sequences (see functional.conv
for im2col and col2im).

Filters are stored in PyTorch's layout, weight: (out_channels, in_channels, kh, kw), so a
filter is one row of the GEMM's weight matrix and `model[0].weight.data[k, 0]` is the k-th
first-layer filter to draw. Each layer owns a ColumnBuffer: one batch's im2col columns, reused.
"""

from __future__ import annotations

import numpy as np

from .. import functional as F
from ..functional.conv import ColumnBuffer, pair
from . import init as initializers
from .layers import _check_size
from .module import Module, Parameter


def _filters(init, out_channels, in_channels, kernel, rng, dtype):
    """Weights (O, C, *kernel) drawn as a (C·kh·kw, O) matrix, so the initialiser sees fan_in = C·kh·kw."""
    fan_in = in_channels * int(np.prod(kernel))
    draw = initializers.get(init)
    return np.ascontiguousarray(draw((fan_in, out_channels), rng=rng, dtype=dtype).T).reshape(
        (out_channels, in_channels) + tuple(kernel))


class Conv2d(Module):
    """2-D convolution (cross-correlation, as PyTorch's): x: (N, in_channels, H, W) ->
    y: (N, out_channels, Ho, Wo), Ho = ⌊(H + 2·padding − kh) / stride⌋ + 1 (LeCun et al., 1998;
    CS231n's im2col). kernel_size, stride, padding: an int or an (h, w) pair. `init` names the
    weight initialiser (fan_in = in_channels·kh·kw); biases start at zero."""

    def __init__(self, in_channels, out_channels, kernel_size, stride=1, padding=0, bias=True, init="kaiming",
                 rng=None, dtype=np.float32):
        _check_size("Conv2d", in_channels=in_channels, out_channels=out_channels)
        self.in_channels, self.out_channels = int(in_channels), int(out_channels)
        self.kernel_size, self.stride = pair(kernel_size), pair(stride, "stride")
        self.padding = pair(padding, "padding")
        if min(self.kernel_size + self.stride) < 1 or min(self.padding) < 0:
            raise ValueError(f"Conv2d: kernel_size and stride must be positive and padding non-negative, got "
                             f"kernel_size={kernel_size}, stride={stride}, padding={padding}")
        self.init = init if isinstance(init, str) else getattr(init, "__name__", "custom")
        self.weight = Parameter(_filters(init, self.out_channels, self.in_channels, self.kernel_size, rng, dtype))
        self.bias = Parameter(np.zeros(self.out_channels, dtype=dtype)) if bias else None
        self.columns = ColumnBuffer()

    def forward(self, x):
        if x.ndim != 4 or x.shape[1] != self.in_channels:
            raise ValueError(f"{self._name()} got input of shape {tuple(x.shape)}; it expects "
                             f"(N, {self.in_channels}, H, W)"
                             + ("; add the channel axis: x.reshape(len(x), 1, H, W)" if x.ndim == 3 else ""))
        return F.conv2d(x, self.weight, self.bias, self.stride, self.padding, buffer=self.columns)

    def config(self):
        return {"in_channels": self.in_channels, "out_channels": self.out_channels,
                "kernel_size": list(self.kernel_size), "stride": list(self.stride), "padding": list(self.padding),
                "bias": self.bias is not None, "dtype": str(self.weight.dtype)}

    def _name(self):
        return f"Conv2d({self.in_channels} -> {self.out_channels}, kernel_size={self.kernel_size})"

    def extra_repr(self):
        return (f"{self.in_channels}, {self.out_channels}, kernel_size={self.kernel_size}, stride={self.stride}, "
                f"padding={self.padding}" + ("" if self.bias is not None else ", bias=False"))


class Conv1d(Module):
    """1-D convolution: x: (N, in_channels, L) -> y: (N, out_channels, Lo), Lo = ⌊(L + 2·padding − k) / stride⌋ + 1;
    weight: (out_channels, in_channels, k). The Conv2d computation with a height of one."""

    def __init__(self, in_channels, out_channels, kernel_size, stride=1, padding=0, bias=True, init="kaiming",
                 rng=None, dtype=np.float32):
        _check_size("Conv1d", in_channels=in_channels, out_channels=out_channels, kernel_size=kernel_size,
                    stride=stride)
        if not isinstance(padding, (int, np.integer)) or padding < 0:
            raise ValueError(f"Conv1d: padding must be a non-negative integer, got {padding!r}")
        self.in_channels, self.out_channels = int(in_channels), int(out_channels)
        self.kernel_size, self.stride, self.padding = int(kernel_size), int(stride), int(padding)
        self.init = init if isinstance(init, str) else getattr(init, "__name__", "custom")
        self.weight = Parameter(_filters(init, self.out_channels, self.in_channels, (self.kernel_size,), rng, dtype))
        self.bias = Parameter(np.zeros(self.out_channels, dtype=dtype)) if bias else None
        self.columns = ColumnBuffer()

    def forward(self, x):
        if x.ndim != 3 or x.shape[1] != self.in_channels:
            raise ValueError(f"Conv1d({self.in_channels} -> {self.out_channels}) got input of shape "
                             f"{tuple(x.shape)}; it expects (N, {self.in_channels}, L)"
                             + ("; add the channel axis: x.reshape(len(x), 1, L)" if x.ndim == 2 else ""))
        return F.conv1d(x, self.weight, self.bias, self.stride, self.padding, buffer=self.columns)

    def config(self):
        return {"in_channels": self.in_channels, "out_channels": self.out_channels, "kernel_size": self.kernel_size,
                "stride": self.stride, "padding": self.padding, "bias": self.bias is not None,
                "dtype": str(self.weight.dtype)}

    def extra_repr(self):
        return (f"{self.in_channels}, {self.out_channels}, kernel_size={self.kernel_size}, stride={self.stride}, "
                f"padding={self.padding}" + ("" if self.bias is not None else ", bias=False"))
