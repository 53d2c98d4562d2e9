"""Batching: `DataLoader` (shuffled mini-batches, reproducible by seed) and `train_val_split`."""

from __future__ import annotations

import math

import numpy as np

from ..rng import as_generator


class DataLoader:
    """Mini-batches `(xb, yb)` of numpy arrays, a new order every pass.

    The order of pass e is drawn from (seed, e) alone, so the same seed gives the same
    sequence of orders, and a resumed run can jump to any epoch with `set_epoch`.
    Shuffling costs one gather of the data per epoch into a reused buffer; every batch is
    then a view of it, not a fresh copy. A batch is valid until the next epoch starts.
    `transform(xb) -> xb` (augmentation) is applied to each batch's inputs; labels never change.
    """

    def __init__(self, X, y, batch_size=128, shuffle=True, seed=0, drop_last=False, transform=None):
        X, y = np.asarray(X), np.asarray(y)
        if len(X) != len(y):
            raise ValueError(f"DataLoader: X has {len(X)} samples but y has {len(y)}; they must match")
        if not isinstance(batch_size, (int, np.integer)) or batch_size < 1:
            raise ValueError(f"DataLoader: batch_size must be a positive integer, got {batch_size!r}")
        if isinstance(seed, np.random.Generator):
            seed = int(seed.integers(2**63))  # orders are drawn per epoch from (seed, epoch)
        self.X, self.y = X, y
        self.batch_size, self.shuffle, self.seed = int(batch_size), shuffle, seed
        self.drop_last, self.transform = drop_last, transform
        self.epoch = 0
        self._buffers = None

    def __len__(self):
        n = len(self.X)
        return n // self.batch_size if self.drop_last else math.ceil(n / self.batch_size)

    def set_epoch(self, epoch):
        """The next pass uses the order of `epoch` (for resuming)."""
        self.epoch = int(epoch)

    def order(self, epoch):
        """The sample order of pass `epoch`."""
        if not self.shuffle:
            return np.arange(len(self.X))
        return as_generator(np.random.SeedSequence([self.seed, epoch])).permutation(len(self.X))

    def __iter__(self):
        return self.batches()

    def batches(self, start=0):
        """One pass in this epoch's order from batch `start` on (a resumed run skips the batches
        it already did; `transform`, and so its random draws, runs only on the batches yielded)."""
        X, y = self._epoch_arrays()
        self.epoch += 1
        for b in range(start, len(self)):
            xb = X[b * self.batch_size:(b + 1) * self.batch_size]
            yb = y[b * self.batch_size:(b + 1) * self.batch_size]
            yield (self.transform(xb) if self.transform is not None else xb), yb

    def _epoch_arrays(self):
        if not self.shuffle:
            return self.X, self.y
        if self._buffers is None:
            self._buffers = np.empty_like(self.X), np.empty_like(self.y)
        order = self.order(self.epoch)
        # mode="clip" (the indices are a permutation, always in range): with the default "raise",
        # numpy gathers into a hidden temporary as large as the dataset before copying to `out`
        np.take(self.X, order, axis=0, out=self._buffers[0], mode="clip")
        np.take(self.y, order, axis=0, out=self._buffers[1], mode="clip")
        return self._buffers


def train_val_split(X, y, val_fraction=0.1, stratify=True, seed=0):
    """((X_train, y_train), (X_val, y_val)): a held-out share of the data, by class if `stratify`."""
    X, y = np.asarray(X), np.asarray(y)
    if len(X) != len(y):
        raise ValueError(f"train_val_split: X has {len(X)} samples but y has {len(y)}")
    if not 0 < val_fraction < 1:
        raise ValueError(f"val_fraction must lie strictly between 0 and 1, got {val_fraction}")
    rng = as_generator(seed)
    if stratify:
        val = [rng.permutation(np.flatnonzero(y == c))[: round(val_fraction * np.sum(y == c))]
               for c in np.unique(y)]
        val_idx = np.sort(np.concatenate(val))
    else:
        val_idx = np.sort(rng.permutation(len(y))[: round(val_fraction * len(y))])
    train_mask = np.ones(len(y), bool)
    train_mask[val_idx] = False
    return (X[train_mask], y[train_mask]), (X[val_idx], y[val_idx])
