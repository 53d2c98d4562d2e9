"""Activation functions as modules, to stack in a `Sequential`; the maths is in `nn.functional`."""

from __future__ import annotations

from .. import functional as F
from .module import Module


class Step(Module):
    """The perceptron's threshold, 1 where x > 0 else 0. Its gradient is zero everywhere:
    nothing is learned through it (use it to see why the sigmoid replaced it)."""

    def forward(self, x):
        return F.step(x)

    def config(self):
        return {}


class Sigmoid(Module):
    """1 / (1 + exp(-x)), element-wise, computed without overflow; x: any shape, float; outputs in (0, 1)."""

    def forward(self, x):
        return F.sigmoid(x)

    def config(self):
        return {}


class Tanh(Module):
    """tanh(x), element-wise; x: any shape, float; zero-centred, saturating at ±1 (its gradient 1 - t² vanishes there)."""

    def forward(self, x):
        return F.tanh(x)

    def config(self):
        return {}


class ReLU(Module):
    """max(0, x), element-wise; x: any shape, float. Its gradient passes where x > 0 (a max gate against 0)."""

    def forward(self, x):
        return F.relu(x)

    def config(self):
        return {}


class LeakyReLU(Module):
    """x for x > 0, negative_slope * x otherwise."""

    def __init__(self, negative_slope=0.01):
        self.negative_slope = float(negative_slope)

    def forward(self, x):
        return F.leaky_relu(x, self.negative_slope)

    def config(self):
        return {"negative_slope": self.negative_slope}

    def extra_repr(self):
        return f"negative_slope={self.negative_slope}"


class ELU(Module):
    """x for x > 0, alpha (exp(x) - 1) otherwise."""

    def __init__(self, alpha=1.0):
        self.alpha = float(alpha)

    def forward(self, x):
        return F.elu(x, self.alpha)

    def config(self):
        return {"alpha": self.alpha}

    def extra_repr(self):
        return f"alpha={self.alpha}"


class Softmax(Module):
    """exp(x) / sum(exp(x)) along `dim` (default the last), stable; x: (..., C) -> rows summing to 1. `axis=` (NumPy's name) or `dim=` (PyTorch's)."""

    def __init__(self, axis=None, *, dim=None):
        self.axis = -1 if axis is None and dim is None else (axis if dim is None else dim)

    def forward(self, x):
        return F.softmax(x, self.axis)

    def config(self):
        return {"axis": self.axis}

    def extra_repr(self):
        return f"axis={self.axis}"


class LogSoftmax(Module):
    """log softmax(x) along `dim` (default the last) as x - logsumexp(x); x: (..., C). `axis=` (NumPy's name) or `dim=` (PyTorch's)."""

    def __init__(self, axis=None, *, dim=None):
        self.axis = -1 if axis is None and dim is None else (axis if dim is None else dim)

    def forward(self, x):
        return F.log_softmax(x, self.axis)

    def config(self):
        return {"axis": self.axis}

    def extra_repr(self):
        return f"axis={self.axis}"
