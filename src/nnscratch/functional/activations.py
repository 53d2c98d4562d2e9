"""Activation functions: each forward with its closed-form local gradient.

Every backward is grad * f'(x), written with what forward already computed
(sigmoid's s(1 - s), tanh's 1 - t²), so no activation evaluates exp twice.
"""

from __future__ import annotations

import numpy as np

from ..tensor import Function


class Step(Function):
    """The perceptron's threshold: 1 where x > 0, else 0.

    Its derivative is 0 everywhere it exists, so no gradient flows through it: a network of
    steps cannot be trained by backpropagation (the historical reason for the sigmoid).
    """

    def forward(self, x):
        return (x > 0).astype(x.dtype)

    def backward(self, grad):
        return (np.zeros_like(grad),)


class Sigmoid(Function):
    """s = 1 / (1 + exp(-x)); ds/dx = s (1 - s).

    exp is only ever taken of -|x| <= 0, so it cannot overflow: for x >= 0 the usual form,
    for x < 0 the equal form exp(x) / (1 + exp(x)).
    """

    def forward(self, x):
        self.out = sigmoid_array(x)
        return self.out

    def backward(self, grad):
        s = self.out
        return (grad * s * (1 - s),)


def sigmoid_array(x):
    e = np.exp(-np.abs(x))
    return np.where(x >= 0, 1 / (1 + e), e / (1 + e))


class Tanh(Function):
    """t = tanh(x); dt/dx = 1 - t²."""

    def forward(self, x):
        self.out = np.tanh(x)
        return self.out

    def backward(self, grad):
        t = self.out
        return (grad * (1 - t * t),)


class ReLU(Function):
    """max(0, x): a max gate against 0, so the gradient passes where x > 0 and stops elsewhere."""

    def forward(self, x):
        # Not x * (x > 0): relu(-inf) is 0, not nan. A row of zeros, not the scalar 0: NumPy's
        # maximum of two arrays is vectorised, against a scalar it ran 2x slower (NumPy 2.4).
        self.out = np.maximum(x, np.zeros(x.shape[-1:], x.dtype))
        return self.out

    def backward(self, grad):
        return (grad * (self.out > 0),)  # out > 0 exactly where x > 0


class LeakyReLU(Function):
    """x where x > 0, else slope * x; the gradient is 1 or slope."""

    def forward(self, x, *, negative_slope):
        self.slope = x.dtype.type(negative_slope)
        self.mask = x > 0
        return np.where(self.mask, x, self.slope * x)

    def backward(self, grad):
        return (grad * np.where(self.mask, grad.dtype.type(1), self.slope),)


class ELU(Function):
    """x where x > 0, else alpha (exp(x) - 1); the gradient there is alpha exp(x) = out + alpha."""

    def forward(self, x, *, alpha):
        self.alpha = x.dtype.type(alpha)
        self.mask = x > 0
        # expm1 of min(x, 0): never exp of a large positive number, exact near 0
        self.out = np.where(self.mask, x, self.alpha * np.expm1(np.minimum(x, 0)))
        return self.out

    def backward(self, grad):
        return (grad * np.where(self.mask, grad.dtype.type(1), self.out + self.alpha),)


class Softmax(Function):
    """p = exp(x - max) / sum(exp(x - max)) along `axis`; dx = p * (g - sum(g * p))."""

    def forward(self, x, *, axis=-1):
        self.axis = axis
        self.out = softmax_array(x, axis)
        return self.out

    def backward(self, grad):
        p = self.out
        return (p * (grad - (grad * p).sum(axis=self.axis, keepdims=True)),)


def softmax_parts(x, axis=-1):
    """(shifted, softmax, log of the normaliser): the log-sum-exp trick, done once.

    shifted = x - max(x) leaves softmax unchanged and keeps exp at most 1, so the normaliser
    sum(exp(shifted)) lies in [1, n] and log softmax = shifted - log(normaliser) is exact.
    """
    shifted = x - x.max(axis=axis, keepdims=True)
    p = np.exp(shifted)
    total = p.sum(axis=axis, keepdims=True)
    p /= total
    return shifted, p, np.log(total)


def softmax_array(x, axis=-1):
    return softmax_parts(x, axis)[1]


class LogSoftmax(Function):
    """log p = x - logsumexp(x) along `axis`; dx = g - p * sum(g)."""

    def forward(self, x, *, axis=-1):
        self.axis = axis
        shifted, self.p, log_total = softmax_parts(x, axis)
        return shifted - log_total

    def backward(self, grad):
        return (grad - self.p * grad.sum(axis=self.axis, keepdims=True),)


def step(x):
    return Step.apply(x)


def sigmoid(x):
    return Sigmoid.apply(x)


def tanh(x):
    return Tanh.apply(x)


def relu(x):
    return ReLU.apply(x)


def leaky_relu(x, negative_slope=0.01):
    return LeakyReLU.apply(x, negative_slope=negative_slope)


def elu(x, alpha=1.0):
    return ELU.apply(x, alpha=alpha)


def identity(x):
    return x


def softmax(x, axis=-1):
    return Softmax.apply(x, axis=axis)


def log_softmax(x, axis=-1):
    return LogSoftmax.apply(x, axis=axis)
