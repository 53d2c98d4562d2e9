"""Activation functions: each forward with its closed-form local gradient.

Every backward is grad * f'(x), written with what forward already computed (sigmoid's s(1 - s),
tanh's 1 - t²), so no activation evaluates exp twice. The classes carry the suffix `Function`
(`ReLUFunction`) so they never share a name with the modules of `nn` (`nn.ReLU`).
"""

from __future__ import annotations

import numpy as np

from ..function import Function
from ..parallel import for_channel_blocks


class StepFunction(Function):
    """The perceptron's threshold: 1 where x > 0, else 0.

    Its derivative is 0 everywhere it exists, so no gradient flows through it: a network of
    steps cannot be trained by backpropagation (the historical reason for the sigmoid).
    """

    name, rule = "step", "a step gate passes no gradient: its slope is 0 wherever it has one"

    def forward(self, x):
        return (x > 0).astype(x.dtype)

    def backward(self, grad):
        return (np.zeros_like(grad),)


class SigmoidFunction(Function):
    """s = 1 / (1 + exp(-x)); ds/dx = s (1 - s).

    exp is only ever taken of -|x| <= 0, so it cannot overflow: for x >= 0 the usual form,
    for x < 0 the equal form exp(x) / (1 + exp(x)).
    """

    name, rule = "sigmoid", "a sigmoid gate multiplies the gradient by s·(1 - s), its output's slope"

    def forward(self, x):
        s = sigmoid_array(x)
        self.save(s)
        return s

    def backward(self, grad):
        (s,) = self.saved
        return (grad * s * (1 - s),)


def sigmoid_array(x):
    """1 / (1 + exp(-x)) on an array, in x's dtype, never overflowing (exp of -|x| only)."""
    e = np.exp(-np.abs(x))
    return np.where(x >= 0, 1 / (1 + e), e / (1 + e))


class TanhFunction(Function):
    """t = tanh(x); dt/dx = 1 - t²."""

    name, rule = "tanh", "a tanh gate multiplies the gradient by 1 - t², its output's slope"

    def forward(self, x):
        t = np.tanh(x)
        self.save(t)
        return t

    def backward(self, grad):
        (t,) = self.saved
        return (grad * (1 - t * t),)


class ReLUFunction(Function):
    """max(0, x): a max gate against 0, so the gradient passes where x > 0 and stops elsewhere."""

    name, rule = "relu", "a relu is a max gate against 0: the gradient passes where x > 0 and stops elsewhere"

    def forward(self, x):
        # Not x * (x > 0): relu(-inf) is 0, not nan. A row of zeros, not the scalar 0: NumPy's
        # maximum of two arrays is vectorised, against a scalar it ran 2x slower (NumPy 2.4).
        out, zero = np.empty_like(x), np.zeros(x.shape[-1:], x.dtype)

        def relu(c):  # a block of channels of a feature map (all of x otherwise), see parallel.for_channel_blocks
            np.maximum(x[c], zero, out=out[c])
        for_channel_blocks(relu, x)
        self.save(out)
        return out

    def backward(self, grad):
        (out,) = self.saved
        dx = np.empty_like(out, dtype=grad.dtype)

        def gate(c):
            np.multiply(grad[c], out[c] > 0, out=dx[c])  # out > 0 exactly where x > 0
        for_channel_blocks(gate, out)
        return (dx,)


class LeakyReLUFunction(Function):
    """x where x > 0, else slope * x; the gradient is 1 or slope."""

    name, rule = "leaky_relu", "a leaky relu passes the gradient where x > 0 and scales it by the slope elsewhere"

    def forward(self, x, *, negative_slope):
        mask = x > 0
        self.save(mask)
        return np.where(mask, x, x.dtype.type(negative_slope) * x)

    def backward(self, grad):
        (mask,) = self.saved
        slope = grad.dtype.type(self.constants["negative_slope"])
        return (grad * np.where(mask, grad.dtype.type(1), slope),)


class ELUFunction(Function):
    """x where x > 0, else alpha (exp(x) - 1); the gradient there is alpha exp(x) = out + alpha."""

    name, rule = "elu", "an elu passes the gradient where x > 0 and scales it by out + alpha elsewhere"

    def forward(self, x, *, alpha):
        mask = x > 0
        # expm1 of min(x, 0): never exp of a large positive number, exact near 0
        out = np.where(mask, x, x.dtype.type(alpha) * np.expm1(np.minimum(x, 0)))
        self.save(mask, out)
        return out

    def backward(self, grad):
        mask, out = self.saved
        alpha = grad.dtype.type(self.constants["alpha"])
        return (grad * np.where(mask, grad.dtype.type(1), out + alpha),)


class SoftmaxFunction(Function):
    """p = exp(x - max) / sum(exp(x - max)) along `axis`; dx = p * (g - sum(g * p))."""

    name, rule = "softmax", "a softmax gate gives dx = p·(g - Σ g·p): every output depends on every input"

    def forward(self, x, *, axis=-1):
        p = softmax_array(x, axis)
        self.save(p)
        return p

    def backward(self, grad):
        (p,) = self.saved
        return (p * (grad - (grad * p).sum(axis=self.constants.get("axis", -1), keepdims=True)),)


def softmax_parts(x, axis=-1):
    """(shifted, softmax, log of the normaliser): the log-sum-exp trick, done once.

    shifted = x - max(x) leaves softmax unchanged and keeps exp at most 1, so the normaliser
    sum(exp(shifted)) lies in [1, n] and log softmax = shifted - log(normaliser) is exact.
    x: any shape, float; the three arrays are in x's dtype (the last keeps `axis` with length 1).
    """
    shifted = x - x.max(axis=axis, keepdims=True)
    p = np.exp(shifted)
    total = p.sum(axis=axis, keepdims=True)
    p /= total
    return shifted, p, np.log(total)


def softmax_array(x, axis=-1):
    """softmax(x) along `axis` on an array (rows' max subtracted first), in x's dtype."""
    return softmax_parts(x, axis)[1]


class LogSoftmaxFunction(Function):
    """log p = x - logsumexp(x) along `axis`; dx = g - p * sum(g)."""

    name, rule = "log_softmax", "a log-softmax gate gives dx = g - p·Σg"

    def forward(self, x, *, axis=-1):
        shifted, p, log_total = softmax_parts(x, axis)
        self.save(p)
        return shifted - log_total

    def backward(self, grad):
        (p,) = self.saved
        return (grad - p * grad.sum(axis=self.constants.get("axis", -1), keepdims=True),)


def _dim(axis, dim, default=-1):
    if axis is not None and dim is not None and axis != dim:
        raise TypeError(f"got axis={axis!r} and dim={dim!r}: they are one argument; give one")
    return default if axis is None and dim is None else (axis if dim is None else dim)


def step(x):
    """The threshold 1[x > 0], element-wise, in x's dtype; x: any shape. No gradient flows (it is 0)."""
    return StepFunction.apply(x)


def sigmoid(x):
    """1 / (1 + exp(-x)), element-wise, computed without overflow; x: any shape, float."""
    return SigmoidFunction.apply(x)


def tanh(x):
    """tanh(x), element-wise; x: any shape, float."""
    return TanhFunction.apply(x)


def relu(x):
    """max(0, x), element-wise; x: any shape, float (Nair and Hinton, 2010)."""
    return ReLUFunction.apply(x)


def leaky_relu(x, negative_slope=0.01):
    """x where x > 0, else negative_slope * x (Maas et al., 2013); x: any shape, float."""
    return LeakyReLUFunction.apply(x, negative_slope=negative_slope)


def elu(x, alpha=1.0):
    """x where x > 0, else alpha (exp(x) - 1) (Clevert et al., 2016); x: any shape, float."""
    return ELUFunction.apply(x, alpha=alpha)


def identity(x):
    """x itself (no operation is recorded)."""
    return x


def softmax(x, axis=None, *, dim=None):
    """exp(x) / sum(exp(x)) along `axis` (or `dim=`, default the last), each row's max subtracted
    first so exp never overflows; x: (..., C), float; returns x's shape, rows summing to 1."""
    return SoftmaxFunction.apply(x, axis=_dim(axis, dim))


def log_softmax(x, axis=None, *, dim=None):
    """log softmax(x) along `axis` (or `dim=`, default the last) as x - logsumexp(x), stable;
    x: (..., C), float; returns x's shape."""
    return LogSoftmaxFunction.apply(x, axis=_dim(axis, dim))
