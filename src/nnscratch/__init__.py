"""nnscratch: neural networks from first principles, in NumPy.

    import nnscratch as ns
    from nnscratch import nn

The engine (`Tensor`, `no_grad`, `gradcheck`) lives here; layers, activations and losses in
`nnscratch.nn` (functional forms in `nnscratch.nn.functional`).
"""

from . import blas, functional, nn, optim
from .errors import NotFittedError
from .gradcheck import gradcheck
from .ops import concatenate, maximum, stack, where
from .serialize import load, save
from .tensor import Tensor, is_grad_enabled, no_grad

__version__ = "0.1.0"

__all__ = [
    "Tensor", "blas", "concatenate", "functional", "gradcheck", "is_grad_enabled", "load", "maximum", "nn",
    "no_grad", "optim", "save", "stack", "where",
]
