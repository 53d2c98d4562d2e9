"""Preprocessing fitted on training data only, then applied unchanged to any data.

    scaler = Standardize().fit(X_train)          # statistics of the training set
    X_train, X_test = scaler.transform(X_train), scaler.transform(X_test)   # no leakage

Every step follows scikit-learn's transformer protocol (`data.transformer.Transformer`): fit /
transform / fit_transform / get_params / set_params, fitted attributes ending in "_", and
`nnscratch.NotFittedError` before fit; they work inside sklearn's Pipeline and FeatureUnion.
inverse_transform where one exists, and state_dict / from_state_dict so a saved model keeps its
preprocessing. Inputs are any (N, ...) array (images or rows). Statistics are accumulated in
float64, a chunk of rows at a time (memory proportional to a chunk), and kept in the data's float
dtype: float64 data stays float64 end to end; float32 stays float32; integers (uint8) give float32.
"""

from __future__ import annotations

import numbers

import numpy as np

from .images import is_colour
from .pipeline import PREPROCESSORS, Pipeline, as_batch, from_state_dict, nested_arrays, nested_parts, register
from .transformer import Transformer

__all__ = ["PCA", "PREPROCESSORS", "Pipeline", "Preprocessor", "Scale", "Standardize", "Whiten", "ZeroCenter",
           "from_state_dict", "nested_arrays", "nested_parts", "register"]

CHUNK_ROWS = 8192


class Preprocessor(Transformer):
    """Base of the preprocessing steps: subclasses implement `_fit(X)`, `_transform(X)`, `_inverse(Z)`.

    fit needs at least 2 samples; transform checks the samples' shape against the fitted one and
    returns the data's float dtype (float64 stays float64, anything else becomes float32).
    """

    def fit(self, X, y=None):
        """Learn the statistics of training data X (N, ...), N >= 2; `y` is ignored. Returns self.

        Raises ValueError for a bad parameter, non-numeric data or fewer than 2 samples."""
        X = as_batch(X, type(self).__name__)
        if len(X) < 2:
            raise ValueError(f"{type(self).__name__}.fit needs at least 2 samples, got {len(X)}")
        return super().fit(X, y)

    def transform(self, X):
        """X (N, ...) with the training statistics applied, in X's float dtype (see the class).

        Raises NotFittedError before fit, ValueError when the samples' shape differs from fit's."""
        self._require_fit("transform")
        X = self._checked_shape(as_batch(X, type(self).__name__))
        return self._transform(X).astype(_out_dtype(X), copy=False)

    def inverse_transform(self, Z):
        """Undo `transform`: Z (N, ...) back to the input's units, in Z's float dtype. NotFittedError before fit."""
        self._require_fit("inverse_transform")
        Z = np.asarray(Z)
        return self._inverse(Z).astype(_out_dtype(Z), copy=False)

    def _check_input(self, X):
        return as_batch(X, type(self).__name__)

    def _load_arrays(self, arrays):
        """Load fitted arrays (from a saved model), refusing any whose shape the sample shape rules out:
        a statistic that merely broadcasts would transform every sample with the wrong numbers."""
        super()._load_arrays(arrays)
        for name in self.arrays:  # a string or complex statistic would fail, or mislead, only at predict time
            kind = getattr(self, name).dtype
            if kind.kind != "f":
                raise ValueError(f"{type(self).__name__}.{name} holds {kind} values, but a fitted statistic "
                                 f"is real floating-point numbers")
        if not self.sample_shape_:  # files from before the sample shape was saved: nothing to check against
            return
        for name, shape in self._fitted_shapes().items():
            got = np.shape(getattr(self, name))
            if got != shape:
                raise ValueError(f"{type(self).__name__}.{name} has shape {got}, but samples of shape "
                                 f"{self.sample_shape_} need {shape}")

    def _fitted_shapes(self):
        """{fitted array name: the shape fit gives it for samples of `sample_shape_`}."""
        return {}

    def _checked_shape(self, X):
        if X.shape[1:] != self.sample_shape_:
            raise ValueError(f"{type(self).__name__} was fitted on samples of shape {self.sample_shape_} "
                             f"but got {X.shape[1:]} (batch shape {X.shape})")
        return X


def _out_dtype(X):
    """The float dtype results are kept in: float64 for float64 data, float32 for anything else."""
    return np.dtype(np.float64) if X.dtype == np.float64 else np.dtype(np.float32)


def _rows(X):
    return X.reshape(len(X), -1)


def _chunks(rows):
    for start in range(0, len(rows), CHUNK_ROWS):
        yield rows[start:start + CHUNK_ROWS].astype(np.float64)


def _mean_and_std(X, axes):
    """Mean and standard deviation (ddof 0) over `axes`, accumulated in float64 chunks (two passes)."""
    count = int(np.prod([X.shape[a] for a in axes]))
    mean = sum(chunk.sum(axis=axes) for chunk in _chunks(X)) / count
    squares = sum(((chunk - mean) ** 2).sum(axis=axes) for chunk in _chunks(X))
    return mean, np.sqrt(squares / count)


class Scale(Preprocessor):
    """Map the training data's range [min_, max_] to [0, 1] (for uint8 images: divide by 255).

    X: (N, ...) numbers -> same shape, float. Raises ValueError at fit when every value is equal.
    """

    arrays = ("min_", "max_")

    def _fitted_shapes(self):
        return {"min_": (), "max_": ()}

    def _fit(self, X):
        dtype = _out_dtype(X)
        low, high = np.float64(X.min()), np.float64(X.max())
        if high == low:
            raise ValueError(f"Scale.fit: every value is {low}; there is no range to scale")
        self.min_, self.max_ = np.asarray(low, dtype), np.asarray(high, dtype)

    def _transform(self, X):
        dtype = _out_dtype(X)
        return (X - self.min_.astype(dtype)) * dtype.type(1 / (np.float64(self.max_) - np.float64(self.min_)))

    def _inverse(self, Z):
        dtype = _out_dtype(Z)
        return Z * dtype.type(np.float64(self.max_) - np.float64(self.min_)) + self.min_.astype(dtype)


PER = ("feature", "channel")


class _PerFeatureOrChannel(Preprocessor):
    """Statistics per feature (one per pixel and channel) or per channel (one per colour)."""

    def __init__(self, per="feature"):
        self.per = per

    def validate_params(self):
        """Raise ValueError when `per` is not "feature" or "channel"; returns self."""
        if self.per not in PER:
            raise ValueError(f"{type(self).__name__}: per={self.per!r}; choose 'feature' or 'channel'")
        return self

    def _axes(self, X):
        """The axes the statistics are taken over, of the (N, ...) batch."""
        if self.per == "feature":
            return (0,)
        return tuple(range(X.ndim - 1)) if is_colour(X) else tuple(range(X.ndim))

    def _fitted_shapes(self):
        sample = np.empty((0,) + self.sample_shape_)
        shape = self.sample_shape_ if self.per == "feature" else sample.shape[-1:] if is_colour(sample) else ()
        return {name: shape for name in self.arrays}


class ZeroCenter(_PerFeatureOrChannel):
    """x − mean_ with the training data's mean (the lecture's zero-centering; CS231n, "Data preprocessing").

    per="feature": mean_ has the sample shape; per="channel": one mean per colour channel (or one).
    """

    arrays = ("mean_",)

    def _fit(self, X):
        mean, _ = _mean_and_std(X, self._axes(X))
        self.mean_ = mean.astype(_out_dtype(X))

    def _transform(self, X):
        return np.subtract(X, self.mean_, dtype=_out_dtype(X))

    def _inverse(self, Z):
        return Z + self.mean_


class Standardize(_PerFeatureOrChannel):
    """(x − mean_) / std_ with the training data's statistics (std with ddof 0, as StandardScaler).

    A feature whose std is at most `eps` is only centred (std_ = 1). per: see ZeroCenter.
    """

    arrays = ("mean_", "std_")

    def __init__(self, per="feature", eps=1e-8):
        self.per, self.eps = per, eps

    def validate_params(self):
        """Raise ValueError for a bad `per` or a negative / non-numeric `eps`; returns self."""
        super().validate_params()
        if not isinstance(self.eps, numbers.Real) or self.eps < 0:
            raise ValueError(f"Standardize: eps={self.eps!r}; give a number >= 0")
        return self

    def _fit(self, X):
        mean, std = _mean_and_std(X, self._axes(X))
        dtype = _out_dtype(X)
        self.mean_ = mean.astype(dtype)
        self.std_ = np.where(std > self.eps, std, 1.0).astype(dtype)

    def _load_arrays(self, arrays):
        """As Preprocessor's, and refuse a std_ that fit cannot give (zero or negative: wrong signs, inf)."""
        super()._load_arrays(arrays)
        if not (self.std_ > 0).all():
            raise ValueError("Standardize.std_ holds zero or negative values, but fit makes every one positive")

    def _transform(self, X):
        out = np.subtract(X, self.mean_, dtype=_out_dtype(X))
        out /= self.std_  # in place: a dataset-sized temporary fewer
        return out

    def _inverse(self, Z):
        return Z * self.std_ + self.mean_


def _covariance_eigen(rows):
    """Mean, and eigenvalues (descending) and eigenvectors (columns) of the covariance of `rows`.

    rows: (N, D). Scatter matrix accumulated in float64 chunks; covariance with ddof 1."""
    n, d = rows.shape
    mean = sum(chunk.sum(axis=0) for chunk in _chunks(rows)) / n
    scatter = np.zeros((d, d))
    for chunk in _chunks(rows):
        centred = chunk - mean
        scatter += centred.T @ centred
    values, vectors = np.linalg.eigh(scatter / (n - 1))
    order = np.argsort(values)[::-1]
    return mean, np.clip(values[order], 0, None), vectors[:, order]


def _valid_n_components(n):
    return n is None or (isinstance(n, numbers.Integral) and not isinstance(n, bool) and n >= 1) or (
        isinstance(n, float) and 0 < n < 1)


class PCA(Preprocessor):
    """Project onto the top principal components of the training data (eigenvectors of its covariance).

    n_components: an int k, a fraction in (0, 1) of the variance to keep, or None for all.
    X: (N, ...) -> (N, k); inverse_transform maps (N, k) back to the input's shape. Fitted:
    mean_ (D,), components_ (k, D), explained_variance_ (k,), explained_variance_ratio_ (k,),
    as scikit-learn's PCA (signs of components may differ).
    """

    arrays = ("mean_", "components_", "explained_variance_", "explained_variance_ratio_")

    def __init__(self, n_components=None):
        self.n_components = n_components

    def validate_params(self):
        """Raise ValueError for an n_components that is not a positive int, a fraction in (0, 1) or None."""
        if not _valid_n_components(self.n_components):
            raise ValueError(f"n_components={self.n_components!r}: give a positive integer, a fraction of "
                             f"variance in (0, 1), or None for all components")
        return self

    def _fit(self, X):
        rows, dtype = _rows(X), _out_dtype(X)
        mean, values, vectors = _covariance_eigen(rows)
        k = self._count(values, rows.shape[1])
        self.mean_ = mean.astype(dtype)
        self.components_ = vectors[:, :k].T.astype(dtype)  # (k, D): one direction per row
        self.explained_variance_ = values[:k].astype(dtype)
        self.explained_variance_ratio_ = (values[:k] / values.sum()).astype(dtype)

    def _fitted_shapes(self):
        d, k = int(np.prod(self.sample_shape_)), len(np.atleast_1d(self.components_))
        return {"mean_": (d,), "components_": (k, d), "explained_variance_": (k,), "explained_variance_ratio_": (k,)}

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
        """Z (N, k) back to the input's shape (N, ...). Raises NotFittedError before fit, ValueError on shape."""
        self._require_fit("inverse_transform")
        Z = np.asarray(Z)
        if Z.ndim != 2 or Z.shape[1] != len(self.components_):
            raise ValueError(f"PCA.inverse_transform expects (N, {len(self.components_)}), got {Z.shape}")
        rows = Z @ self.components_ + self.mean_
        return rows.reshape((len(Z),) + self.sample_shape_).astype(_out_dtype(Z), copy=False)


WHITEN_METHODS = ("pca", "zca")


class Whiten(Preprocessor):
    """Decorrelate and scale to unit variance: the training data's covariance becomes I (CS231n).

    method="pca" rotates onto the principal axes then divides by sqrt(variance + eps),
    giving (N, D); method="zca" rotates back afterwards, so images stay images (N, ...).
    Directions with variance far below `eps` are damped (variance λ/(λ+eps)) rather than blown up.
    """

    arrays = ("mean_", "eigenvectors_", "eigenvalues_")

    def __init__(self, method="zca", eps=1e-5):
        self.method, self.eps = method, eps

    def validate_params(self):
        """Raise ValueError for a method other than "pca"/"zca" or a negative eps; returns self."""
        if self.method not in WHITEN_METHODS:
            raise ValueError(f"method={self.method!r}: choose 'pca' or 'zca'")
        if not isinstance(self.eps, numbers.Real) or self.eps < 0:
            raise ValueError(f"Whiten: eps={self.eps!r}; give a number >= 0")
        return self

    def _fit(self, X):
        mean, values, vectors = _covariance_eigen(_rows(X))
        dtype = _out_dtype(X)
        self.mean_, self.eigenvalues_, self.eigenvectors_ = mean.astype(dtype), values.astype(dtype), vectors.astype(dtype)

    def _fitted_shapes(self):
        d = int(np.prod(self.sample_shape_))
        return {"mean_": (d,), "eigenvectors_": (d, d), "eigenvalues_": (d,)}

    def _scales(self):
        return np.sqrt(self.eigenvalues_ + self.eigenvalues_.dtype.type(self.eps))

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


for _cls in (Scale, ZeroCenter, Standardize, PCA, Whiten):
    register(_cls)
