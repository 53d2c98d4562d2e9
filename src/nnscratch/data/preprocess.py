"""Preprocessing fitted on training data only, then applied unchanged to any data.

    scaler = Standardize().fit(X_train)          # statistics of the training set
    X_train, X_test = scaler.transform(X_train), scaler.transform(X_test)   # no leakage

Each has fit / transform / fit_transform / inverse_transform (where one exists) and
state_dict / from_state_dict so a saved model keeps its preprocessing. Inputs are any
(N, ...) array (images or rows); outputs are float32 (float64 stays float64). Statistics
are accumulated in float64, a chunk of rows at a time, so memory stays proportional to a chunk.
"""

from __future__ import annotations

import numpy as np

from .images import is_colour

CHUNK_ROWS = 8192


class Preprocessor:
    """Base class: subclasses implement `_fit(rows)`, `_transform(rows)` and `_inverse(rows)`."""

    arrays = ()  # names of the fitted arrays, saved by state_dict

    def fit(self, X):
        X = _as_batch(X, type(self).__name__)
        if len(X) < 2:
            raise ValueError(f"{type(self).__name__}.fit needs at least 2 samples, got {len(X)}")
        self.sample_shape_ = X.shape[1:]
        self._fit(X)
        return self

    def transform(self, X):
        X = self._checked(X, "transform")
        return self._transform(X).astype(_out_dtype(X), copy=False)

    def fit_transform(self, X):
        return self.fit(X).transform(X)

    def inverse_transform(self, Z):
        self._require_fit("inverse_transform")
        Z = np.asarray(Z)
        return self._inverse(Z).astype(_out_dtype(Z), copy=False)

    # ----- state ----------------------------------------------------------------------------------
    def config(self):
        return {}

    def state_dict(self):
        """{"type", "config" (JSON-able), "arrays" (numpy)}: everything needed to rebuild it."""
        self._require_fit("state_dict")
        arrays = {name: getattr(self, name) for name in self.arrays}
        arrays["sample_shape_"] = np.array(self.sample_shape_, dtype=np.int64)
        return {"type": type(self).__name__, "config": self.config(), "arrays": arrays}

    def _load_arrays(self, arrays):
        for name in self.arrays:
            setattr(self, name, np.asarray(arrays[name]))
        self.sample_shape_ = tuple(int(n) for n in arrays["sample_shape_"])

    # ----- checks ---------------------------------------------------------------------------------
    def _require_fit(self, what):
        if not hasattr(self, "sample_shape_"):
            raise RuntimeError(f"{type(self).__name__}.{what} called before fit: call fit(X_train) first "
                               f"(on the training data only, then transform any split)")

    def _checked(self, X, what):
        self._require_fit(what)
        X = _as_batch(X, type(self).__name__)
        if X.shape[1:] != self.sample_shape_:
            raise ValueError(f"{type(self).__name__} was fitted on samples of shape {self.sample_shape_} "
                             f"but got {X.shape[1:]} (batch shape {X.shape})")
        return X

    def __repr__(self):
        args = ", ".join(f"{k}={v!r}" for k, v in self.config().items())
        return f"{type(self).__name__}({args})"


def _as_batch(X, who):
    X = np.asarray(X)
    if X.ndim < 2 or len(X) == 0:
        raise ValueError(f"{who} expects a batch of samples (N, ...) with N >= 1, got shape {X.shape}")
    if not (np.issubdtype(X.dtype, np.number) or X.dtype == bool):
        raise ValueError(f"{who} expects numbers, got dtype {X.dtype}")
    return X


def _out_dtype(X):
    return np.float64 if X.dtype == np.float64 else np.float32


def _rows(X):
    return X.reshape(len(X), -1)


def _chunks(rows):
    for start in range(0, len(rows), CHUNK_ROWS):
        yield rows[start:start + CHUNK_ROWS].astype(np.float64)


def _mean_and_std(X, axes):
    """Mean and standard deviation over `axes`, accumulated in float64 chunks (two passes)."""
    count = int(np.prod([X.shape[a] for a in axes]))
    mean = sum(chunk.sum(axis=axes) for chunk in _chunks(X)) / count
    squares = sum(((chunk - mean) ** 2).sum(axis=axes) for chunk in _chunks(X))
    return mean, np.sqrt(squares / count)


class Scale(Preprocessor):
    """Map the training data's range [min, max] to [0, 1] (for uint8 images: divide by 255)."""

    arrays = ("min_", "max_")

    def _fit(self, X):
        self.min_, self.max_ = np.asarray(X.min(), np.float64), np.asarray(X.max(), np.float64)
        if self.max_ == self.min_:
            raise ValueError(f"Scale.fit: every value is {self.min_}; there is no range to scale")

    def _transform(self, X):
        return (X - self.min_.astype(np.float32)) * np.float32(1 / (self.max_ - self.min_))

    def _inverse(self, Z):
        return Z * np.float32(self.max_ - self.min_) + self.min_.astype(np.float32)


class _PerFeatureOrChannel(Preprocessor):
    """Statistics per feature (one per pixel and channel) or per channel (one per colour)."""

    def __init__(self, per="feature"):
        if per not in ("feature", "channel"):
            raise ValueError(f"per={per!r}: choose 'feature' or 'channel'")
        self.per = per

    def config(self):
        return {"per": self.per}

    def _axes(self, X):
        """The axes the statistics are taken over, of the (N, ...) batch."""
        if self.per == "feature":
            return (0,)
        return tuple(range(X.ndim - 1)) if is_colour(X) else tuple(range(X.ndim))

    def _fit_mean_std(self, X):
        mean, std = _mean_and_std(X, self._axes(X))
        return mean.astype(np.float32), std


class ZeroCenter(_PerFeatureOrChannel):
    """Subtract the training data's mean (the lecture's zero-centering)."""

    arrays = ("mean_",)

    def _fit(self, X):
        self.mean_, _ = self._fit_mean_std(X)

    def _transform(self, X):
        return np.subtract(X, self.mean_, dtype=_out_dtype(X))

    def _inverse(self, Z):
        return Z + self.mean_


class Standardize(_PerFeatureOrChannel):
    """(x - mean) / std with the training data's statistics; a constant feature is only centred."""

    arrays = ("mean_", "std_")

    def __init__(self, per="feature", eps=1e-8):
        super().__init__(per)
        self.eps = float(eps)

    def config(self):
        return {"per": self.per, "eps": self.eps}

    def _fit(self, X):
        self.mean_, std = self._fit_mean_std(X)
        self.std_ = np.where(std > self.eps, std, 1.0).astype(np.float32)

    def _transform(self, X):
        out = np.subtract(X, self.mean_, dtype=_out_dtype(X))
        out /= self.std_  # in place: a dataset-sized temporary fewer
        return out

    def _inverse(self, Z):
        return Z * self.std_ + self.mean_


def _covariance_eigen(rows):
    """Mean, and eigenvalues (descending) and eigenvectors (columns) of the covariance of `rows`."""
    n, d = rows.shape
    mean = sum(chunk.sum(axis=0) for chunk in _chunks(rows)) / n
    scatter = np.zeros((d, d))
    for chunk in _chunks(rows):
        centred = chunk - mean
        scatter += centred.T @ centred
    values, vectors = np.linalg.eigh(scatter / (n - 1))
    order = np.argsort(values)[::-1]
    return mean, np.clip(values[order], 0, None), vectors[:, order]


class PCA(Preprocessor):
    """Project onto the top principal components of the training data.

    n_components: an int k, a fraction in (0, 1) of the variance to keep, or None for all.
    transform gives (N, k); inverse_transform maps back to the input's shape.
    """

    arrays = ("mean_", "components_", "explained_variance_", "explained_variance_ratio_")

    def __init__(self, n_components=None):
        if n_components is not None and not (
            (isinstance(n_components, (int, np.integer)) and n_components >= 1)
            or (isinstance(n_components, float) and 0 < n_components < 1)
        ):
            raise ValueError(f"n_components={n_components!r}: give a positive integer, a fraction of "
                             f"variance in (0, 1), or None for all components")
        self.n_components = n_components

    def config(self):
        return {"n_components": self.n_components}

    def _fit(self, X):
        rows = _rows(X)
        mean, values, vectors = _covariance_eigen(rows)
        k = self._count(values, rows.shape[1])
        self.mean_ = mean
        self.components_ = vectors[:, :k].T.copy()  # (k, D): one direction per row
        self.explained_variance_ = values[:k]
        self.explained_variance_ratio_ = values[:k] / values.sum()

    def _count(self, values, d):
        if self.n_components is None:
            return d
        if isinstance(self.n_components, float):
            kept = np.cumsum(values) / values.sum()
            return int(np.searchsorted(kept, self.n_components) + 1)
        if self.n_components > d:
            raise ValueError(f"PCA(n_components={self.n_components}) but the data has only {d} features")
        return int(self.n_components)

    def _transform(self, X):
        return (_rows(X) - self.mean_) @ self.components_.T

    def inverse_transform(self, Z):
        self._require_fit("inverse_transform")
        Z = np.asarray(Z)
        if Z.ndim != 2 or Z.shape[1] != len(self.components_):
            raise ValueError(f"PCA.inverse_transform expects (N, {len(self.components_)}), got {Z.shape}")
        rows = Z @ self.components_ + self.mean_
        return rows.reshape((len(Z),) + self.sample_shape_).astype(_out_dtype(Z), copy=False)


class Whiten(Preprocessor):
    """Decorrelate and scale to unit variance: the training data's covariance becomes I.

    method="pca" rotates onto the principal axes then divides by sqrt(variance + eps),
    giving (N, D); method="zca" rotates back afterwards, so images stay images (N, ...).
    Directions with variance far below `eps` are damped rather than blown up.
    """

    arrays = ("mean_", "eigenvectors_", "eigenvalues_")

    def __init__(self, method="zca", eps=1e-5):
        if method not in ("pca", "zca"):
            raise ValueError(f"method={method!r}: choose 'pca' or 'zca'")
        self.method, self.eps = method, float(eps)

    def config(self):
        return {"method": self.method, "eps": self.eps}

    def _fit(self, X):
        self.mean_, self.eigenvalues_, self.eigenvectors_ = _covariance_eigen(_rows(X))

    def _scales(self):
        return np.sqrt(self.eigenvalues_ + self.eps)

    def _transform(self, X):
        z = (_rows(X) - self.mean_) @ self.eigenvectors_ / self._scales()
        if self.method == "pca":
            return z
        return (z @ self.eigenvectors_.T).reshape(X.shape)

    def _inverse(self, Z):
        rows = _rows(Z)
        if self.method == "zca":
            rows = rows @ self.eigenvectors_
        rows = (rows * self._scales()) @ self.eigenvectors_.T + self.mean_
        return rows.reshape((len(Z),) + self.sample_shape_)


class Pipeline(Preprocessor):
    """Preprocessors applied in order, each fitted on the output of the ones before it."""

    def __init__(self, steps):
        self.steps = list(steps)
        if not self.steps:
            raise ValueError("Pipeline needs at least one step")

    def fit(self, X):
        self.sample_shape_ = _as_batch(X, "Pipeline").shape[1:]
        for step in self.steps[:-1]:
            X = step.fit_transform(X)
        self.steps[-1].fit(X)
        return self

    def transform(self, X):
        self._require_fit("transform")
        for step in self.steps:
            X = step.transform(X)
        return X

    def inverse_transform(self, Z):
        self._require_fit("inverse_transform")
        for step in reversed(self.steps):
            Z = step.inverse_transform(Z)
        return Z

    def config(self):
        return {"steps": [{"type": type(s).__name__, "config": s.config()} for s in self.steps]}

    def state_dict(self):
        self._require_fit("state_dict")
        arrays = nested_arrays(self.steps)
        arrays["sample_shape_"] = np.array(self.sample_shape_, dtype=np.int64)
        return {"type": "Pipeline", "config": self.config(), "arrays": arrays}

    def __repr__(self):
        return f"Pipeline({self.steps!r})"


PREPROCESSORS = {cls.__name__: cls for cls in (Scale, ZeroCenter, Standardize, PCA, Whiten, Pipeline)}


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
    """Let `from_state_dict` rebuild `cls` (feature extractors register themselves this way)."""
    PREPROCESSORS[cls.__name__] = cls
    return cls


def from_state_dict(state):
    """Rebuild a fitted preprocessor from its `state_dict()`."""
    kind = state.get("type")
    if kind not in PREPROCESSORS:
        raise ValueError(f"unknown preprocessor type {kind!r}; known: {', '.join(PREPROCESSORS)}")
    arrays = state["arrays"]
    if kind == "Pipeline":
        pipeline = Pipeline(nested_parts(state["config"]["steps"], arrays))
        pipeline.sample_shape_ = tuple(int(n) for n in arrays["sample_shape_"])
        return pipeline
    cls = PREPROCESSORS[kind]
    if hasattr(cls, "rebuild"):  # a container of other steps (FeaturePipeline)
        return cls.rebuild(state["config"], arrays)
    config = {k: tuple(v) if isinstance(v, list) else v for k, v in state.get("config", {}).items()}
    obj = cls(**config)
    obj._load_arrays(arrays)
    return obj
