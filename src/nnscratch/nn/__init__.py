"""`nnscratch.nn`: modules (layers, activations, losses), parameters and initialisers.

`nnscratch.nn.functional` is `nnscratch.functional` itself (one module, two names), so
`from nnscratch.nn import functional as F` and `import nnscratch.nn.functional as F` both work.
"""

import sys

from .. import functional
from . import init
from .activations import ELU, LeakyReLU, LogSoftmax, ReLU, Sigmoid, Softmax, Step, Tanh
from .conv import Conv1d, Conv2d
from .layers import Dropout, Flatten, Identity, Linear, Maxout, Permute, Unflatten
from .losses import BCEWithLogitsLoss, CrossEntropyLoss, GaussianNLLLoss, HingeLoss, L1Loss, MSELoss
from .module import Buffer, Module, ModuleList, Parameter, Sequential, architecture
from .normalization import BatchNorm1d, BatchNorm2d
from .pooling import AvgPool2d, MaxPool1d, MaxPool2d

sys.modules[__name__ + ".functional"] = functional

__all__ = [
    "BCEWithLogitsLoss", "CrossEntropyLoss", "Dropout", "ELU", "Flatten", "GaussianNLLLoss", "HingeLoss",
    "Identity", "L1Loss", "LeakyReLU", "Linear", "LogSoftmax", "MSELoss", "Maxout", "Module", "ModuleList",
    "Parameter", "ReLU", "Sequential", "Sigmoid", "Softmax", "Step", "Tanh", "architecture", "functional",
    "init",
    "AvgPool2d", "BatchNorm1d", "BatchNorm2d", "Buffer", "Conv1d", "Conv2d", "MaxPool1d", "MaxPool2d", "Permute", "Unflatten",
]
