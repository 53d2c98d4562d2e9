"""DataLoader over any map-style dataset, as PyTorch's (issue 20, item 6)."""

import numpy as np
import pytest

from nnscratch.data import DataLoader

torch = pytest.importorskip("torch")


class Squares(torch.utils.data.Dataset):
    """A tiny torch Dataset: sample i is (a (2, 3) tensor filled with i, the label i²)."""

    def __init__(self, n):
        self.n = n

    def __len__(self):
        return self.n

    def __getitem__(self, i):
        return torch.full((2, 3), float(i)), i * i


class Pairs:
    """Not torch at all: anything with __len__ and __getitem__ returning (x, y)."""

    def __init__(self, X, y):
        self.X, self.y = X, y

    def __len__(self):
        return len(self.X)

    def __getitem__(self, i):
        return self.X[i], self.y[i]


def test_a_torch_dataset_gives_the_same_batches_as_torch_dataloader_without_shuffling():
    dataset = Squares(10)
    ours = list(DataLoader(dataset, 4, shuffle=False))
    theirs = list(torch.utils.data.DataLoader(dataset, batch_size=4, shuffle=False))
    assert len(ours) == len(theirs) == 3
    for (xb, yb), (tx, ty) in zip(ours, theirs):
        assert isinstance(xb, np.ndarray) and xb.shape == tuple(tx.shape) and xb.dtype == np.float32
        np.testing.assert_array_equal(xb, tx.numpy())
        np.testing.assert_array_equal(yb, ty.numpy())


def test_a_plain_python_dataset_batches_like_the_same_arrays(rng):
    X, y = rng.standard_normal((23, 4)).astype(np.float32), rng.integers(0, 5, 23)
    for shuffle in (False, True):
        from_arrays = list(DataLoader(X, y, batch_size=5, shuffle=shuffle, rng=9))
        from_dataset = list(DataLoader(Pairs(X, y), batch_size=5, shuffle=shuffle, rng=9))
        assert len(from_dataset) == len(from_arrays) == 5
        for (xa, ya), (xd, yd) in zip(from_arrays, from_dataset):
            np.testing.assert_array_equal(xa, xd)
            np.testing.assert_array_equal(ya, yd)


def test_same_seed_same_order_and_every_sample_once_per_pass():
    loader, again = DataLoader(Squares(13), 4, rng=2), DataLoader(Squares(13), 4, rng=2)
    first = np.concatenate([yb for _, yb in loader])
    np.testing.assert_array_equal(first, np.concatenate([yb for _, yb in again]))
    np.testing.assert_array_equal(np.sort(first), np.arange(13) ** 2)
    second = np.concatenate([yb for _, yb in loader])  # the next pass, a new order
    assert not np.array_equal(first, second)
    assert len(DataLoader(Squares(13), 4, drop_last=True)) == 3


def test_a_list_of_pairs_is_a_dataset_and_positional_shuffle_works():
    pairs = [(np.array([i, i]), i) for i in range(6)]
    batches = list(DataLoader(pairs, 4, False))
    np.testing.assert_array_equal(batches[0][0], [[0, 0], [1, 1], [2, 2], [3, 3]])
    np.testing.assert_array_equal(batches[1][1], [4, 5])


def test_what_is_not_a_dataset_is_explained():
    with pytest.raises(TypeError, match=r"arrays, DataLoader\(X, y, batch_size\), or a dataset with __len__"):
        DataLoader(np.zeros((5, 2)), 2)  # an array without labels
    with pytest.raises(TypeError, match=r"dataset\[0\] must be a pair \(x, y\), got tuple of length 3"):
        next(iter(DataLoader([(1, 2, 3)], 1)))
    with pytest.raises(TypeError, match="batch_size given twice"):
        DataLoader(Squares(3), 2, batch_size=2)


@pytest.mark.parametrize("batch_size", [2.5, 0.0, True])
def test_a_non_integer_batch_size_after_a_dataset_names_batch_size(batch_size):
    pairs = [(np.ones(2), 0)] * 5
    with pytest.raises(ValueError, match=r"DataLoader: batch_size must be a positive integer, got"):
        DataLoader(pairs, batch_size)


@pytest.mark.parametrize("pairs, what", [
    ([(np.ones(i + 1), 0) for i in range(3)], "inputs x"),
    ([(np.ones((2, 2)), np.zeros(i)) for i in range(3)], "targets y"),
])
def test_samples_of_different_shapes_are_named_not_a_bare_numpy_error(pairs, what):
    with pytest.raises(ValueError, match=f"the dataset's {what} in one batch have different shapes"):
        list(DataLoader(pairs, 3, shuffle=False))
