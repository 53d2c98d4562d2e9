"""Named convolutional architectures for `--model cnn:...` and `--model cnn1d:...`.

    cnn:32,64        Conv2d 3x3 -> BatchNorm2d -> ReLU -> MaxPool2d 2x2, per width; then Linear to the classes
    cnn:32,64,fc128  the same, with a hidden Linear(…, 128) -> ReLU before the classifier
    cnn1d:32,64      Conv1d k=5 -> BatchNorm1d -> ReLU -> MaxPool1d 2, per width (MNIST-1D's signals)

The model takes the dataset's arrays as they are: a first layer adds the channel axis ((N, 28, 28) ->
(N, 1, 28, 28); (N, 40) -> (N, 1, 40)) or moves colour channels first ((N, 32, 32, 3) -> (N, 3, 32, 32)).
"""

from __future__ import annotations

from . import activations
from .conv import Conv1d, Conv2d
from .layers import Dropout, Flatten, Linear, Permute, Unflatten
from .module import Sequential
from .normalization import BatchNorm1d, BatchNorm2d
from .pooling import MaxPool1d, MaxPool2d

KINDS = ("cnn", "cnn1d")
KERNEL_2D, KERNEL_1D = 3, 5
ACTIVATIONS = {"relu": activations.ReLU, "sigmoid": activations.Sigmoid, "tanh": activations.Tanh,
               "leaky-relu": activations.LeakyReLU, "elu": activations.ELU}


def parse_cnn(spec):
    """"cnn:32,64,fc128" -> ("cnn", [32, 64], [128]): the kind, the conv widths, the hidden linear widths.
    Raises ValueError naming the expected form."""
    kind, _, items = spec.partition(":")
    convs, hidden = [], []
    try:
        for item in items.split(","):
            if item.startswith("fc"):
                hidden.append(int(item[2:]))
            elif hidden:
                raise ValueError("conv width after fc")
            else:
                convs.append(int(item))
    except ValueError:
        convs = []
    if kind not in KINDS or not convs or min(convs + hidden) < 1:
        raise ValueError(f"unknown model {spec!r}; a CNN is 'cnn:C1,C2,...' (conv widths, then optional fcN "
                         f"hidden linear widths), e.g. 'cnn:32,64' or 'cnn:32,64,fc128', or 'cnn1d:32,64'")
    return kind, convs, hidden


def _input_layers(kind, sample_shape):
    """The layers that turn the dataset's arrays into (N, C, H, W) or (N, C, L), and (C, spatial size)."""
    shape = tuple(sample_shape)
    if kind == "cnn1d":
        if len(shape) == 1:
            return [Unflatten(1, (1, shape[0]))], 1, shape
        if len(shape) == 2:
            return [], shape[0], shape[1:]
    elif len(shape) == 2:
        return [Unflatten(1, (1, shape[0]))], 1, shape
    elif len(shape) == 3 and shape[2] in (1, 3, 4):
        return [Permute((0, 3, 1, 2))], shape[2], shape[:2]
    needs = "signals (N, L)" if kind == "cnn1d" else "images (N, H, W) or (N, H, W, C)"
    raise ValueError(f"{kind} needs {needs}, but the samples have shape {shape}; use an mlp for feature "
                     f"vectors (drop --features)" + (" or cnn1d for signals" if len(shape) == 1 else ""))


def cnn_layers(spec, sample_shape, n_classes, config):
    """The Sequential named by `spec` for samples of `sample_shape` and `n_classes` classes.

    config: an object with .activation, .init, .dropout and .seed (a RunConfig). Raises ValueError
    for a bad spec, samples of the wrong rank, or an unsupported activation."""
    kind, convs, hidden = parse_cnn(spec)
    if config.activation not in ACTIVATIONS:
        raise ValueError(f"--activation {config.activation} is not available for {kind}; choose one of "
                         f"{', '.join(ACTIVATIONS)}")
    act, seed = ACTIVATIONS[config.activation], config.seed
    layers, channels, size = _input_layers(kind, sample_shape)
    for i, width in enumerate(convs):
        if kind == "cnn":
            layers += [Conv2d(channels, width, KERNEL_2D, padding=KERNEL_2D // 2, bias=False, init=config.init,
                              rng=seed + i), BatchNorm2d(width), act(), MaxPool2d(2)]
        else:
            layers += [Conv1d(channels, width, KERNEL_1D, padding=KERNEL_1D // 2, bias=False, init=config.init,
                              rng=seed + i), BatchNorm1d(width), act(), MaxPool1d(2)]
        size = tuple(s // 2 for s in size)
        if min(size) < 1:
            raise ValueError(f"{spec}: {len(convs)} pooling blocks shrink samples of shape {tuple(sample_shape)} "
                             f"below one pixel; use fewer conv widths")
        channels = width
    width = channels
    for s in size:
        width *= s
    layers.append(Flatten())
    for j, units in enumerate(hidden):
        layers += [Linear(width, units, init=config.init, rng=seed + 50 + j), act()]
        width = units
    if config.dropout:
        layers.append(Dropout(config.dropout, rng=seed + 100))
    layers.append(Linear(width, n_classes, init="xavier", rng=seed + 99))
    return Sequential(*layers)
