"""Weight initialisers: each draws an array of a given shape from a named distribution.

For a weight of shape (fan_in, fan_out) (Linear's `x @ W` layout; a stack of such maps,
as in Maxout, has its pieces first):

| name | draw | what the lecture says of it |
| --- | --- | --- |
| `normal` / `small` | N(0, 0.01²) | activations shrink layer by layer towards 0 |
| `large` | N(0, 1) | tanh and sigmoid units saturate, gradients vanish |
| `xavier` | N(0, 1/fan_in) | keeps the variance of tanh nets (the lecture's form) |
| `glorot` | N(0, 2/(fan_in + fan_out)) | Glorot and Bengio's average of forward and backward |
| `kaiming` (`he`) | N(0, 2/fan_in) | the factor 2 makes up for ReLU zeroing half its inputs |
| `zeros` | 0 | every unit stays identical: symmetry is never broken |

Every initialiser takes `rng` (a seed or a numpy Generator) and `dtype` (float32 by default).
"""

from __future__ import annotations

import math

import numpy as np

from ..rng import as_generator


def fans(shape):
    """(fan_in, fan_out) of a weight whose last two axes are (inputs, outputs)."""
    if len(shape) == 1:
        return shape[0], shape[0]
    return shape[-2], shape[-1]


def normal(shape, std=0.01, rng=None, dtype=np.float32):
    """Gaussian N(0, std²): std=0.01 is the lecture's "small", 1.0 its "large"."""
    return as_generator(rng).standard_normal(shape, dtype=np.dtype(dtype).type) * np.dtype(dtype).type(std)


def xavier(shape, rng=None, dtype=np.float32):
    """N(0, 1/fan_in), the lecture's Xavier."""
    fan_in, _ = fans(shape)
    return normal(shape, 1 / math.sqrt(fan_in), rng, dtype)


def glorot(shape, rng=None, dtype=np.float32):
    """N(0, 2/(fan_in + fan_out)), Glorot and Bengio (2010)."""
    fan_in, fan_out = fans(shape)
    return normal(shape, math.sqrt(2 / (fan_in + fan_out)), rng, dtype)


def kaiming(shape, rng=None, dtype=np.float32):
    """N(0, 2/fan_in), He et al. (2015), for ReLU networks."""
    fan_in, _ = fans(shape)
    return normal(shape, math.sqrt(2 / fan_in), rng, dtype)


def zeros(shape, rng=None, dtype=np.float32):
    """All zeros (right for biases; for weights it shows why symmetry must be broken)."""
    return np.zeros(shape, dtype=dtype)


def _small(shape, rng=None, dtype=np.float32):
    return normal(shape, 0.01, rng, dtype)


def _large(shape, rng=None, dtype=np.float32):
    return normal(shape, 1.0, rng, dtype)


INITIALIZERS = {
    "normal": _small,
    "small": _small,
    "large": _large,
    "xavier": xavier,
    "glorot": glorot,
    "kaiming": kaiming,
    "he": kaiming,
    "zeros": zeros,
}


def get(init):
    """The initialiser for a name ("kaiming", "normal:0.05", ...) or a callable(shape, rng, dtype)."""
    if callable(init):
        return init
    if isinstance(init, str) and init.startswith("normal:"):
        try:
            std = float(init.split(":", 1)[1])
        except ValueError:
            std = -1.0
        if not std > 0:
            raise ValueError(f"init={init!r}: after 'normal:' give a positive standard deviation, e.g. 'normal:0.05'")
        return lambda shape, rng=None, dtype=np.float32: normal(shape, std, rng, dtype)
    if init not in INITIALIZERS:
        raise ValueError(
            f"unknown init {init!r}; choose one of {', '.join(INITIALIZERS)}, 'normal:STD', or pass a function"
        )
    return INITIALIZERS[init]
