"""k-means with k-means++ seeding (Arthur and Vassilvitskii, 2007), written out.

Seeding is the greedy k-means++: each new centre is the best of a few candidates drawn with
probability proportional to the squared distance to the nearest centre so far. Then Lloyd's
iterations (assign every point to its nearest centre, move each centre to its points' mean)
until the centres move less than `tol` times the data's mean variance. For large inputs,
`batch_size` switches to mini-batch k-means (Sculley, 2010): each step moves the centres
towards a random batch, with per-centre learning rates 1 / (points seen).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from ..data.randomness import rng_or_seed
from ..rng import as_generator

ASSIGN_CHUNK = 8192


@dataclass
class KMeansResult:
    centers: np.ndarray  # (k, D)
    labels: np.ndarray  # (N,)
    inertia: float  # sum of squared distances of each point to its centre
    iterations: int


def squared_distances(X, centers, center_norms=None, x_norms=None):
    """||x - c||² for every pair, as ||x||² - 2 x·c + ||c||² (one matrix product), floored at 0."""
    center_norms = (centers**2).sum(axis=1) if center_norms is None else center_norms
    x_norms = (X**2).sum(axis=1) if x_norms is None else x_norms
    d = x_norms[:, None] - 2 * X @ centers.T + center_norms
    return np.maximum(d, 0, out=d)


def assign(X, centers, x_norms=None):
    """(labels, squared distance to the nearest centre) for every row of X, in chunks.
    `x_norms`, the rows' squared norms, saves recomputing them on every iteration."""
    norms = (centers**2).sum(axis=1)
    x_norms = (X**2).sum(axis=1) if x_norms is None else x_norms
    labels, dists = np.empty(len(X), np.int64), np.empty(len(X))
    for start in range(0, len(X), ASSIGN_CHUNK):
        d = squared_distances(X[start:start + ASSIGN_CHUNK], centers, norms, x_norms[start:start + ASSIGN_CHUNK])
        labels[start:start + ASSIGN_CHUNK] = d.argmin(axis=1)
        dists[start:start + ASSIGN_CHUNK] = d[np.arange(len(d)), labels[start:start + ASSIGN_CHUNK]]
    return labels, dists


def sum_by_label(X, labels, k):
    """(sums (k, D), counts (k,)) of the rows of X by label, as one-hot.T @ X a chunk at a time:
    a matrix product, where np.add.at (the obvious way) is many times slower."""
    counts = np.bincount(labels, minlength=k)
    sums = np.zeros((k, X.shape[1]))
    for start in range(0, len(X), ASSIGN_CHUNK):
        chunk = labels[start:start + ASSIGN_CHUNK]
        onehot = np.zeros((len(chunk), k))
        onehot[np.arange(len(chunk)), chunk] = 1
        sums += onehot.T @ X[start:start + ASSIGN_CHUNK]
    return sums, counts


def kmeans_plus_plus(X, k, rng, n_local_trials=None):
    """k initial centres (k, D) from the rows of X (N, D) by greedy k-means++ (Arthur and
    Vassilvitskii, 2007): each the best of `n_local_trials` candidates (default 2 + log k) drawn
    with probability proportional to the squared distance to the nearest centre so far. rng: a Generator."""
    n = len(X)
    trials = n_local_trials or 2 + int(math.log(k))
    centers = np.empty((k, X.shape[1]))
    centers[0] = X[rng.integers(n)]
    closest = squared_distances(X, centers[:1])[:, 0]
    for c in range(1, k):
        picks = np.searchsorted(np.cumsum(closest), rng.random(trials) * closest.sum())
        picks = np.minimum(picks, n - 1)
        candidate_closest = np.minimum(closest, squared_distances(X, X[picks]).T)  # (trials, n)
        best = candidate_closest.sum(axis=1).argmin()
        centers[c], closest = X[picks[best]], candidate_closest[best]
    return centers


def kmeans(X, k, *, rng=None, max_iter=100, tol=1e-4, batch_size=None, n_init=3, seed=None):
    """Cluster the rows of X (N, D) into k groups; returns a KMeansResult (centers (k, D) float64).

    Full-batch runs keep the best of `n_init` seedings (k-means only finds a local optimum, and
    one unlucky seeding can merge two clusters); mini-batch runs use one. rng: an int seed or a
    Generator (`seed=` is its older name; default 0). Raises ValueError when X is not 2-D or has
    fewer than k rows. Lloyd (1982); k-means++ (Arthur and Vassilvitskii, 2007); mini-batch (Sculley, 2010).
    """
    X = np.asarray(X, dtype=np.float64)
    if X.ndim != 2 or len(X) < k or k < 1:
        raise ValueError(f"kmeans needs a 2-D array with at least k={k} rows, got shape {X.shape}")
    rng = as_generator(rng_or_seed(rng, seed, "kmeans", default=0))
    threshold = tol * X.var(axis=0).mean()
    if batch_size is not None and batch_size < len(X):
        runs = [_minibatch(X, k, rng, max_iter, batch_size)]
    else:
        runs = [_lloyd(X, kmeans_plus_plus(X, k, rng), max_iter, threshold) for _ in range(n_init)]
    results = []
    for centers, iterations in runs:
        labels, dists = assign(X, centers)
        results.append(KMeansResult(centers, labels, float(dists.sum()), iterations))
    return min(results, key=lambda r: r.inertia)


def _lloyd(X, centers, max_iter, threshold):
    x_norms = (X**2).sum(axis=1)
    for iteration in range(1, max_iter + 1):
        labels, dists = assign(X, centers, x_norms)
        sums, counts = sum_by_label(X, labels, len(centers))
        new = sums / np.maximum(counts, 1)[:, None]
        empty = np.flatnonzero(counts == 0)
        if len(empty):  # an empty cluster restarts at the points farthest from their centres
            new[empty] = X[np.argsort(-dists)[:len(empty)]]
        shift = ((new - centers) ** 2).sum()
        centers = new
        if shift <= threshold:
            break
    return centers, iteration


def _minibatch(X, k, rng, max_iter, batch_size):
    sample = X[rng.choice(len(X), size=min(len(X), max(3 * batch_size, 10 * k)), replace=False)]
    centers = kmeans_plus_plus(sample, k, rng)
    seen = np.zeros(k)
    steps = max_iter * max(1, len(X) // batch_size)
    for _ in range(steps):
        batch = X[rng.integers(0, len(X), batch_size)]
        labels, _ = assign(batch, centers)
        sums, counts = sum_by_label(batch, labels, k)
        seen += counts
        moved = counts > 0
        rate = counts[moved] / seen[moved]
        centers[moved] += rate[:, None] * (sums[moved] / counts[moved][:, None] - centers[moved])
    return centers, steps
