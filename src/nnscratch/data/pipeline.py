"""`Pipeline` of fitted steps, and rebuilding any fitted step from its `state_dict` (the registry).

A saved model keeps its preprocessing as {"type", "config", "arrays"}; `from_state_dict` looks the
type up among the registered classes (preprocessors register in `data.preprocess`, feature
extractors in `nnscratch.features`) and rebuilds it without running any code from the file.
"""

from __future__ import annotations

import numpy as np

from .transformer import Transformer

PREPROCESSORS = {}  # type name -> class, filled by register()


def as_batch(X, who):
    """`X` as an array (N, ...) of numbers with N >= 1, else a ValueError naming `who` and the shape."""
    X = np.asarray(X)
    if X.ndim < 2 or len(X) == 0:
        raise ValueError(f"{who} expects a batch of samples (N, ...) with N >= 1, got shape {X.shape}")
    if not (np.issubdtype(X.dtype, np.number) or X.dtype == bool):
        raise ValueError(f"{who} expects numbers, got dtype {X.dtype}")
    return X


class Pipeline(Transformer):
    """Steps applied in order, each fitted on the output of the ones before it.

    steps: a list of fitted-or-not preprocessors / extractors, e.g. [PCA(50), Standardize()].
    X: (N, ...) -> whatever the last step gives. Raises ValueError at fit when `steps` is empty.
    """

    def __init__(self, steps):
        self.steps = steps

    def validate_params(self):
        """Raise ValueError when `steps` is empty or a step lacks fit/transform; validates every step."""
        if not isinstance(self.steps, (list, tuple)) or not self.steps:
            raise ValueError(f"Pipeline needs a non-empty list of steps, got steps={self.steps!r}")
        for step in self.steps:
            if not (hasattr(step, "fit") and hasattr(step, "transform")):
                raise ValueError(f"Pipeline step {step!r} has no fit/transform; give preprocessors or extractors")
            if hasattr(step, "validate_params"):
                step.validate_params()
        return self

    def _check_input(self, X):
        return as_batch(X, "Pipeline")

    def _fit(self, X):
        for step in self.steps[:-1]:
            X = step.fit_transform(X)
        self.steps[-1].fit(X)

    def _transform(self, X):
        for step in self.steps:
            X = step.transform(X)
        return X

    def inverse_transform(self, Z):
        """The steps' inverse_transform in reverse order. Raises NotFittedError before fit."""
        self._require_fit("inverse_transform")
        for step in reversed(self.steps):
            Z = step.inverse_transform(Z)
        return Z

    def config(self):
        """{"steps": [{"type", "config"}, ...]}: the steps' descriptions, in order."""
        return {"steps": [{"type": type(s).__name__, "config": s.config()} for s in self.steps]}

    def state_dict(self):
        """Every step's fitted arrays (prefixed by its position) and their configs; NotFittedError before fit."""
        self._require_fit("state_dict")
        arrays = nested_arrays(self.steps)
        arrays["sample_shape_"] = np.array(self.sample_shape_, dtype=np.int64)
        return {"type": type(self).__name__, "config": self.config(), "arrays": arrays}

    @classmethod
    def rebuild(cls, config, arrays):
        """The fitted pipeline saved by `state_dict` (its `config` and `arrays`)."""
        pipeline = cls(nested_parts(config["steps"], arrays))
        pipeline.sample_shape_ = tuple(int(n) for n in arrays.get("sample_shape_", ()))
        return pipeline

    def __repr__(self):
        return f"Pipeline({self.steps!r})"


def nested_arrays(parts):
    """The fitted arrays of several parts (pipeline steps, extractors), each prefixed by its position."""
    arrays = {}
    for i, part in enumerate(parts):
        arrays.update({f"{i}.{name}": value for name, value in part.state_dict()["arrays"].items()})
    return arrays


def nested_parts(configs, arrays):
    """The parts saved by nested_arrays, rebuilt from their {"type", "config"} descriptions."""
    return [from_state_dict({**config, "arrays": {name.split(".", 1)[1]: value for name, value in arrays.items()
                                                  if name.startswith(f"{i}.")}})
            for i, config in enumerate(configs)]


def register(cls):
    """Let `from_state_dict` rebuild `cls` (preprocessors and feature extractors register this way)."""
    PREPROCESSORS[cls.__name__] = cls
    return cls


def from_state_dict(state):
    """Rebuild a fitted step from its `state_dict()`: {"type", "config", "arrays"}.

    Raises ValueError naming an unknown type and the known ones."""
    kind = state.get("type")
    if kind not in PREPROCESSORS:
        raise ValueError(f"unknown preprocessor type {kind!r}; known: {', '.join(PREPROCESSORS)}")
    cls, arrays = PREPROCESSORS[kind], state["arrays"]
    if hasattr(cls, "rebuild"):  # a container of other steps (Pipeline, FeaturePipeline)
        return cls.rebuild(state["config"], arrays)
    config = {k: tuple(v) if isinstance(v, list) else v for k, v in state.get("config", {}).items()}
    obj = cls(**config)
    obj._load_arrays(arrays)
    return obj


register(Pipeline)
