"""One spelling for randomness in data/ and features/: rng= everywhere, seed= still accepted (issue 20, item 5)."""

import numpy as np
import pytest

from nnscratch.data import DataLoader, augment, toy, train_val_split
from nnscratch.features import BagOfVisualWords, kmeans

TOYS = [toy.spirals, toy.rings, toy.xor, toy.moons, toy.gaussians]


def test_moons_takes_rng_as_the_readme_says():
    # the issue: data.toy.moons(400, rng=0) was a TypeError (toy sets took only seed=)
    X, y = toy.moons(400, rng=0)
    X_seed, y_seed = toy.moons(400, seed=0)
    np.testing.assert_array_equal(X, X_seed)
    np.testing.assert_array_equal(y, y_seed)


@pytest.mark.parametrize("make", TOYS, ids=lambda f: f.__name__)
def test_every_toy_set_takes_an_int_or_a_generator_as_rng(make):
    np.testing.assert_array_equal(make(120, rng=7)[0], make(120, seed=7)[0])
    np.testing.assert_array_equal(make(120, rng=np.random.default_rng(7))[0], make(120, rng=7)[0])
    assert not np.array_equal(make(120, rng=7)[0], make(120, rng=8)[0])
    np.testing.assert_array_equal(make(120)[0], make(120, rng=0)[0])  # the default stays seed 0


def test_dataloader_and_train_val_split_take_rng(rng):
    X, y = np.arange(60, dtype=np.float32).reshape(30, 2), np.arange(30) % 3
    by_rng = [yb for _, yb in DataLoader(X, y, batch_size=7, rng=3)]
    by_seed = [yb for _, yb in DataLoader(X, y, batch_size=7, seed=3)]
    assert all(np.array_equal(a, b) for a, b in zip(by_rng, by_seed))
    split_rng, split_seed = train_val_split(X, y, 0.2, rng=5), train_val_split(X, y, 0.2, seed=5)
    np.testing.assert_array_equal(split_rng[1][0], split_seed[1][0])
    generator_split = train_val_split(X, y, 0.2, rng=np.random.default_rng(5))
    np.testing.assert_array_equal(generator_split[1][0], split_seed[1][0])


def test_augmentations_and_bag_of_words_take_rng_and_seed(rng):
    images = rng.integers(0, 256, (12, 16, 16), dtype=np.uint8)
    for make in (lambda **k: augment.HorizontalFlip(**k), lambda **k: augment.RandomCrop(16, padding=2, **k),
                 lambda **k: augment.RandomScale(**k), lambda **k: augment.ColorJitter(0.3, 0.3, **k)):
        np.testing.assert_array_equal(make(rng=4)(images), make(seed=4)(images))
    np.testing.assert_array_equal(BagOfVisualWords(4, rng=2).fit(images).codebook_,
                                  BagOfVisualWords(4, seed=2).fit(images).codebook_)
    points = rng.standard_normal((200, 3))
    np.testing.assert_array_equal(kmeans(points, 4, rng=1).centers, kmeans(points, 4, seed=1).centers)


def test_rng_and_seed_that_disagree_are_refused_not_guessed():
    with pytest.raises(TypeError, match=r"toy.moons: got rng=1 and seed=2; pass only rng="):
        toy.moons(10, rng=1, seed=2)
    with pytest.raises(TypeError, match="DataLoader: got rng=1 and seed=2"):
        DataLoader(np.zeros((4, 1)), np.zeros(4), rng=1, seed=2)
    with pytest.raises(TypeError, match="HorizontalFlip: got rng=0 and seed=1"):
        augment.HorizontalFlip(rng=0, seed=1)
