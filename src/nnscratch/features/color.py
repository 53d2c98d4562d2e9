"""Colour: RGB to HSV, and per-channel colour histograms."""

from __future__ import annotations

import numpy as np

from ..data.images import check_images, is_colour
from .base import Extractor


def rgb_to_hsv(rgb):
    """HSV of RGB values in [0, 1], all in [0, 1]; the same rules as Python's colorsys, vectorised.

    v = max; s = (max - min) / max; h by which channel is the max (red, then green, then blue
    when tied), as a fraction of the colour wheel. Greys (max == min) have h = s = 0.
    """
    rgb = np.asarray(rgb, dtype=np.float64)
    r, g, b = rgb[..., 0], rgb[..., 1], rgb[..., 2]
    maxc, minc = rgb.max(axis=-1), rgb.min(axis=-1)
    spread = maxc - minc
    grey = spread == 0
    safe = np.where(grey, 1.0, spread)
    s = np.where(grey, 0.0, spread / np.where(maxc == 0, 1.0, maxc))
    rc, gc, bc = (maxc - r) / safe, (maxc - g) / safe, (maxc - b) / safe
    h = np.select([r == maxc, g == maxc], [bc - gc, 2.0 + rc - bc], default=4.0 + gc - rc)
    h = np.where(grey, 0.0, (h / 6.0) % 1.0)
    return np.stack([h, s, maxc], axis=-1)


def _check_colour(images):
    if not is_colour(images) or images.shape[-1] != 3:
        raise ValueError(f"color_histogram needs colour images (N, H, W, 3); got shape {images.shape}")
    return images


def _check_params(bins, space):
    if space not in ("hsv", "rgb"):
        raise ValueError(f"space={space!r}: choose 'hsv' or 'rgb'")
    if not isinstance(bins, (int, np.integer)) or isinstance(bins, bool) or bins < 1:
        raise ValueError(f"bins must be a positive integer, got {bins!r}")


def color_histogram(images, bins=16, space="hsv"):
    """Per-channel histograms of colour images (N, H, W, 3): (N, 3 * bins) float32.

    space="hsv": histograms of hue, saturation and value; "rgb": of red, green and blue. Each
    channel's histogram counts the share of pixels in each of `bins` equal bins of [0, 1], so
    each sums to 1. uint8 images are read as value / 255; float images must lie in [0, 1].
    """
    images = _check_colour(check_images(images, "color_histogram"))
    _check_params(bins, space)
    values = images / 255.0 if images.dtype == np.uint8 else images.astype(np.float64)
    if images.dtype != np.uint8 and (values.min() < 0 or values.max() > 1):
        raise ValueError("color_histogram: float images must lie in [0, 1] (or pass uint8 images)")
    if space == "hsv":
        values = rgb_to_hsv(values)
    n, pixels = len(images), images.shape[1] * images.shape[2]
    index = np.minimum((values * bins).astype(np.int64), bins - 1).reshape(n, pixels, 3)
    index += np.arange(3) * bins + np.arange(n)[:, None, None] * 3 * bins
    counts = np.bincount(index.ravel(), minlength=n * 3 * bins).reshape(n, 3 * bins)
    return (counts / pixels).astype(np.float32)


class ColorHistogram(Extractor):
    """Per-channel colour histograms as an extractor: `color_histogram(images, bins, space)`.

    images (N, H, W, 3) -> (N, 3 * bins) float32. Raises ValueError at fit for a bad space or
    bins, or for grey images.
    """

    def __init__(self, bins=16, space="hsv"):
        self.bins, self.space = bins, space

    def validate_params(self):
        """Raise ValueError for bins that is not a positive integer or a space other than hsv/rgb."""
        _check_params(self.bins, self.space)
        return self

    def _fit(self, images):
        _check_colour(images)

    def _features(self, images):
        return color_histogram(images, self.bins, self.space)

    def config(self):
        return {"bins": self.bins, "space": self.space}
