"""`nnscratch.nn`: modules (layers, activations, losses), parameters and initialisers."""

from . import functional, init
from .activations import ELU, LeakyReLU, LogSoftmax, ReLU, Sigmoid, Softmax, Step, Tanh
from .layers import Dropout, Flatten, Identity, Linear, Maxout
from .losses import BCEWithLogitsLoss, CrossEntropyLoss, GaussianNLLLoss, HingeLoss, L1Loss, MSELoss
from .module import Module, Parameter, Sequential, architecture

__all__ = [
    "BCEWithLogitsLoss", "CrossEntropyLoss", "Dropout", "ELU", "Flatten", "GaussianNLLLoss", "HingeLoss",
    "Identity", "L1Loss", "LeakyReLU", "Linear", "LogSoftmax", "MSELoss", "Maxout", "Module",
    "Parameter", "ReLU", "Sequential", "Sigmoid", "Softmax", "Step", "Tanh", "architecture", "functional",
    "init",
]
