"""Pooling layers: `MaxPool2d`, `AvgPool2d` (NCHW) and `MaxPool1d` (NCL); no parameters."""

from __future__ import annotations

from .. import functional as F
from ..functional.conv import pair
from .module import Module


class MaxPool2d(Module):
    """The max over each kernel_size window, every stride pixels (default: kernel_size, as PyTorch):
    x: (N, C, H, W) -> (N, C, Ho, Wo), Ho = ⌊(H − kh) / sh⌋ + 1. Backward routes to the winner."""

    def __init__(self, kernel_size, stride=None):
        self.kernel_size = pair(kernel_size)
        self.stride = pair(stride, "stride") if stride else self.kernel_size
        if min(self.kernel_size + self.stride) < 1:
            raise ValueError(f"{type(self).__name__}: kernel_size and stride must be positive, got "
                             f"kernel_size={kernel_size}, stride={stride}")

    def forward(self, x):
        return F.max_pool2d(x, self.kernel_size, self.stride)

    def config(self):
        return {"kernel_size": list(self.kernel_size), "stride": list(self.stride)}

    def extra_repr(self):
        return f"kernel_size={self.kernel_size}, stride={self.stride}"


class AvgPool2d(MaxPool2d):
    """The mean over each kernel_size window, every stride pixels (default: kernel_size):
    x: (N, C, H, W) -> (N, C, Ho, Wo). Backward spreads g evenly over the window."""

    def forward(self, x):
        return F.avg_pool2d(x, self.kernel_size, self.stride)


class MaxPool1d(Module):
    """The max over each kernel_size window, every stride positions (default: kernel_size):
    x: (N, C, L) -> (N, C, Lo), Lo = ⌊(L − k) / stride⌋ + 1."""

    def __init__(self, kernel_size, stride=None):
        if not isinstance(kernel_size, int) or kernel_size < 1 or (stride is not None and (
                not isinstance(stride, int) or stride < 1)):
            raise ValueError(f"MaxPool1d: kernel_size and stride must be positive integers, got "
                             f"kernel_size={kernel_size!r}, stride={stride!r}")
        self.kernel_size, self.stride = kernel_size, stride or kernel_size

    def forward(self, x):
        if x.ndim != 3:
            raise ValueError(f"MaxPool1d got input of shape {tuple(x.shape)}; it expects (N, C, L)")
        return F.max_pool1d(x, self.kernel_size, self.stride)

    def config(self):
        return {"kernel_size": self.kernel_size, "stride": self.stride}

    def extra_repr(self):
        return f"kernel_size={self.kernel_size}, stride={self.stride}"
