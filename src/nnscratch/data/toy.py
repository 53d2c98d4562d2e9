"""Toy 2-D classification sets, generated from a seed: where linear classifiers fail and MLPs win.

Each returns (X, y): X float32 of shape (n_samples, 2), y int64 class labels, in shuffled order.
Each takes rng= (an int seed or a numpy Generator; `seed=` is its older name, default 0): the
same seed gives the same set. Each raises ValueError when n_samples is fewer than the classes.
"""

from __future__ import annotations

import numpy as np

from ..rng import as_generator
from .randomness import rng_or_seed


def _finish(X, y, rng):
    order = rng.permutation(len(y))
    return X[order].astype(np.float32), y[order].astype(np.int64)


def _per_class(n_samples, n_classes):
    if n_samples < n_classes:
        raise ValueError(f"n_samples={n_samples} is fewer than the {n_classes} classes; ask for more samples")
    return np.array_split(np.arange(n_samples), n_classes)


def spirals(n_samples=300, n_classes=3, noise=0.2, rng=None, *, seed=None):
    """CS231n's interleaved spirals: class k winds from the centre through angles 4k..4k+4 (radians).

    noise: the std of Gaussian noise added to each angle. Returns X (n_samples, 2) float32 and
    y (n_samples,) int64 in 0..n_classes-1 (CS231n, "Putting it together: a toy neural network").
    """
    rng = as_generator(rng_or_seed(rng, seed, "toy.spirals", default=0))
    X, y = np.zeros((n_samples, 2)), np.zeros(n_samples)
    for k, idx in enumerate(_per_class(n_samples, n_classes)):
        r = np.linspace(0.0, 1.0, len(idx))
        t = np.linspace(4.0 * k, 4.0 * (k + 1), len(idx)) + rng.standard_normal(len(idx)) * noise
        X[idx] = np.c_[r * np.sin(t), r * np.cos(t)]
        y[idx] = k
    return _finish(X, y, rng)


def rings(n_samples=300, noise=0.05, factor=0.5, rng=None, *, seed=None):
    """Two concentric circles: class 0 of radius 1, class 1 of radius `factor`.

    noise: the std of Gaussian noise added to each coordinate. Returns X (n_samples, 2) float32
    and y (n_samples,) int64 in {0, 1} (scikit-learn's make_circles, written out).
    """
    rng = as_generator(rng_or_seed(rng, seed, "toy.rings", default=0))
    outer, inner = _per_class(n_samples, 2)
    t = rng.uniform(0, 2 * np.pi, n_samples)
    radius = np.where(np.isin(np.arange(n_samples), inner), factor, 1.0)
    X = radius[:, None] * np.c_[np.cos(t), np.sin(t)] + rng.standard_normal((n_samples, 2)) * noise
    y = np.isin(np.arange(n_samples), inner).astype(int)
    return _finish(X, y, rng)


def xor(n_samples=300, noise=0.2, rng=None, *, seed=None):
    """Four blobs at (±1, ±1); the class is 1 where the two coordinates' signs differ.

    noise: the std of each blob. Returns X (n_samples, 2) float32 and y (n_samples,) int64 in
    {0, 1}, as many points in each quadrant: no line separates the classes (Minsky and Papert, 1969).
    """
    rng = as_generator(rng_or_seed(rng, seed, "toy.xor", default=0))
    corners = np.zeros((n_samples, 2))
    for idx, corner in zip(_per_class(n_samples, 4), [(1, 1), (-1, -1), (1, -1), (-1, 1)]):
        corners[idx] = corner  # as many points in each quadrant, so the classes are balanced
    X = corners + rng.standard_normal((n_samples, 2)) * noise
    y = (corners[:, 0] != corners[:, 1]).astype(int)
    return _finish(X, y, rng)


def moons(n_samples=300, noise=0.1, rng=None, *, seed=None):
    """Two interleaving half circles (scikit-learn's make_moons, written out).

    noise: the std of Gaussian noise added to each coordinate. Returns X (n_samples, 2) float32
    and y (n_samples,) int64 in {0, 1}.
    """
    rng = as_generator(rng_or_seed(rng, seed, "toy.moons", default=0))
    upper, lower = _per_class(n_samples, 2)
    t_up, t_low = np.linspace(0, np.pi, len(upper)), np.linspace(0, np.pi, len(lower))
    X = np.r_[np.c_[np.cos(t_up), np.sin(t_up)], np.c_[1 - np.cos(t_low), 0.5 - np.sin(t_low)]]
    X += rng.standard_normal(X.shape) * noise
    y = np.r_[np.zeros(len(upper)), np.ones(len(lower))]
    return _finish(X, y, rng)


def gaussians(n_samples=300, n_classes=3, std=0.5, radius=2.0, rng=None, *, seed=None):
    """Isotropic Gaussian blobs, their centres evenly spaced on a circle of `radius`.

    std: each blob's standard deviation. Returns X (n_samples, 2) float32 and y (n_samples,)
    int64 in 0..n_classes-1.
    """
    rng = as_generator(rng_or_seed(rng, seed, "toy.gaussians", default=0))
    angles = 2 * np.pi * np.arange(n_classes) / n_classes
    centres = radius * np.c_[np.cos(angles), np.sin(angles)]
    X, y = np.zeros((n_samples, 2)), np.zeros(n_samples)
    for k, idx in enumerate(_per_class(n_samples, n_classes)):
        X[idx] = centres[k] + rng.standard_normal((len(idx), 2)) * std
        y[idx] = k
    return _finish(X, y, rng)
