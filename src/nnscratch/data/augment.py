"""Data augmentation, vectorised over a batch of images (N, H, W) or (N, H, W, C).

Each transform is built with `rng=` (a seed or a numpy Generator) and called on a batch:
`images = t(images)`. Labels are never touched; the same seed gives the same batch; grey and
colour both work; the output has the input's dtype (uint8 results are rounded and clipped).
"""

from __future__ import annotations

import numpy as np

from ..rng import as_generator
from .images import check_images, grey
from .randomness import rng_or_seed

UINT8_MAX = 255


def _like(result, images):
    """`result` (float) back in the dtype of `images`."""
    if images.dtype == np.uint8:
        return np.clip(np.rint(result), 0, UINT8_MAX).astype(np.uint8)
    return result.astype(images.dtype, copy=False)


class Transform:
    """Base of the augmentations: one random source (`self.rng`, a Generator) per transform.

    rng: an int seed, a numpy Generator (used as is) or None (fresh entropy); `seed=` is its
    older name. Subclasses implement `__call__(images) -> images` on a batch (N, H, W[, C]).
    """

    def __init__(self, rng=None, *, seed=None):
        self.rng = as_generator(rng_or_seed(rng, seed, type(self).__name__))

    def __call__(self, images):
        raise NotImplementedError

    def __repr__(self):
        settings = ", ".join(f"{k}={v!r}" for k, v in vars(self).items() if k != "rng")
        return f"{type(self).__name__}({settings})"


class HorizontalFlip(Transform):
    """Mirror each image left-right with probability p (one draw per image).

    images (N, H, W[, C]) -> the same shape and dtype. Raises ValueError when p is outside [0, 1].
    """

    def __init__(self, p=0.5, rng=None, *, seed=None):
        super().__init__(rng, seed=seed)
        if not 0 <= p <= 1:
            raise ValueError(f"HorizontalFlip: p must lie in [0, 1], got {p}")
        self.p = p

    def __call__(self, images):
        images = check_images(images, "HorizontalFlip")
        flip = self.rng.random(len(images)) < self.p
        out = images.copy()
        out[flip] = images[flip, :, ::-1]
        return out


class RandomCrop(Transform):
    """Pad each side by `padding` (zeros), then cut a random window of `size` from each image.

    size: an int or (rows, cols). images (N, H, W[, C]) -> (N, rows, cols[, C]), same dtype.
    Raises ValueError when the window does not fit the padded image (naming both sizes).
    The CIFAR-10 augmentation of He et al. (2016): padding 4, crop 32.
    """

    def __init__(self, size, padding=0, rng=None, *, seed=None):
        super().__init__(rng, seed=seed)
        self.size = (size, size) if np.isscalar(size) else tuple(size)
        self.padding = int(padding)

    def __call__(self, images):
        images = check_images(images, "RandomCrop")
        p, (h, w) = self.padding, self.size
        pad = ((0, 0), (p, p), (p, p)) + ((0, 0),) * (images.ndim - 3)
        padded = np.pad(images, pad) if p else images
        n, big_h, big_w = padded.shape[:3]
        if h > big_h or w > big_w:
            raise ValueError(f"RandomCrop: a {h}x{w} crop does not fit images of {big_h}x{big_w} "
                             f"(after padding {p}); lower size or raise padding")
        rows = self.rng.integers(0, big_h - h + 1, n)[:, None] + np.arange(h)
        cols = self.rng.integers(0, big_w - w + 1, n)[:, None] + np.arange(w)
        return padded[np.arange(n)[:, None, None], rows[:, :, None], cols[:, None, :]]


def _resample_axis(images, coords, axis):
    """Linear interpolation of `images` at float positions `coords` (N, L) along `axis`;
    positions outside the image read zero."""
    size = images.shape[axis]
    low = np.floor(coords).astype(np.int64)
    weight = (coords - low).astype(np.float32)

    def expand(a):  # (N, L) -> broadcastable against images along `axis`
        shape = [a.shape[0]] + [1] * (images.ndim - 1)
        shape[axis] = a.shape[1]
        return a.reshape(shape)

    def gather(index):
        inside = (index >= 0) & (index < size)
        values = np.take_along_axis(images, expand(np.clip(index, 0, size - 1)), axis=axis)
        return values * expand(inside)

    return gather(low) * expand(1 - weight) + gather(low + 1) * expand(weight)


class RandomScale(Transform):
    """Zoom each image by a random factor in `scale` about its centre, keeping its size.

    Bilinear resampling (as two separable linear passes); zoomed-out borders are filled with 0.
    images (N, H, W[, C]) -> the same shape and dtype (uint8 is rounded and clipped). Raises
    ValueError unless 0 < low <= high.
    """

    def __init__(self, scale=(0.8, 1.2), rng=None, *, seed=None):
        super().__init__(rng, seed=seed)
        low, high = scale
        if not 0 < low <= high:
            raise ValueError(f"RandomScale: scale must be (low, high) with 0 < low <= high, got {scale}")
        self.scale = (float(low), float(high))

    def __call__(self, images):
        images = check_images(images, "RandomScale")
        n, h, w = images.shape[:3]
        factor = self.rng.uniform(*self.scale, size=n)[:, None]
        centre_h, centre_w = (h - 1) / 2, (w - 1) / 2
        rows = centre_h + (np.arange(h) - centre_h) / factor  # where each output pixel reads from
        cols = centre_w + (np.arange(w) - centre_w) / factor
        out = _resample_axis(images.astype(np.float32), rows, axis=1)
        return _like(_resample_axis(out, cols, axis=2), images)


class ColorJitter(Transform):
    """Random brightness, contrast and (colour only) saturation, each a factor in [1 - v, 1 + v].

    Brightness scales the pixels; contrast scales their distance to the image's mean grey level;
    saturation their distance to each pixel's grey (BT.601 weights), as torchvision's ColorJitter.
    images (N, H, W[, C]) -> the same shape and dtype. Raises ValueError for a negative amount, or
    for saturation on grey images.
    """

    def __init__(self, brightness=0.0, contrast=0.0, saturation=0.0, rng=None, *, seed=None):
        super().__init__(rng, seed=seed)
        for name, value in (("brightness", brightness), ("contrast", contrast), ("saturation", saturation)):
            if value < 0:
                raise ValueError(f"ColorJitter: {name} must be >= 0, got {value}")
        self.brightness, self.contrast, self.saturation = float(brightness), float(contrast), float(saturation)

    def _factors(self, amount, n, shape):
        return self.rng.uniform(max(0.0, 1 - amount), 1 + amount, size=n).astype(np.float32).reshape(shape)

    def __call__(self, images):
        images = check_images(images, "ColorJitter")
        colour = images.ndim == 4 and images.shape[-1] == 3
        if self.saturation and not colour:
            raise ValueError(f"ColorJitter: saturation needs colour images (N, H, W, 3), got {images.shape}; "
                             f"use saturation=0 for grey images")
        n, shape = len(images), (-1,) + (1,) * (images.ndim - 1)
        out = images.astype(np.float32)
        if self.brightness:
            out *= self._factors(self.brightness, n, shape)
        if self.contrast:
            mean = grey(out).mean(axis=(1, 2)).reshape(shape) if colour else out.mean(axis=(1, 2)).reshape(shape)
            out = (out - mean) * self._factors(self.contrast, n, shape) + mean
        if self.saturation:
            luma = grey(out)[..., None]
            out = (out - luma) * self._factors(self.saturation, n, shape) + luma
        return _like(out, images)


class Compose(Transform):
    """Apply transforms in order: Compose([HorizontalFlip(rng=0), RandomCrop(28, padding=2, rng=1)])."""

    def __init__(self, transforms):
        self.transforms = list(transforms)

    def __call__(self, images):
        for t in self.transforms:
            images = t(images)
        return images

    def __repr__(self):
        return f"Compose({self.transforms!r})"

