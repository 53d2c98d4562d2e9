"""Differentiable functions beyond the elementary ops: activations, the fused linear map, losses.

Also reachable as `nnscratch.nn.functional` (conventionally imported as `F`).
"""

from .activations import elu, identity, leaky_relu, log_softmax, relu, sigmoid, softmax, step, tanh
from .linear import flatten, linear
from .losses import (
    binary_cross_entropy_with_logits,
    cross_entropy,
    gaussian_nll_loss,
    hinge_loss,
    l1_loss,
    mse_loss,
)

__all__ = [
    "binary_cross_entropy_with_logits",
    "cross_entropy",
    "elu",
    "flatten",
    "gaussian_nll_loss",
    "hinge_loss",
    "identity",
    "l1_loss",
    "leaky_relu",
    "linear",
    "log_softmax",
    "mse_loss",
    "relu",
    "sigmoid",
    "softmax",
    "step",
    "tanh",
]
