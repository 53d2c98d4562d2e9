"""Max and average pooling over windows of NCHW (and NCL) arrays.

Both walk the kh·kw offsets of a window, each one strided slice of the input covering every window
at once, so a 2x2 pool is four whole-array operations, not a loop over pixels. Max pooling remembers
which offset won each window (one small integer per output); backward routes each output's gradient
to that winner alone (the max gate). Average pooling spreads each output's gradient evenly over its
window (a mean gate). The 1-D forms are the 2-D ones with a height of one.

Outputs and gradients keep the input's memory layout (batch last after a convolution, see
functional.conv), so every pass streams through memory in step. Each channel's windows are its own,
so max pooling is written for a block of channels `c`, which parallel.for_channel_blocks runs on two
threads.
"""

from __future__ import annotations

import numpy as np

from ..function import Function
from ..parallel import for_channel_blocks
from .conv import in_layout_of, output_size, pair


def _offsets(x_shape, kernel, stride):
    """(output height, width) and, for each kernel offset (i, j), the slice of x it covers in every window."""
    (kh, kw), (sh, sw) = kernel, stride
    h, w = x_shape[-2:]
    ho, wo = output_size(h, kh, sh, 0), output_size(w, kw, sw, 0)
    if ho < 1 or wo < 1:
        raise ValueError(f"pooling: a {kh}x{kw} window does not fit an input of {h}x{w}; use a smaller kernel_size")
    slices = [(i * kw + j, (..., slice(i, i + sh * ho, sh), slice(j, j + sw * wo, sw)))
              for i in range(kh) for j in range(kw)]
    return (ho, wo), slices


class MaxPool2dFunction(Function):
    """y[n, c, p, q] = the max of x over window (p, q): x: (N, C, H, W) -> y: (N, C, Ho, Wo).
    Ties go to the first offset in row-major order (as PyTorch's); a NaN in a window makes its max NaN.
    Constants: kernel, stride (pairs)."""

    name = "maxpool2d"
    rule = "a max gate routes the gradient to the winner: each window's gradient goes to its largest input"

    def forward(self, x, *, kernel, stride):
        _, slices = _offsets(x.shape, kernel, stride)
        best = np.empty_like(x[slices[0][1]])  # in x's memory layout
        # winner: which offset (0 .. kh·kw − 1, row-major) holds each window's max, in the smallest integer type
        winner = np.zeros_like(best, dtype=np.min_scalar_type(len(slices) - 1))

        def pool(c):  # channels c: each channel's windows are its own
            x_c, best_c, winner_c = x[c], best[c], winner[c]
            best_c[...] = x_c[slices[0][1]]
            better = np.empty_like(winner_c)
            for k, where in slices[1:]:
                np.greater(x_c[where], best_c, out=better)  # 1 where offset k beats all before it (a tie stays earlier)
                better *= k  # k where it wins, else 0: k exceeds every earlier winner, so a max records it
                np.maximum(winner_c, better, out=winner_c)  # (arithmetic, not a masked copy: slow on random masks)
                np.maximum(best_c, x_c[where], out=best_c)
        for_channel_blocks(pool, x)
        self.save(x, winner)
        return best

    def backward(self, grad):
        x, winner = self.saved
        kernel, stride = self.constants["kernel"], self.constants["stride"]
        _, slices = _offsets(x.shape, kernel, stride)
        grad = in_layout_of(grad, winner)
        tiles = kernel == stride and x.shape[-2] % kernel[0] == 0 and x.shape[-1] % kernel[1] == 0
        # windows that tile x exactly cover each input once: write each offset's share, no zero-fill or sum
        dx = np.empty_like(x, dtype=grad.dtype) if tiles else np.zeros_like(x, dtype=grad.dtype)

        def route(c):  # channels c
            grad_c, winner_c, dx_c = grad[c], winner[c], dx[c]
            for k, where in slices:
                routed = winner_c == k
                if tiles:
                    np.multiply(grad_c, routed, out=dx_c[where])
                else:  # overlapping windows (stride < kernel) add up, as a copy's gradient does
                    dx_c[where] += grad_c * routed
        for_channel_blocks(route, x)
        return (dx,)


class AvgPool2dFunction(Function):
    """y[n, c, p, q] = the mean of x over window (p, q): x: (N, C, H, W) -> y: (N, C, Ho, Wo).
    Constants: kernel, stride (pairs)."""

    name = "avgpool2d"
    rule = "a mean gate spreads the gradient evenly: each input of a window gets g / (kh·kw)"

    def forward(self, x, *, kernel, stride):
        _, slices = _offsets(x.shape, kernel, stride)
        total = x[slices[0][1]].astype(np.result_type(x.dtype, np.float32), copy=True)
        for _, where in slices[1:]:
            total += x[where]
        self.x_shape = x.shape
        return total / total.dtype.type(len(slices))

    def backward(self, grad):
        _, slices = _offsets(self.x_shape, self.constants["kernel"], self.constants["stride"])
        share = grad / grad.dtype.type(len(slices))
        dx = np.zeros(self.x_shape, grad.dtype)
        for _, where in slices:
            dx[where] += share
        return (dx,)


class MaxPool1dFunction(MaxPool2dFunction):
    """y[n, c, p] = the max of x over window p: x: (N, C, L) -> y: (N, C, Lo). Constants: kernel, stride (pairs,
    height 1), the 2-D gate on a height of one."""

    name = "maxpool1d"
    rule = "a max gate routes the gradient to the winner: each window's gradient goes to its largest input position"

    def forward(self, x, *, kernel, stride):
        if x.ndim != 3:
            raise ValueError(f"max_pool1d: expected x: (N, C, L), got shape {x.shape}")
        return super().forward(x[:, :, None, :], kernel=kernel, stride=stride)[:, :, 0, :]

    def backward(self, grad):
        (dx,) = super().backward(grad[:, :, None, :])
        return (dx[:, :, 0, :],)


def _check_images(x, what):
    if x.ndim != 4:
        raise ValueError(f"{what}: expected x: (N, C, H, W), got shape {tuple(x.shape)}; "
                         f"add a channel axis (x.reshape(N, 1, H, W)) for grey images")


def max_pool2d(x, kernel_size, stride=None):
    """Max over kernel_size windows every stride pixels (stride defaults to kernel_size, as in PyTorch):
    x: (N, C, H, W) -> (N, C, Ho, Wo), Ho = ⌊(H − kh) / sh⌋ + 1. Raises ValueError for another rank."""
    _check_images(x, "max_pool2d")
    kernel = pair(kernel_size)
    return MaxPool2dFunction.apply(x, kernel=kernel, stride=pair(stride, "stride") if stride else kernel)


def avg_pool2d(x, kernel_size, stride=None):
    """Mean over kernel_size windows every stride pixels (default: kernel_size): x: (N, C, H, W) ->
    (N, C, Ho, Wo). Raises ValueError for another rank."""
    _check_images(x, "avg_pool2d")
    kernel = pair(kernel_size)
    return AvgPool2dFunction.apply(x, kernel=kernel, stride=pair(stride, "stride") if stride else kernel)


def max_pool1d(x, kernel_size, stride=None):
    """Max over kernel_size windows every stride positions (default: kernel_size): x: (N, C, L) -> (N, C, Lo),
    Lo = ⌊(L − k) / stride⌋ + 1. Raises ValueError for another rank."""
    k = int(kernel_size)
    return MaxPool1dFunction.apply(x, kernel=(1, k), stride=(1, int(stride) if stride else k))
