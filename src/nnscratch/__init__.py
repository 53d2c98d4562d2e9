"""nnscratch: neural networks from first principles, in NumPy.

    import nnscratch as ns
    from nnscratch import nn
    from nnscratch.nn import functional as F

The engine lives at the top level: `Tensor`, the factories `tensor`, `zeros`, `ones`, `randn`,
`arange` (PyTorch's names; `rng=` for randomness), `no_grad`/`enable_grad`/`is_grad_enabled`
(per thread), `gradcheck`, and the multi-tensor ops `concatenate`, `stack`, `maximum`, `where`.
Layers, activations and losses are in `nnscratch.nn`, optimisers in `nnscratch.optim`.
`nnscratch.tensor` is the engine's module and, called, makes a tensor: `ns.tensor([1.0, 2.0])`.
"""

from . import blas, functional, nn, optim
from .creation import arange, ones, randn, zeros
from .errors import NotFittedError
from .gradcheck import gradcheck
from .ops import concatenate, maximum, stack, where
from .serialize import load, save
from .tensor import Tensor, enable_grad, is_grad_enabled, no_grad, set_grad_enabled

__version__ = "0.1.0"

__all__ = [
    "Tensor", "arange", "blas", "concatenate", "enable_grad", "functional", "gradcheck", "is_grad_enabled", "load",
    "maximum", "nn", "no_grad", "NotFittedError", "ones", "optim", "randn", "save", "set_grad_enabled", "stack", "tensor", "where",
    "zeros",
]
