"""`nnscratch.functional`, also `nnscratch.nn.functional` (the same module object; import it as
`from nnscratch.nn import functional as F`): the functional forms of layers, activations and losses.

Each differentiable function here is a `Function` subclass (suffix `Function`: `ReLUFunction`,
`LinearFunction`, `CrossEntropyFunction`, ...) and a lower-case function that applies it.
This package also gives `Tensor` its PyTorch-style activation methods (`t.relu()`, `t.sigmoid()`,
`t.tanh()`, `t.softmax(dim)`, `t.log_softmax(dim)`): tensor.py may not import this package, so
the methods are attached here, once, when nnscratch is imported.
"""

from ..tensor import Tensor
from .activations import (
    ELUFunction, LeakyReLUFunction, LogSoftmaxFunction, ReLUFunction, SigmoidFunction, SoftmaxFunction,
    StepFunction, TanhFunction, elu, identity, leaky_relu, log_softmax, relu, sigmoid, softmax, step, tanh,
)
from .conv import Conv1dFunction, Conv2dFunction, conv1d, conv2d
from .linear import LinearFunction, flatten, linear
from .losses import (
    BinaryCrossEntropyWithLogitsFunction,
    CrossEntropyFunction,
    MulticlassHingeFunction,
    binary_cross_entropy_with_logits,
    cross_entropy,
    gaussian_nll_loss,
    hinge_loss,
    l1_loss,
    mse_loss,
)
from .normalization import BatchNormFunction, batch_norm
from .pooling import AvgPool2dFunction, MaxPool1dFunction, MaxPool2dFunction, avg_pool2d, max_pool1d, max_pool2d

Tensor.relu, Tensor.sigmoid, Tensor.tanh = relu, sigmoid, tanh
Tensor.softmax, Tensor.log_softmax = softmax, log_softmax

__all__ = [
    "BinaryCrossEntropyWithLogitsFunction", "CrossEntropyFunction", "ELUFunction", "LeakyReLUFunction",
    "LinearFunction", "LogSoftmaxFunction", "MulticlassHingeFunction", "ReLUFunction", "SigmoidFunction",
    "SoftmaxFunction", "StepFunction", "TanhFunction",
    "binary_cross_entropy_with_logits", "cross_entropy", "elu", "flatten", "gaussian_nll_loss", "hinge_loss",
    "identity", "l1_loss", "leaky_relu", "linear", "log_softmax", "mse_loss", "relu", "sigmoid", "softmax",
    "step", "tanh",
    "AvgPool2dFunction", "BatchNormFunction", "Conv1dFunction", "Conv2dFunction", "MaxPool1dFunction",
    "MaxPool2dFunction", "avg_pool2d", "batch_norm", "conv1d", "conv2d", "max_pool1d", "max_pool2d",
]
