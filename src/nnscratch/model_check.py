"""A model file's architecture checked against its arrays BEFORE any layer is built (issue 13 item 2,
issue 18 item 2): `check_architecture` walks the JSON description, and for every layer type in
`PARAMETER_SHAPES` computes the exact shape of each array its constructor would allocate, from the
description alone. A file whose arrays differ, or whose description asks for absurd sizes, is refused
in one `ModelFileError` naming the layer, so loading never allocates more than the file holds.

`nnscratch.serialize` owns reading the file and building the model; this module owns only the checks.
"""

from __future__ import annotations

import inspect

import numpy as np

from . import nn
from .errors import ModelFileError

MODULES = {
    name: getattr(nn, name)
    for name in ("Sequential", "Linear", "Maxout", "Flatten", "Identity", "Dropout", "Step", "Sigmoid",
                 "Tanh", "ReLU", "LeakyReLU", "ELU", "Softmax", "LogSoftmax",
                 "Conv2d", "Conv1d", "MaxPool2d", "AvgPool2d", "MaxPool1d", "BatchNorm1d", "BatchNorm2d", "Unflatten", "Permute")
}


def _linear_shapes(config):
    return {"weight": (config["in_features"], config["out_features"]),
            **({"bias": (config["out_features"],)} if config.get("bias", True) else {})}


def _maxout_shapes(config):
    pieces = config.get("pieces", 2)
    return {"weight": (pieces, config["in_features"], config["out_features"]),
            "bias": (pieces, 1, config["out_features"])}


def _kernel_pair(value):
    """Conv2d's kernel_size as the constructor reads it: an int k is (k, k), a list [kh, kw] is itself.
    Any other form gives (None, None), which the positive-integer check then refuses."""
    if isinstance(value, int):
        return value, value
    if isinstance(value, list) and len(value) == 2:
        return tuple(value)
    return None, None


def _conv2d_shapes(config):
    out_channels = config["out_channels"]
    weight = (out_channels, config["in_channels"], *_kernel_pair(config["kernel_size"]))
    return {"weight": weight, **({"bias": (out_channels,)} if config.get("bias", True) else {})}


def _conv1d_shapes(config):
    out_channels = config["out_channels"]
    weight = (out_channels, config["in_channels"], config["kernel_size"])
    return {"weight": weight, **({"bias": (out_channels,)} if config.get("bias", True) else {})}


def _batch_norm_shapes(config):
    size = (config["num_features"],)
    learned = {"weight": size, "bias": size} if config.get("affine", True) else {}
    return {**learned, "running_mean": size, "running_var": size}


# The parameters a layer's constructor allocates, from its architecture entry alone. A module type
# with parameters but no entry here is built only when none of its integer arguments exceeds the
# largest dimension of any array in the file (GENERIC_SIZE_FLOOR for small settings like a kernel).
PARAMETER_SHAPES = {"Linear": _linear_shapes, "Maxout": _maxout_shapes, "Conv2d": _conv2d_shapes,
                    "Conv1d": _conv1d_shapes, "BatchNorm1d": _batch_norm_shapes, "BatchNorm2d": _batch_norm_shapes}
GENERIC_SIZE_FLOOR = 64
MAX_NESTING = 50  # Sequentials inside Sequentials: deeper is no model anyone wrote


def _is_real(v):
    return isinstance(v, (int, float)) and not isinstance(v, bool)


# The kind of value each layer argument takes, checked before building (a string where an axis
# belongs would otherwise load and fail at the first forward pass)
ARGUMENT_KINDS = {
    "axis": (lambda v: v is None or (isinstance(v, int) and not isinstance(v, bool)), "an integer or null"),
    "dim": (lambda v: v is None or (isinstance(v, int) and not isinstance(v, bool)), "an integer or null"),
    "negative_slope": (_is_real, "a number"),
    "alpha": (_is_real, "a number"),
    "p": (_is_real, "a number"),
    "bias": (lambda v: isinstance(v, bool), "true or false"),
    "affine": (lambda v: isinstance(v, bool), "true or false"),
    "eps": (_is_real, "a number"),
    "momentum": (_is_real, "a number"),
    "init": (lambda v: isinstance(v, str), "a string"),
}




def check_architecture(path, arch, params):
    """Check an architecture from the file at `path` against its parameter arrays {name: array}
    BEFORE anything is built: known layer types, arguments their constructors take, positive sizes,
    and every parameter present with exactly the shape the architecture gives it, none extra.
    Raises one ModelFileError listing every problem found."""
    expected, loose, problems = {}, [], []
    largest = max((max(a.shape, default=1) for a in params.values()), default=1)
    _expect(arch, "", expected, loose, problems, max(largest, GENERIC_SIZE_FLOOR))
    if not problems:
        for name, shape in expected.items():
            if name not in params:
                problems.append(f"parameter {name!r} {_shape(shape)} is missing")
            elif params[name].shape != tuple(shape):
                problems.append(f"parameter {name!r} has shape {_shape(params[name].shape)} but its layer needs "
                                f"{_shape(shape)}")
            elif params[name].dtype.kind != "f":
                problems.append(f"parameter {name!r} holds {params[name].dtype}, not floating-point numbers")
        extra = [n for n in params if n not in expected and not any(n.startswith(p) for p in loose)]
        if extra:
            problems.append(f"it holds arrays its architecture has no place for: {', '.join(map(repr, extra))}")
    if problems:
        raise ModelFileError(f"{path}: its architecture does not match its arrays: {'; '.join(problems)}. "
                             f"The file was edited or damaged; save the model again with nnscratch.save, "
                             f"or retrain it")


def _expect(arch, prefix, expected, loose, problems, size_limit):
    where = f" at {prefix[:-1]!r}" if prefix else ""
    if prefix.count(".") > MAX_NESTING:
        problems.append(f"its layers are nested more than {MAX_NESTING} deep{where}")
        return
    if not isinstance(arch, dict) or not isinstance(arch.get("type"), str):
        problems.append(f"the layer{where} is not an object with a 'type'")
        return
    config = {k: v for k, v in arch.items() if k != "type"}
    kind, cls = arch["type"], MODULES.get(arch["type"])
    if cls is None:
        problems.append(f"unknown layer type {kind!r}{where} (this nnscratch rebuilds {', '.join(MODULES)}; "
                        f"a newer nnscratch may know it)")
        return
    if kind == "Sequential":
        layers = config.get("layers")
        if not isinstance(layers, list) or set(config) != {"layers"}:
            problems.append(f"the Sequential{where} needs exactly a list of 'layers'")
            return
        for i, layer in enumerate(layers):
            _expect(layer, f"{prefix}{i}.", expected, loose, problems, size_limit)
        return
    try:
        inspect.signature(cls).bind(**config)
    except TypeError as error:
        problems.append(f"{kind}{where} cannot take {config} ({error})")
        return
    wrong = [f"{name}={value!r} (it takes {ARGUMENT_KINDS[name][1]})" for name, value in config.items()
             if name in ARGUMENT_KINDS and not ARGUMENT_KINDS[name][0](value)]
    if wrong:
        problems.append(f"{kind}{where} has {', '.join(wrong)}")
        return
    sizes = _integers(config.values())
    if "dtype" in config and not _is_float_dtype(config["dtype"]):
        problems.append(f"{kind}{where} has dtype {config['dtype']!r}, not a floating-point type")
        return
    if kind in PARAMETER_SHAPES:
        try:
            shapes = PARAMETER_SHAPES[kind](config)
        except KeyError as missing:
            problems.append(f"{kind}{where} lacks the argument {missing}")
            return
        bad = [s for s in shapes.values() if any(not isinstance(n, int) or isinstance(n, bool) or n < 1 for n in s)]
        if bad:
            problems.append(f"{kind}{where} has sizes that are not positive integers: {config}")
            return
        expected.update({prefix + name: tuple(shape) for name, shape in shapes.items()})
    elif any(v > size_limit for v in sizes):
        problems.append(f"{kind}{where} has a size ({max(sizes):,}) larger than any array in the file")
    else:
        loose.append(prefix)  # its arrays are checked when they are loaded into the built layer


def _integers(values):
    """Every int in `values`, looking inside lists (a kernel_size of [3, 3])."""
    found = []
    for v in values:
        if isinstance(v, list):
            found += _integers(v)
        elif isinstance(v, int) and not isinstance(v, bool):
            found.append(v)
    return found


def _is_float_dtype(name):
    try:
        return np.dtype(name).kind == "f"
    except TypeError:
        return False


def _shape(shape):
    """A shape as Python writes it, with thousands separators: (1,000, 10) and (3,)."""
    parts = [f"{n:,}" if isinstance(n, int) else repr(n) for n in shape]
    return "(" + ", ".join(parts) + ("," if len(parts) == 1 else "") + ")"
