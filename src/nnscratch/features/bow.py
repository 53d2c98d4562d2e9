"""Bag of visual words: images as histograms of their patches' nearest code words."""

from __future__ import annotations

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

from ..data.images import grey, is_colour
from ..data.randomness import rng_or_seed
from ..rng import as_generator
from .base import Extractor
from .hog import hog
from .kmeans import assign, kmeans

DESCRIPTORS = ("raw", "hog")
CONTRAST_EPS = 0.01  # patches' variance floor (pixels in [0, 1]): flat patches stay flat, not noise
MINIBATCH_ABOVE = 50_000


def patches(images, patch, stride):
    """(N, P, patch, patch[, C]): every patch of images (N, H, W[, C]) on a grid with the given stride (a view)."""
    windows = sliding_window_view(images, (patch, patch), axis=(1, 2))[:, ::stride, ::stride]
    if windows.ndim == 6:  # colour: (N, r, c, C, p, p) -> channels last
        windows = windows.transpose(0, 1, 2, 4, 5, 3)
    return windows.reshape(len(images), -1, *windows.shape[3:])


class BagOfVisualWords(Extractor):
    """fit learns `n_words` code words by k-means++ over patch descriptors (mini-batch when
    there are many); transform gives each image the share of its patches nearest each word.

    descriptor="raw": the patch's pixels, contrast-normalised (minus their mean, over their
    standard deviation); "hog": the patch's HoG (cells of half a patch, one 2x2 block).
    rng: an int seed or a Generator for the patch sample and k-means (`seed=` is its older name;
    default 0). images (N, H, W[, C]) -> (N, n_words) float32, each row summing to 1.
    Csurka et al., "Visual categorization with bags of keypoints" (2004).
    """

    arrays = ("codebook_",)

    def __init__(self, n_words=256, patch=8, stride=4, descriptor="raw", rng=None, max_patches=200_000, seed=None):
        self.n_words, self.patch, self.stride, self.descriptor = n_words, patch, stride, descriptor
        self.rng, self.max_patches, self.seed = rng, max_patches, seed

    def validate_params(self):
        """Raise ValueError for an unknown descriptor or n_words < 2, patch < 2, stride < 1,
        max_patches < 1; TypeError for rng and seed both given and different. Returns self."""
        if self.descriptor not in DESCRIPTORS:
            raise ValueError(f"descriptor={self.descriptor!r}: choose 'raw' or 'hog'")
        if self.n_words < 2 or self.patch < 2 or self.stride < 1 or self.max_patches < 1:
            raise ValueError(f"BagOfVisualWords needs n_words >= 2, patch >= 2, stride >= 1, max_patches >= 1; "
                             f"got {self.n_words}, {self.patch}, {self.stride}, {self.max_patches}")
        rng_or_seed(self.rng, self.seed, "BagOfVisualWords")
        return self

    def config(self):
        """The parameters as JSON values; a Generator given as rng is saved as None (it was used up by fit)."""
        config = super().config()
        for name in ("rng", "seed"):
            if not isinstance(config[name], int) or isinstance(config[name], bool):
                config[name] = None
        return config

    def _descriptors(self, images):
        """(N, P, D) descriptors of every patch of every image."""
        if images.shape[1] < self.patch or images.shape[2] < self.patch:
            raise ValueError(f"BagOfVisualWords: images of {images.shape[1]}x{images.shape[2]} are smaller "
                             f"than one {self.patch}x{self.patch} patch")
        values = images / 255.0 if images.dtype == np.uint8 else images.astype(np.float64)
        if self.descriptor == "hog" and is_colour(values):
            values = grey(values)
        grid = patches(values, self.patch, self.stride)
        n, p = grid.shape[:2]
        if self.descriptor == "hog":
            half = max(1, self.patch // 2)
            flat = hog(grid.reshape(n * p, self.patch, self.patch), cell=(half, half), block=(2, 2))
            return flat.reshape(n, p, -1).astype(np.float64)
        flat = grid.reshape(n, p, -1)
        centred = flat - flat.mean(axis=2, keepdims=True)
        return centred / np.sqrt(centred.var(axis=2, keepdims=True) + CONTRAST_EPS)

    def _fit(self, images):
        rng = as_generator(rng_or_seed(self.rng, self.seed, "BagOfVisualWords", default=0))
        per_image = self._descriptors(images[:1]).shape[1]
        chosen = images[np.sort(rng.permutation(len(images))[: max(1, self.max_patches // per_image)])]
        descriptors = np.concatenate([self._descriptors(chosen[i:i + 2048]) for i in range(0, len(chosen), 2048)])
        descriptors = descriptors.reshape(-1, descriptors.shape[-1])
        if len(descriptors) < self.n_words:
            raise ValueError(f"BagOfVisualWords: {len(descriptors)} patches are too few for {self.n_words} words")
        batch = 4096 if len(descriptors) > MINIBATCH_ABOVE else None
        # one seeding, as scikit-learn does: a codebook needs good words, not the best of several
        self.codebook_ = kmeans(descriptors, self.n_words, rng=rng, batch_size=batch, max_iter=20 if batch else 100,
                                n_init=1).centers

    def _features(self, images):
        d = self._descriptors(images)
        n, p = d.shape[:2]
        words, _ = assign(d.reshape(n * p, -1), self.codebook_)
        index = words.reshape(n, p) + np.arange(n)[:, None] * self.n_words
        counts = np.bincount(index.ravel(), minlength=n * self.n_words).reshape(n, self.n_words)
        return (counts / p).astype(np.float32)
