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

PyTorch's initialisers, with PyTorch's exact meaning (`torch.nn.init`), beside the lecture's:

| name | draw | note |
| --- | --- | --- |
| `xavier_normal` | N(0, gain² · 2/(fan_in + fan_out)) | `glorot` with a gain (gain=1 is `glorot`) |
| `xavier_uniform` | U(-b, b), b = gain · √(6/(fan_in + fan_out)) | PyTorch's default for many layers |
| `kaiming_normal` | N(0, gain²/fan), gain = √2 for ReLU | mode="fan_in" (default) or "fan_out" |
| `kaiming_uniform` | U(-b, b), b = gain · √(3/fan) | the same variance, uniform |

The lecture's `xavier` is N(0, 1/fan_in) (the CS231n notes' form); PyTorch's `xavier_normal` is
Glorot and Bengio's average of the two fans. `gain` comes from `calculate_gain(nonlinearity, a)`
as in PyTorch (relu √2, tanh 5/3, leaky_relu √(2/(1 + a²)), linear and sigmoid 1).

Every initialiser takes `rng` (a seed or a numpy Generator) and `dtype` (float32 by default) and
returns a new array of `shape`; PyTorch's in-place `xavier_normal_(tensor)` becomes
`w.data[...] = init.xavier_normal(w.shape, rng=0)`.
"""

from __future__ import annotations

import math

import numpy as np

from ..rng import as_generator


def fans(shape):
    """(fan_in, fan_out) of a weight whose last two axes are (inputs, outputs) (Linear's x @ W layout,
    the transpose of PyTorch's (out, in)); a 1-D shape counts its length as both."""
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


def calculate_gain(nonlinearity, param=None):
    """The recommended gain for an activation, exactly as torch.nn.init.calculate_gain:
    linear/identity/sigmoid 1, tanh 5/3, relu √2, leaky_relu √(2/(1 + a²)) with a = param (0.01
    when None), selu 3/4. Raises ValueError for another name."""
    if nonlinearity in ("linear", "identity", "sigmoid", "conv1d", "conv2d", "conv3d"):
        return 1.0
    if nonlinearity == "tanh":
        return 5.0 / 3
    if nonlinearity == "relu":
        return math.sqrt(2.0)
    if nonlinearity == "leaky_relu":
        slope = 0.01 if param is None else float(param)
        return math.sqrt(2.0 / (1 + slope**2))
    if nonlinearity == "selu":
        return 3.0 / 4
    raise ValueError(f"calculate_gain: unsupported nonlinearity {nonlinearity!r}; use linear, sigmoid, tanh, "
                     f"relu, leaky_relu or selu")


def uniform(shape, bound, rng=None, dtype=np.float32):
    """U(-bound, bound) of `shape` in `dtype`, drawn from `rng`."""
    return as_generator(rng).uniform(-bound, bound, shape).astype(dtype)


def xavier_normal(shape, rng=None, dtype=np.float32, *, gain=1.0):
    """N(0, std²), std = gain · √(2/(fan_in + fan_out)): torch.nn.init.xavier_normal_ (Glorot and Bengio, 2010)."""
    fan_in, fan_out = fans(shape)
    return normal(shape, gain * math.sqrt(2.0 / (fan_in + fan_out)), rng, dtype)


def xavier_uniform(shape, rng=None, dtype=np.float32, *, gain=1.0):
    """U(-b, b), b = gain · √(6/(fan_in + fan_out)): torch.nn.init.xavier_uniform_ (Glorot and Bengio, 2010)."""
    fan_in, fan_out = fans(shape)
    return uniform(shape, gain * math.sqrt(6.0 / (fan_in + fan_out)), rng, dtype)


def _kaiming_std(shape, a, mode, nonlinearity):
    if mode not in ("fan_in", "fan_out"):
        raise ValueError(f"mode={mode!r}: use 'fan_in' (keeps the forward variance) or 'fan_out' (the backward's)")
    fan_in, fan_out = fans(shape)
    return calculate_gain(nonlinearity, a) / math.sqrt(fan_in if mode == "fan_in" else fan_out)


def kaiming_normal(shape, rng=None, dtype=np.float32, *, a=0, mode="fan_in", nonlinearity="leaky_relu"):
    """N(0, std²), std = gain/√fan: torch.nn.init.kaiming_normal_ (He et al., 2015), same defaults
    (a=0, mode="fan_in", nonlinearity="leaky_relu", so gain = √2). Raises ValueError for a bad mode."""
    return normal(shape, _kaiming_std(shape, a, mode, nonlinearity), rng, dtype)


def kaiming_uniform(shape, rng=None, dtype=np.float32, *, a=0, mode="fan_in", nonlinearity="leaky_relu"):
    """U(-b, b), b = gain · √(3/fan): torch.nn.init.kaiming_uniform_ (He et al., 2015), same defaults."""
    return uniform(shape, math.sqrt(3.0) * _kaiming_std(shape, a, mode, nonlinearity), rng, dtype)


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
    "xavier_normal": xavier_normal,
    "xavier_uniform": xavier_uniform,
    "kaiming_normal": kaiming_normal,
    "kaiming_uniform": kaiming_uniform,
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
