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
    """1 / (1 + exp(-x)), computed without overflow."""

    def forward(self, x):
        return F.sigmoid(x)

    def config(self):
        return {}


class Tanh(Module):
    def forward(self, x):
        return F.tanh(x)

    def config(self):
        return {}


class ReLU(Module):
    """max(0, x)."""

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
    def __init__(self, axis=-1):
        self.axis = axis

    def forward(self, x):
        return F.softmax(x, self.axis)

    def config(self):
        return {"axis": self.axis}

    def extra_repr(self):
        return f"axis={self.axis}"


class LogSoftmax(Module):
    def __init__(self, axis=-1):
        self.axis = axis

    def forward(self, x):
        return F.log_softmax(x, self.axis)

    def config(self):
        return {"axis": self.axis}

    def extra_repr(self):
        return f"axis={self.axis}"
