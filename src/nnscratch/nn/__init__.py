"""`nnscratch.nn`: modules (layers, activations, losses), parameters and initialisers.

`nnscratch.nn.functional` is `nnscratch.functional` itself (one module, two names), so
`from nnscratch.nn import functional as F` and `import nnscratch.nn.functional as F` both work.
"""

import sys

from .. import functional
from . import init
from .activations import ELU, LeakyReLU, LogSoftmax, ReLU, Sigmoid, Softmax, Step, Tanh
from .layers import Dropout, Flatten, Identity, Linear, Maxout
from .losses import BCEWithLogitsLoss, CrossEntropyLoss, GaussianNLLLoss, HingeLoss, L1Loss, MSELoss
from .module import Module, ModuleList, Parameter, Sequential, architecture

sys.modules[__name__ + ".functional"] = functional

__all__ = [
    "BCEWithLogitsLoss", "CrossEntropyLoss", "Dropout", "ELU", "Flatten", "GaussianNLLLoss", "HingeLoss",
    "Identity", "L1Loss", "LeakyReLU", "Linear", "LogSoftmax", "MSELoss", "Maxout", "Module", "ModuleList",
    "Parameter", "ReLU", "Sequential", "Sigmoid", "Softmax", "Step", "Tanh", "architecture", "functional",
    "init",
]
