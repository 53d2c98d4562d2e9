"""What the fit loop refuses and watches: empty or non-finite training data up front, and after
every step a loss or parameters that left the finite range, with the cause named (the data, when
a sample is to blame; otherwise the learning rate).

The per-step check is cheap on purpose: one dot product per parameter (x·x in the parameter's own
dtype), which is not finite as soon as any element is non-finite or large enough that its square
overflows (|w| > ~1.8e19 in float32): no trained network has such weights, and its outputs would
overflow on the next forward pass.
"""

from __future__ import annotations

import numpy as np

CHUNK_ROWS = 4096  # rows checked at a time: no boolean copy of the whole dataset
ABSURD_INPUT = float(np.sqrt(np.finfo(np.float32).max))  # ~1.8e19: its square overflows float32


def check_training_data(X, y, name="train"):
    """Raise ValueError when (X, y) is empty, X and y differ in length, or X holds nan/inf
    (naming the first such sample's index in X)."""
    if len(X) == 0:
        raise ValueError(f"fit: {name}=(X, y) has no samples; give at least one (X: (N, ...), y: (N,))")
    if len(X) != len(y):
        raise ValueError(f"fit: {name}=(X, y) has {len(X)} samples in X but {len(y)} labels in y; give one label "
                         f"per sample")
    index = first_non_finite_sample(X)
    if index is not None:
        bad = np.asarray(X[index]).ravel()
        value = bad[~np.isfinite(bad)][0]
        raise ValueError(f"fit: {name} X holds {value} in sample {index}: the data, not the training, is the "
                         f"problem; fix or drop that sample (e.g. X[np.isfinite(X).all(axis=1)])")


def first_non_finite_sample(X):
    """Index of the first sample of X holding nan or inf, or None (integer data is always finite)."""
    X = np.asarray(X) if not hasattr(X, "dtype") else X
    if not np.issubdtype(X.dtype, np.inexact):
        return None
    for start in range(0, len(X), CHUNK_ROWS):
        rows = np.isfinite(X[start:start + CHUNK_ROWS]).reshape(min(CHUNK_ROWS, len(X) - start), -1).all(axis=1)
        if not rows.all():
            return start + int(np.argmin(rows))
    return None


def parameters_finite(params):
    """False when some parameter holds nan/inf or a value whose square overflows its dtype."""
    with np.errstate(over="ignore", invalid="ignore"):
        for p in params:
            flat = p.data.reshape(-1)
            if not np.isfinite(np.dot(flat, flat)):
                return False
    return True


def blamed_sample(xb, indices):
    """(index in the training data, description) of the batch's sample that explains a blow-up
    (nan/inf, or a magnitude whose square overflows float32), or None when the batch looks sane."""
    xb = np.asarray(xb)
    if not np.issubdtype(xb.dtype, np.inexact) or len(xb) == 0:
        return None
    flat = xb.reshape(len(xb), -1)
    with np.errstate(invalid="ignore"):
        bad = ~np.isfinite(flat).all(axis=1) | (np.abs(flat).max(axis=1) > ABSURD_INPUT)
    if not bad.any():
        return None
    row = int(np.argmax(bad))
    values = flat[row]
    finite = np.isfinite(values)
    what = (f"holds {values[~finite][0]}" if not finite.all()
            else f"has a value of magnitude {np.abs(values).max():.3g}")
    return int(indices[row]) if indices is not None else row, what


def divergence_error(what, position, lr, blamed, checkpoint_note):
    """The error for a loss or parameters that left the finite range at `position`: a ValueError
    blaming the data (naming the sample) when `blamed`, else a FloatingPointError suggesting a lower
    learning rate. `checkpoint_note` says whether a good checkpoint is kept."""
    where = f"at epoch {position.epoch + 1}, step {position.batches_done + 1}"
    if blamed is not None:
        index, detail = blamed
        return ValueError(f"{what} {where}: training sample {index} {detail}; the data is the cause, not the "
                          f"learning rate: fix or drop that sample{checkpoint_note}")
    return FloatingPointError(f"{what} {where} (lr={lr:.4g}). Lower the learning rate, or standardise the inputs "
                              f"(data.preprocess.Standardize){checkpoint_note}")
