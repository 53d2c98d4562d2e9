import numpy as np
import pytest

from nnscratch.data import DataLoader, toy, train_val_split


def dataset(n=10):
    X = np.arange(n * 2, dtype=np.float32).reshape(n, 2)
    return X, np.arange(n)


# ----- DataLoader -------------------------------------------------------------------------------
def test_every_sample_appears_once_per_epoch_in_a_new_order():
    X, y = dataset(10)
    loader = DataLoader(X, y, batch_size=4, seed=0)
    assert len(loader) == 3
    epochs = []
    for _ in range(3):
        batches = list(loader)
        assert [len(yb) for _, yb in batches] == [4, 4, 2]
        order = np.concatenate([yb for _, yb in batches])
        assert sorted(order) == list(range(10))
        for xb, yb in batches:  # inputs stay paired with their labels
            np.testing.assert_array_equal(xb[:, 0], 2 * yb)
        epochs.append(order.copy())
    assert not np.array_equal(epochs[0], epochs[1])


def test_the_same_seed_gives_the_same_sequence_of_orders():
    X, y = dataset(50)
    a, b = DataLoader(X, y, batch_size=7, seed=3), DataLoader(X, y, batch_size=7, seed=3)
    for _ in range(3):
        for (_, ya), (_, yb) in zip(a, b):
            np.testing.assert_array_equal(ya, yb)
    c = DataLoader(X, y, batch_size=7, seed=4)
    assert not np.array_equal(next(iter(c))[1], next(iter(DataLoader(X, y, batch_size=7, seed=3)))[1])


def test_set_epoch_resumes_the_order_of_that_epoch():
    X, y = dataset(20)
    loader = DataLoader(X, y, batch_size=20, seed=1)
    orders = [next(iter(loader))[1].copy() for _ in range(3)]
    resumed = DataLoader(X, y, batch_size=20, seed=1)
    resumed.set_epoch(2)
    np.testing.assert_array_equal(next(iter(resumed))[1], orders[2])


def test_batches_are_views_not_copies():
    X, y = dataset(12)
    loader = DataLoader(X, y, batch_size=5, seed=0)
    shuffled = [xb for xb, _ in loader]
    assert all(xb.base is loader._buffers[0] for xb in shuffled)
    in_order = [xb for xb, _ in DataLoader(X, y, batch_size=5, shuffle=False)]
    assert all(np.shares_memory(xb, X) for xb in in_order)
    np.testing.assert_array_equal(np.concatenate(in_order), X)


def test_drop_last_and_transform():
    X, y = dataset(10)
    loader = DataLoader(X, y, batch_size=4, drop_last=True, transform=lambda xb: -xb, shuffle=False)
    assert len(loader) == 2
    (xb, yb), _ = list(loader)
    np.testing.assert_array_equal(xb, -X[:4])
    np.testing.assert_array_equal(yb, y[:4])


def test_bad_loader_arguments_are_explained():
    with pytest.raises(ValueError, match="X has 3 samples but y has 2"):
        DataLoader(np.zeros((3, 2)), np.zeros(2))
    with pytest.raises(ValueError, match="batch_size must be a positive integer, got 0"):
        DataLoader(np.zeros((3, 2)), np.zeros(3), batch_size=0)


# ----- train_val_split ---------------------------------------------------------------------------
def test_stratified_split_keeps_class_shares_and_loses_nothing():
    y = np.repeat(np.arange(3), [100, 50, 10])
    X = np.arange(len(y))
    (X_train, y_train), (X_val, y_val) = train_val_split(X, y, val_fraction=0.2, seed=0)
    assert np.bincount(y_val).tolist() == [20, 10, 2]
    assert sorted(np.concatenate([X_train, X_val])) == list(range(len(y)))
    np.testing.assert_array_equal(y[X_val], y_val)
    (_, _), (X_val2, _) = train_val_split(X, y, val_fraction=0.2, seed=0)
    np.testing.assert_array_equal(X_val, X_val2)


def test_unstratified_split_size_and_bad_fraction():
    X, y = dataset(50)
    (_, _), (X_val, _) = train_val_split(X, y, val_fraction=0.1, stratify=False, seed=2)
    assert len(X_val) == 5
    with pytest.raises(ValueError, match="strictly between 0 and 1, got 1.5"):
        train_val_split(X, y, val_fraction=1.5)


# ----- toy sets ------------------------------------------------------------------------------------
TOYS = {"spirals": toy.spirals, "rings": toy.rings, "xor": toy.xor, "moons": toy.moons, "gaussians": toy.gaussians}


@pytest.mark.parametrize("name", sorted(TOYS))
def test_toy_sets_are_float32_balanced_and_reproducible(name):
    state = np.random.get_state()[1].copy()
    X, y = TOYS[name](n_samples=300, seed=5)
    assert X.shape == (300, 2) and X.dtype == np.float32 and y.dtype == np.int64
    counts = np.bincount(y)
    assert counts.max() - counts.min() <= 1
    X2, y2 = TOYS[name](n_samples=300, seed=5)
    np.testing.assert_array_equal(X, X2)
    np.testing.assert_array_equal(y, y2)
    assert not np.array_equal(X, TOYS[name](n_samples=300, seed=6)[0])
    assert np.array_equal(np.random.get_state()[1], state)


def test_rings_have_the_two_radii_and_xor_the_sign_rule():
    X, y = toy.rings(n_samples=400, noise=0.0, factor=0.3)
    radius = np.hypot(X[:, 0], X[:, 1])
    np.testing.assert_allclose(radius[y == 0], 1.0, rtol=1e-6)
    np.testing.assert_allclose(radius[y == 1], 0.3, rtol=1e-6)
    X, y = toy.xor(n_samples=400, noise=0.1)
    np.testing.assert_array_equal(y, (np.sign(X[:, 0]) != np.sign(X[:, 1])).astype(int))


def test_spirals_class_count():
    _, y = toy.spirals(n_samples=100, n_classes=4)
    assert np.bincount(y).tolist() == [25, 25, 25, 25]
