"""Image batches: the shapes nnscratch accepts, and grey levels from colour."""

from __future__ import annotations

import numpy as np

GREY_WEIGHTS = (0.299, 0.587, 0.114)  # ITU-R BT.601 luma
CHANNEL_COUNTS = (1, 3, 4)


def is_colour(images):
    return images.ndim == 4 and images.shape[-1] in CHANNEL_COUNTS


def check_images(images, who):
    """`images` as an array (N, H, W) or (N, H, W, C), else a ValueError saying what was expected."""
    images = np.asarray(images)
    if images.ndim != 3 and not is_colour(images):
        hint = " (rows of pixels: reshape them to images first, e.g. X.reshape(-1, 28, 28))" if images.ndim == 2 else ""
        raise ValueError(f"{who} expects images (N, H, W) or (N, H, W, C); got shape {images.shape}{hint}")
    if len(images) == 0:
        raise ValueError(f"{who} got an empty image set (shape {images.shape}); give at least one image")
    return images


def grey(images):
    """Luma of colour images (..., 3) with the BT.601 weights (0.299, 0.587, 0.114); float32."""
    return np.asarray(images)[..., :3] @ np.asarray(GREY_WEIGHTS, dtype=np.float32)
