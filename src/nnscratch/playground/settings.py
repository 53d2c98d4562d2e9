"""The playground's settings: one dataclass, parsed from the page's URL-hash strings and validated once.

The hash keys are a public contract (`dataset`, `noise`, `layers`, `activation`, `init`, `lr`,
`seed`, `play`); the rest follow the same style. `Settings.from_hash(d)` takes the strings the page
sends and raises one ValueError listing one message per bad key.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field, fields

from .datasets import DATASETS, FEATURES, MAX_CLASSES

ACTIVATIONS = ("step", "sigmoid", "tanh", "relu", "leaky-relu", "elu", "maxout", "identity")
INITS = ("small", "large", "xavier", "kaiming")
OPTIMIZERS = ("sgd", "momentum", "adam")
SCHEDULES = ("constant", "warmup-step")
REGULARIZATIONS = ("none", "l1", "l2")
PREPROCESSING = ("none", "center", "standardize", "whiten")
MAX_LAYERS = 6
MAX_UNITS = 16
MAX_BATCH = 500
MAX_SEED = 2**31 - 1


@dataclass
class Settings:
    """Everything that defines a playground run; the page's URL hash holds each field."""

    dataset: str = "circle"
    classes: int = 2
    noise: int = 0  # percent, 0..50
    ratio: int = 50  # percent of the points used for training
    batch: int = 10
    features: list = field(default_factory=lambda: ["x1", "x2"])
    preprocess: str = "none"
    layers: list = field(default_factory=lambda: [4, 2])
    activation: str = "tanh"
    acts: list = field(default_factory=list)  # per hidden layer; empty: every layer uses `activation`
    init: str = "xavier"
    optimizer: str = "sgd"
    lr: float = 0.03
    schedule: str = "constant"
    steps: int = 2000  # the horizon of the warm-up + step schedule, in optimiser steps
    reg: str = "none"
    rate: float = 0.0
    dropout: float = 0.0
    seed: int = 0

    def layer_activations(self):
        """The activation of each hidden layer: `acts` where given, else `activation`."""
        return list(self.acts) if self.acts else [self.activation] * len(self.layers)

    def to_hash(self):
        """{key: string} as the page writes it into the URL hash."""
        out = {}
        for key, value in asdict(self).items():
            out[key] = ",".join(str(v) for v in value) if isinstance(value, list) else str(value)
        return out

    @classmethod
    def from_hash(cls, values):
        """Settings from {key: string or number}; unknown keys ('play', view toggles) are ignored.

        Raises ValueError with one line per bad key, each naming the key, the value and what it takes.
        """
        settings, errors = cls(), []
        for f in fields(cls):
            if f.name not in values:
                continue
            try:
                setattr(settings, f.name, PARSERS[f.name](str(values[f.name]).strip()))
            except ValueError as error:
                errors.append(f"{f.name}={str(values[f.name])[:40]!r}: {error}")
        errors += settings._cross_errors()
        if errors:
            raise ValueError("; ".join(errors))
        return settings

    def _cross_errors(self):
        errors = []
        if self.acts and len(self.acts) != len(self.layers):
            errors.append(f"acts: gives {len(self.acts)} activations for {len(self.layers)} hidden layers; "
                          f"give one per layer or leave it empty")
        return errors


def _choice(options):
    def parse(text):
        if text not in options:
            raise ValueError(f"choose one of {', '.join(options)}")
        return text
    return parse


def _integer(low, high):
    def parse(text):
        try:
            value = int(text)
        except ValueError:
            raise ValueError(f"must be a whole number from {low} to {high}") from None
        if not low <= value <= high:
            raise ValueError(f"must be from {low} to {high}")
        return value
    return parse


def _real(low, high, low_open=False):
    def parse(text):
        try:
            value = float(text)
        except ValueError:
            value = math.nan
        if not math.isfinite(value) or value > high or value < low or (low_open and value == low):
            raise ValueError(f"must be a number {'>' if low_open else '>='} {low} and <= {high}")
        return value
    return parse


def _list(item, max_items, allow_empty=True):
    def parse(text):
        items = [t.strip() for t in text.split(",")] if text else []
        if len(items) > max_items:
            raise ValueError(f"at most {max_items} entries")
        if not items and not allow_empty:
            raise ValueError("needs at least one entry")
        return [item(t) for t in items]
    return parse


def _unique_features(text):
    names = _list(_choice(tuple(FEATURES)), len(FEATURES), allow_empty=False)(text)
    if len(set(names)) != len(names):
        raise ValueError("lists a feature twice")
    return names


PARSERS = {
    "dataset": _choice(DATASETS),
    "classes": _integer(2, MAX_CLASSES),
    "noise": _integer(0, 50),
    "ratio": _integer(10, 90),
    "batch": _integer(1, MAX_BATCH),
    "features": _unique_features,
    "preprocess": _choice(PREPROCESSING),
    "layers": _list(_integer(1, MAX_UNITS), MAX_LAYERS),
    "activation": _choice(ACTIVATIONS),
    "acts": _list(_choice(ACTIVATIONS), MAX_LAYERS),
    "init": _choice(INITS),
    "optimizer": _choice(OPTIMIZERS),
    "lr": _real(0.0, 10.0, low_open=True),
    "schedule": _choice(SCHEDULES),
    "steps": _integer(10, 1_000_000),
    "reg": _choice(REGULARIZATIONS),
    "rate": _real(0.0, 1.0),
    "dropout": _real(0.0, 0.9),
    "seed": _integer(0, MAX_SEED),
}


def schema():
    """What the page builds its controls from: the defaults (as hash strings) and each key's choices."""
    return {
        "defaults": Settings().to_hash(),
        "choices": {"dataset": list(DATASETS), "preprocess": list(PREPROCESSING), "activation": list(ACTIVATIONS),
                    "init": list(INITS), "optimizer": list(OPTIMIZERS), "schedule": list(SCHEDULES),
                    "reg": list(REGULARIZATIONS)},
        "features": {name: label for name, (label, _) in FEATURES.items()},
        "limits": {"layers": MAX_LAYERS, "units": MAX_UNITS, "classes": MAX_CLASSES, "batch": MAX_BATCH},
    }
