"""Convolution as one matrix product: im2col, a GEMM, col2im (CS231n's "implementation as matrix
multiplication"; Chellapilla et al., 2006).

Forward copies every receptive field of the (padded) input into one column of a matrix
`cols: (C·kh·kw, Ho·Wo·N)`, so the convolution is `W @ cols + b` with the filters as the rows of
`W: (O, C·kh·kw)`. Backward is the linear gate's rule on that product — dW = g @ colsᵀ,
db = Σ g, dcols = Wᵀ @ g — and col2im adds each column of dcols back onto the input positions it
was copied from (a copy's gradient is a sum). Conv1d is the same computation with a height of one.

Batch last. The columns are ordered (row, column, image), the image index fastest, as in
cuda-convnet's CHWN layout (Krizhevsky, 2012): one kernel offset's columns are then whole rows of
Wo·N consecutive numbers in the padded input, so im2col is kh·kw large block copies and col2im
kh·kw large block adds, not millions of Wo-long ones. The GEMM's result `(O, Ho·Wo·N)` is already
every output channel's block; it is returned as an (N, O, Ho, Wo) *view* of that memory, so no
transpose is copied, and element-wise layers after it (batch norm, ReLU, pooling) keep the layout.
Any layout of x is accepted: the padding copy puts it batch last.

The column matrix is the biggest array of a CNN step; a `ColumnBuffer` held by the layer lends
the same memory to every batch (a batch's columns, reused), and backward checks that no later
forward overwrote it before reading it (if one did, it rebuilds the columns from the saved input).

Two cores: each copy and product is split into independent blocks that `parallel.for_blocks` runs on
two threads — im2col by kernel offset, col2im and the padding by input channel, the GEMMs by output
columns (forward, dx) or filters (dW) — each block computing exactly what the whole would.
"""

from __future__ import annotations

import numpy as np

from ..function import Function
from ..heap import keep_freed_memory
from ..parallel import for_blocks, for_channel_blocks


def pair(value, what="kernel_size"):
    """(a, b) from an int or a pair of ints; raises ValueError for anything else (what: the argument's name)."""
    values = (value, value) if isinstance(value, (int, np.integer)) else tuple(value)
    if len(values) != 2 or not all(isinstance(v, (int, np.integer)) for v in values):
        raise ValueError(f"{what} must be an int or a pair of ints, got {value!r}")
    return int(values[0]), int(values[1])


def output_size(size, kernel, stride, padding):
    """⌊(size + 2·padding − kernel) / stride⌋ + 1, the number of window positions along one axis."""
    return (size + 2 * padding - kernel) // stride + 1


class ColumnBuffer:
    """Memory for one layer's im2col columns, allocated once and lent to every batch.

    `take(rows, cols, dtype)` returns a (rows, cols) view of the buffer, growing it only when a
    batch needs more; each call bumps `generation`, so a backward can tell whether its columns are
    still there. Peak memory is one (largest) batch's columns per layer.
    """

    def __init__(self):
        self.array = np.empty(0, np.float32)
        self.generation = 0

    def take(self, rows, cols, dtype):
        """A (rows, cols) array of `dtype` in the buffer's memory (grown only when too small)."""
        if self.array.dtype != dtype or self.array.size < rows * cols:
            self.array = np.empty(rows * cols, dtype)
        self.generation += 1
        return self.array[: rows * cols].reshape(rows, cols)


def in_layout_of(array, template):
    """`array` itself when its axes lie in memory in the same order as `template`'s (same shape), else a
    copy laid out like `template`. Element-wise passes over two arrays of different layouts stride
    through one of them and run several times slower; one copy first puts them in step."""
    if _axis_order(array) == _axis_order(template):
        return array
    out = np.empty_like(template, dtype=array.dtype)

    def copy(c):  # a block of channels (see parallel.for_channel_blocks)
        np.copyto(out[c], array[c])
    for_channel_blocks(copy, template)
    return out


def _axis_order(a):
    """The axes of `a` from the slowest- to the fastest-moving in memory (axes of length one carry no order)."""
    return [axis for axis in sorted(range(a.ndim), key=lambda i: -abs(a.strides[i])) if a.shape[axis] > 1]


def pad_batch_last(x, padding):
    """x: (N, C, H, W), in any memory layout, copied into a zero-padded batch-last array
    (C, H + 2·ph, W + 2·pw, N)."""
    n, c, h, w = x.shape
    ph, pw = padding
    padded = np.zeros((c, h + 2 * ph, w + 2 * pw, n), x.dtype)
    image = x.transpose(1, 2, 3, 0)

    def copy(channels):
        padded[channels, ph : ph + h, pw : pw + w] = image[channels]
    for_blocks(copy, c, padded.size)
    return padded


def im2col(x, kernel, stride, padding, out=None):
    """The receptive fields of x: (N, C, H, W) as the columns of cols: (C·kh·kw, Ho·Wo·N); column
    (p, q, n) is window (p, q) of image n, its rows ordered (c, i, j) like a filter's weights.
    `out`, if given, receives them (no new array). Batch last, so each kernel offset's copy moves
    runs of Wo·N consecutive numbers (see the module's docstring)."""
    (kh, kw), (sh, sw) = kernel, stride
    n, c, h, w = x.shape
    ho, wo = output_size(h, kh, sh, padding[0]), output_size(w, kw, sw, padding[1])
    padded = pad_batch_last(x, padding)
    if out is None:
        out = np.empty((c * kh * kw, ho * wo * n), x.dtype)
    fields = out.reshape(c, kh, kw, ho, wo, n)
    offsets = [(i, j) for i in range(kh) for j in range(kw)]

    def copy(block):  # offset (i, j) of every window at once: one strided block copy
        for i, j in offsets[block]:
            fields[:, i, j] = padded[:, i : i + sh * ho : sh, j : j + sw * wo : sw]
    for_blocks(copy, len(offsets), out.size)
    return out


def col2im(cols, x_shape, kernel, stride, padding):
    """The adjoint of im2col: each column's entries are added back onto the input positions they were
    copied from (overlapping windows add up). cols: (C·kh·kw, Ho·Wo·N) -> (N, C, H, W), a view of
    batch-last memory."""
    (kh, kw), (sh, sw), (ph, pw) = kernel, stride, padding
    n, c, h, w = x_shape
    ho, wo = output_size(h, kh, sh, ph), output_size(w, kw, sw, pw)
    fields = cols.reshape(c, kh, kw, ho, wo, n)
    padded = np.zeros((c, h + 2 * ph, w + 2 * pw, n), cols.dtype)  # batch last, like the columns

    def add_back(channels):  # one strided add per kernel offset: kh·kw whole-array operations
        for i in range(kh):
            for j in range(kw):
                padded[channels, i : i + sh * ho : sh, j : j + sw * wo : sw] += fields[channels, i, j]
    for_blocks(add_back, c, cols.size)
    return padded[:, ph : ph + h, pw : pw + w].transpose(3, 0, 1, 2)


class Conv2dFunction(Function):
    """y = conv2d(x, W) + b as one GEMM, W @ cols: x: (N, C, H, W), W: (O, C, kh, kw), b: (O,) or absent;
    y: (N, O, Ho, Wo) with Ho = ⌊(H + 2·ph − kh) / sh⌋ + 1 (likewise Wo), in W's dtype, a view of the
    GEMM's batch-last result (O, Ho, Wo, N). x may be in any memory layout.

    Constants: stride, padding (pairs), buffer (a ColumnBuffer or None).
    """

    name = "conv2d"
    rule = ("a conv gate is a linear gate on the unrolled receptive fields: dW = g @ colsᵀ, db = Σ g, "
            "and dx adds Wᵀ @ g back onto every input pixel each window copied (col2im)")

    def forward(self, x, weight, bias=None, *, stride=(1, 1), padding=(0, 0), buffer=None):
        if x.ndim != 4 or x.shape[1] != weight.shape[1]:
            raise ValueError(f"conv2d: input of shape {x.shape} does not fit filters of shape {weight.shape}; "
                             f"the input must be (N, {weight.shape[1]}, H, W)")
        if x.dtype != weight.dtype:  # data joins the model's dtype, as in linear
            x = x.astype(weight.dtype)
        keep_freed_memory()  # once per process: the next step reuses this one's pages (see nnscratch.heap)
        out_c, _, kh, kw = weight.shape
        n, _, h, w = x.shape
        ho, wo = output_size(h, kh, stride[0], padding[0]), output_size(w, kw, stride[1], padding[1])
        if ho < 1 or wo < 1:
            raise ValueError(f"conv2d: a {kh}x{kw} kernel does not fit an input of {h}x{w} with padding {padding}; "
                             f"pad the input or use a smaller kernel")
        out = buffer.take(weight[0].size, n * ho * wo, x.dtype) if buffer is not None else None
        cols = im2col(x, (kh, kw), stride, padding, out)
        self.generation = buffer.generation if buffer is not None else None
        self.save(x, weight, cols)
        y = _product(weight.reshape(out_c, -1), cols)  # the one GEMM: (O, C·kh·kw) @ (C·kh·kw, Ho·Wo·N)
        if bias is not None:
            y += bias[:, None]
        return y.reshape(out_c, ho, wo, n).transpose(3, 0, 1, 2)  # (N, O, Ho, Wo), a view: no copy

    def backward(self, grad):
        return self._gradients(grad, self.constants.get("stride", (1, 1)), self.constants.get("padding", (0, 0)))

    def _gradients(self, grad, stride, padding):
        x, weight, cols = self.saved
        buffer = self.constants.get("buffer")
        kernel = weight.shape[2:]
        if buffer is not None and buffer.generation != self.generation:  # a later forward reused the memory
            cols = im2col(x, kernel, stride, padding)
        needs = self.needs_grad
        g = grad.transpose(1, 2, 3, 0).reshape(weight.shape[0], -1)  # (O, Ho·Wo·N), like y: free if batch last
        w2 = weight.reshape(weight.shape[0], -1)
        dx = col2im(_product(w2.T, g), x.shape, kernel, stride, padding) if needs[0] else None
        dw = _product(g, cols.T, split_rows=True).reshape(weight.shape) if needs[1] else None
        db = g.sum(axis=1) if len(needs) > 2 and needs[2] else None
        return dx, dw, db


def _product(a, b, split_rows=False):
    """a @ b, split into blocks of b's columns (or of a's rows) computed side by side (parallel.for_blocks)."""
    out = np.empty((a.shape[0], b.shape[1]), np.result_type(a, b))

    def block_product(block):
        rows, columns = (block, slice(None)) if split_rows else (slice(None), block)
        np.matmul(a[rows], b[:, columns], out=out[rows, columns])
    for_blocks(block_product, out.shape[0] if split_rows else out.shape[1], a.size + b.size + out.size)
    return out


class Conv1dFunction(Conv2dFunction):
    """y = conv1d(x, W) + b: x: (N, C, L), W: (O, C, k), b: (O,); y: (N, O, Lo): a Conv2d of height 1.

    Constants: stride, padding (ints), buffer."""

    name = "conv1d"
    rule = ("a conv1d gate is a conv2d gate of height one: dW = g @ colsᵀ, db = Σ g, "
            "dx adds Wᵀ @ g back onto every position each window copied")

    def forward(self, x, weight, bias=None, *, stride=1, padding=0, buffer=None):
        if x.ndim != 3 or weight.ndim != 3:
            raise ValueError(f"conv1d: input of shape {x.shape} and filters of shape {weight.shape}; "
                             f"expected x: (N, C, L) and weight: (O, C, k)")
        y = super().forward(x[:, :, None, :], weight[:, :, None, :], bias, stride=(1, stride),
                            padding=(0, padding), buffer=buffer)
        return y[:, :, 0, :]

    def backward(self, grad):
        stride, padding = (1, self.constants.get("stride", 1)), (0, self.constants.get("padding", 0))
        dx, dw, db = self._gradients(grad[:, :, None, :], stride, padding)
        return (None if dx is None else dx[:, :, 0, :]), (None if dw is None else dw[:, :, 0, :]), db


def conv2d(x, weight, bias=None, stride=1, padding=0, buffer=None):
    """2-D convolution (cross-correlation, as in PyTorch) of x: (N, C, H, W) with weight: (O, C, kh, kw)
    plus bias: (O,) or None; y: (N, O, Ho, Wo), Ho = ⌊(H + 2·padding − kh) / stride⌋ + 1.
    stride and padding: an int or an (h, w) pair. buffer: a ColumnBuffer to reuse for the im2col
    columns. Raises ValueError when the channels differ or the kernel does not fit."""
    stride, padding = pair(stride, "stride"), pair(padding, "padding")
    args = (x, weight) if bias is None else (x, weight, bias)
    return Conv2dFunction.apply(*args, stride=stride, padding=padding, buffer=buffer)


def conv1d(x, weight, bias=None, stride=1, padding=0, buffer=None):
    """1-D convolution of x: (N, C, L) with weight: (O, C, k) plus bias: (O,) or None; y: (N, O, Lo),
    Lo = ⌊(L + 2·padding − k) / stride⌋ + 1. Raises ValueError on mismatched shapes."""
    args = (x, weight) if bias is None else (x, weight, bias)
    return Conv1dFunction.apply(*args, stride=int(stride), padding=int(padding), buffer=buffer)
