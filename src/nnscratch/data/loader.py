"""Batching: `DataLoader` (shuffled mini-batches, reproducible by rng) and `train_val_split`.

A DataLoader takes arrays, `DataLoader(X, y, batch_size=128)`, or, like PyTorch's, any map-style
dataset: an object with `__len__` and `__getitem__(i) -> (x, y)`, `DataLoader(dataset, 32)`.
"""

from __future__ import annotations

import math
import numbers

import numpy as np

from ..rng import as_generator
from .randomness import rng_or_seed

DEFAULT_BATCH_SIZE = 128


def _is_int(value):
    return isinstance(value, (int, np.integer)) and not isinstance(value, bool)


class DataLoader:
    """Mini-batches `(xb, yb)` of numpy arrays, a new order every pass.

    DataLoader(X, y, batch_size=128, shuffle=True, rng=0, drop_last=False, transform=None), with
    X: (N, ...) and y: (N, ...) arrays; or DataLoader(dataset, batch_size, shuffle=True, ...) with a
    dataset of `len(dataset)` samples whose `dataset[i]` is a pair (x, y): the pairs of a batch are
    stacked into arrays xb (B, ...) and yb (B, ...) (`np.stack`, as torch's default collate).

    The order of pass e is drawn from (rng, e) alone, so the same seed gives the same sequence of
    orders (the same as torch.utils.data.DataLoader's with shuffle=False when shuffle=False), and
    a resumed run can jump to any epoch with `set_epoch`. rng: an int seed or a Generator
    (`seed=` is its older name; default 0). For arrays, shuffling costs one gather per epoch into a
    reused buffer and every batch is a view of it: a batch is valid until the next epoch starts.
    `transform(xb) -> xb` (augmentation) is applied to each batch's inputs; labels never change.
    Raises ValueError when X and y differ in length or batch_size is not a positive integer,
    TypeError when the data is neither arrays nor a dataset.
    """

    def __init__(self, X, y=None, batch_size=None, shuffle=True, seed=None, drop_last=False, transform=None, *,
                 rng=None):
        if y is None or isinstance(y, numbers.Real):  # DataLoader(dataset, batch_size, ...), as PyTorch's
            batch_size, shuffle = _dataset_form_sizes(y, batch_size, shuffle)
            self.dataset, self.X, self.y = _checked_dataset(X), None, None
        else:
            X, y = np.asarray(X), np.asarray(y)
            if len(X) != len(y):
                raise ValueError(f"DataLoader: X has {len(X)} samples but y has {len(y)}; they must match")
            self.dataset, self.X, self.y = None, X, y
        batch_size = DEFAULT_BATCH_SIZE if batch_size is None else batch_size
        if not _is_int(batch_size) or batch_size < 1:
            raise ValueError(f"DataLoader: batch_size must be a positive integer, got {batch_size!r}")
        seed = rng_or_seed(rng, seed, "DataLoader", default=0)
        if isinstance(seed, np.random.Generator):
            seed = int(seed.integers(2**63))  # orders are drawn per epoch from (seed, epoch)
        self.batch_size, self.shuffle, self.seed = int(batch_size), shuffle, seed
        self.drop_last, self.transform = drop_last, transform
        self.epoch = 0
        self._buffers = None

    def _n(self):
        return len(self.dataset) if self.dataset is not None else len(self.X)

    def __len__(self):
        """The number of batches in one pass."""
        n = self._n()
        return n // self.batch_size if self.drop_last else math.ceil(n / self.batch_size)

    def set_epoch(self, epoch):
        """The next pass uses the order of `epoch` (for resuming)."""
        self.epoch = int(epoch)

    def order(self, epoch):
        """The sample order of pass `epoch`: (N,) int64, a permutation (arange when not shuffling)."""
        if not self.shuffle:
            return np.arange(self._n())
        return as_generator(np.random.SeedSequence([self.seed, epoch])).permutation(self._n())

    def __iter__(self):
        return self.batches()

    def batches(self, start=0):
        """One pass in this epoch's order from batch `start` on (a resumed run skips the batches
        it already did; `transform`, and so its random draws, runs only on the batches yielded)."""
        if self.dataset is not None:
            batch_of = self._dataset_batches(self.order(self.epoch))
        else:
            batch_of = self._array_batches(*self._epoch_arrays())
        self.epoch += 1
        for b in range(start, len(self)):
            xb, yb = batch_of(b)
            yield (self.transform(xb) if self.transform is not None else xb), yb

    def _array_batches(self, X, y):
        size = self.batch_size
        return lambda b: (X[b * size:(b + 1) * size], y[b * size:(b + 1) * size])

    def _dataset_batches(self, order):
        size = self.batch_size

        def batch(b):
            indices = order[b * size:(b + 1) * size]
            return _collate([_pair(self.dataset, int(i)) for i in indices])
        return batch

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


def _dataset_form_sizes(second, batch_size, shuffle):
    """(batch_size, shuffle) of DataLoader(dataset, [batch_size, [shuffle]], ...)."""
    if second is None:
        return batch_size, shuffle
    if isinstance(batch_size, bool):  # DataLoader(dataset, 32, False): the third is shuffle
        return second, batch_size
    if batch_size is not None:
        raise TypeError(f"DataLoader(dataset, {second}, batch_size={batch_size!r}): batch_size given twice")
    return second, shuffle


def _checked_dataset(dataset):
    if isinstance(dataset, np.ndarray) or not (hasattr(dataset, "__len__") and hasattr(dataset, "__getitem__")):
        raise TypeError(f"DataLoader takes arrays, DataLoader(X, y, batch_size), or a dataset with __len__ and "
                        f"__getitem__ returning (x, y), DataLoader(dataset, batch_size); got "
                        f"{type(dataset).__name__} without labels")
    return dataset


def _pair(dataset, i):
    item = dataset[i]
    if not (isinstance(item, (tuple, list)) and len(item) == 2):
        raise TypeError(f"DataLoader: dataset[{i}] must be a pair (x, y), got {type(item).__name__}"
                        + (f" of length {len(item)}" if isinstance(item, (tuple, list)) else ""))
    return item


def _collate(pairs):
    """((B, ...), (B, ...)): the pairs' inputs and targets each stacked into one array."""
    return _stacked([x for x, _ in pairs], "inputs x"), _stacked([y for _, y in pairs], "targets y")


def _stacked(values, what):
    arrays = [np.asarray(v) for v in values]
    try:
        return np.stack(arrays)
    except ValueError:
        shapes = sorted({a.shape for a in arrays}, key=str)
        raise ValueError(f"DataLoader: the dataset's {what} in one batch have different shapes "
                         f"({', '.join(map(str, shapes))}); every sample must have the same shape to be "
                         f"stacked into a batch (resize or pad them in the dataset)") from None


def train_val_split(X, y, val_fraction=0.1, stratify=True, seed=None, *, rng=None):
    """((X_train, y_train), (X_val, y_val)): a held-out share of the data, by class if `stratify`.

    X: (N, ...), y: (N,). rng: an int seed or a Generator (`seed=` is its older name; default 0);
    the same seed gives the same split. Each class keeps round(val_fraction · its count) samples
    for validation. Raises ValueError when X and y differ in length or val_fraction is not in (0, 1).
    """
    X, y = np.asarray(X), np.asarray(y)
    if len(X) != len(y):
        raise ValueError(f"train_val_split: X has {len(X)} samples but y has {len(y)}")
    if not 0 < val_fraction < 1:
        raise ValueError(f"val_fraction must lie strictly between 0 and 1, got {val_fraction}")
    rng = as_generator(rng_or_seed(rng, seed, "train_val_split", default=0))
    if stratify:
        val = [rng.permutation(np.flatnonzero(y == c))[: round(val_fraction * np.sum(y == c))]
               for c in np.unique(y)]
        val_idx = np.sort(np.concatenate(val))
    else:
        val_idx = np.sort(rng.permutation(len(y))[: round(val_fraction * len(y))])
    train_mask = np.ones(len(y), bool)
    train_mask[val_idx] = False
    return (X[train_mask], y[train_mask]), (X[val_idx], y[val_idx])
