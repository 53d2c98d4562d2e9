"""Saving and loading models: one `.npz` with the weights, the architecture as JSON and the
preprocessing state; read with `allow_pickle=False`, so loading a file runs no code.

    nnscratch.save(model, "model.npz", preprocess=scaler)
    model = nnscratch.load("model.npz")          # model.preprocess is the fitted scaler

The same container (a JSON header plus named arrays, written atomically) holds checkpoints.
"""

from __future__ import annotations

import json
import zipfile
from pathlib import Path

import numpy as np

from . import features, nn  # noqa: F401  (features registers its extractors for loading)
from .atomic import write_npz
from .data import preprocess as preprocessing

MODEL_FORMAT = "nnscratch-model"
FORMAT_VERSION = 1
MODULES = {
    name: getattr(nn, name)
    for name in ("Sequential", "Linear", "Maxout", "Flatten", "Identity", "Dropout", "Step", "Sigmoid",
                 "Tanh", "ReLU", "LeakyReLU", "ELU", "Softmax", "LogSoftmax",
                 "Conv2d", "Conv1d", "MaxPool2d", "AvgPool2d", "MaxPool1d", "BatchNorm1d", "BatchNorm2d", "Unflatten", "Permute")
}


# ----- the container ------------------------------------------------------------------------------
def write_container(path, header, arrays):
    """Write `header` (JSON-able) and `arrays` ({name: ndarray}) to one .npz, atomically."""
    payload = {"header": np.array(json.dumps(header))}
    payload.update(arrays)
    write_npz(path, payload)


def read_container(path, expected_format, what):
    """(header, arrays) of a file written by write_container with header["format"] == expected_format."""
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"no {what} at {path}")
    try:
        with np.load(path, allow_pickle=False) as archive:
            arrays = {name: archive[name] for name in archive.files}
    except (zipfile.BadZipFile, EOFError, OSError, ValueError) as error:
        raise ValueError(f"{path} is not a readable {what}: it is truncated, corrupt or not an .npz "
                         f"file ({error})") from None
    if "header" not in arrays:
        raise ValueError(f"{path} is an .npz file but not an nnscratch {what} (it has no header)")
    header = json.loads(str(arrays.pop("header")))
    if header.get("format") != expected_format:
        raise ValueError(f"{path} is not an nnscratch {what} (its format is {header.get('format')!r})")
    if header.get("version", 0) > FORMAT_VERSION:
        raise ValueError(f"{path} was written by a newer nnscratch (format version {header['version']}; this "
                         f"one reads up to {FORMAT_VERSION}): upgrade nnscratch (pip install -U nnscratch)")
    return header, arrays


def prefixed(arrays, prefix):
    """The entries of `arrays` under `prefix/`, with the prefix removed."""
    return {name[len(prefix) + 1:]: value for name, value in arrays.items() if name.startswith(prefix + "/")}


# ----- models -------------------------------------------------------------------------------------
def build(arch):
    """A fresh module from its architecture description (see nn.architecture)."""
    arch = dict(arch)
    kind = arch.pop("type", None)
    if kind not in MODULES:
        raise ValueError(f"unknown module type {kind!r} in the architecture; nnscratch rebuilds {', '.join(MODULES)}")
    if kind == "Sequential":
        return nn.Sequential(*(build(layer) for layer in arch["layers"]))
    return MODULES[kind](**arch)


def save(model, path, preprocess=None, meta=None):
    """Write `model` (made of nnscratch's own modules), its preprocessing and `meta` to `path`."""
    preprocess = preprocess if preprocess is not None else getattr(model, "preprocess", None)
    header = {"format": MODEL_FORMAT, "version": FORMAT_VERSION, "architecture": nn.architecture(model),
              "preprocess": None, "meta": meta or {}}
    arrays = {f"param/{name}": value for name, value in model.state_dict().items()}
    if preprocess is not None:
        state = preprocess.state_dict()
        header["preprocess"] = {"type": state["type"], "config": state["config"]}
        arrays.update({f"preprocess/{name}": value for name, value in state["arrays"].items()})
    write_container(path, header, arrays)


def load(path):
    """The model saved at `path`, with `.preprocess` (or None) and `.meta` attached."""
    header, arrays = read_container(path, MODEL_FORMAT, "model file")
    model = build(header["architecture"])
    model.load_state_dict(prefixed(arrays, "param"))
    model.preprocess = None
    if header["preprocess"] is not None:
        model.preprocess = preprocessing.from_state_dict({**header["preprocess"], "arrays": prefixed(arrays, "preprocess")})
    model.meta = header["meta"]
    return model
