"""Histograms of oriented gradients (Dalal and Triggs, 2005), vectorised over a batch.

The conventions are scikit-image's (`skimage.feature.hog`), so the two agree to float
precision: central-difference gradients [-1, 0, 1] without smoothing (zero on the border
rows and columns); unsigned orientations in [0, 180) split into equal bins, each pixel voting
its gradient magnitude into its one bin (no interpolation between bins or cells); a cell's
histogram is the mean over its pixels; cells that do not fit whole are dropped; overlapping
blocks of cells are normalised (L1, L1-sqrt, L2 or L2-Hys with eps = 1e-5). For colour the
gradient at each pixel is the one of the channel with the largest magnitude.
"""

from __future__ import annotations

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

from ..data.images import check_images
from .base import CHUNK, Extractor

BLOCK_NORMS = ("L1", "L1-sqrt", "L2", "L2-Hys")
EPS = 1e-5
HYS_CLIP = 0.2


def gradients(images):
    """(rows, cols): central differences along each axis, zero on the first and last row/column."""
    x = images.astype(np.float64)
    g_row, g_col = np.zeros_like(x), np.zeros_like(x)
    g_row[:, 1:-1] = x[:, 2:] - x[:, :-2]
    g_col[:, :, 1:-1] = x[:, :, 2:] - x[:, :, :-2]
    if x.ndim == 4:  # colour: at each pixel, the channel whose gradient is strongest
        strongest = np.hypot(g_row, g_col).argmax(axis=-1)[..., None]
        g_row = np.take_along_axis(g_row, strongest, axis=-1)[..., 0]
        g_col = np.take_along_axis(g_col, strongest, axis=-1)[..., 0]
    return g_row, g_col


def cell_histograms(g_row, g_col, orientations, cell):
    """(N, cells_r, cells_c, orientations): the mean gradient magnitude per orientation bin."""
    n = len(g_row)
    (cr, cc) = cell
    rows, cols = g_row.shape[1] // cr, g_row.shape[2] // cc
    g_row, g_col = g_row[:, :rows * cr, :cols * cc], g_col[:, :rows * cr, :cols * cc]
    magnitude = np.hypot(g_col, g_row)
    angle = np.rad2deg(np.arctan2(g_row, g_col)) % 180
    edges = (180.0 / orientations * np.arange(1, orientations + 1)).astype(np.float32).astype(np.float64)
    orientation_bin = np.searchsorted(edges, angle, side="right")  # a rounding to 180.0 lands past the end
    magnitude = np.where(orientation_bin < orientations, magnitude, 0.0)
    orientation_bin = np.minimum(orientation_bin, orientations - 1)
    cell_r = (np.arange(rows * cr) // cr)[:, None]
    cell_c = (np.arange(cols * cc) // cc)[None, :]
    index = ((np.arange(n)[:, None, None] * rows + cell_r) * cols + cell_c) * orientations + orientation_bin
    sums = np.bincount(index.ravel(), weights=magnitude.ravel(), minlength=n * rows * cols * orientations)
    return sums.reshape(n, rows, cols, orientations) / (cr * cc)


def normalise_blocks(blocks, method):
    """Normalise each block (the last three axes) by `method`."""
    axes = (-3, -2, -1)
    if method == "L1":
        return blocks / (np.abs(blocks).sum(axis=axes, keepdims=True) + EPS)
    if method == "L1-sqrt":
        return np.sqrt(blocks / (np.abs(blocks).sum(axis=axes, keepdims=True) + EPS))
    out = blocks / np.sqrt((blocks**2).sum(axis=axes, keepdims=True) + EPS**2)
    if method == "L2-Hys":
        out = np.minimum(out, HYS_CLIP)
        out = out / np.sqrt((out**2).sum(axis=axes, keepdims=True) + EPS**2)
    return out


def hog(images, orientations=9, cell=(8, 8), block=(2, 2), block_norm="L2-Hys"):
    """HoG features (Dalal and Triggs, 2005) of grey (N, H, W) or colour (N, H, W, C) images.

    Returns (N, D) float32 with D = blocks_r * blocks_c * block_r * block_c * orientations, in
    scikit-image's order (`skimage.feature.hog`, whose conventions the module docstring lists).
    cell and block are (rows, cols) in pixels and cells. Raises ValueError for an unknown
    block_norm, sizes below 1, or images smaller than one block (naming the sizes).
    """
    images = check_images(images, "hog")
    cell, block = tuple(cell), tuple(block)
    _check_settings(images.shape, orientations, cell, block, block_norm)
    return np.concatenate([_hog_chunk(images[i:i + CHUNK], orientations, cell, block, block_norm)
                           for i in range(0, len(images), CHUNK)])


def _hog_chunk(images, orientations, cell, block, block_norm):
    hist = cell_histograms(*gradients(images), orientations, cell)
    windows = sliding_window_view(hist, tuple(block), axis=(1, 2))  # (N, br', bc', orient, b_r, b_c)
    blocks = windows.transpose(0, 1, 2, 4, 5, 3)
    return normalise_blocks(blocks, block_norm).reshape(len(images), -1).astype(np.float32)


def _check_params(orientations, cell, block, block_norm):
    if not all(isinstance(size, (tuple, list)) for size in (cell, block)):
        raise ValueError(f"hog: cell and block are (rows, cols) pairs, e.g. cell=(8, 8); got cell={cell!r}, "
                         f"block={block!r}")
    if block_norm not in BLOCK_NORMS:
        raise ValueError(f"block_norm={block_norm!r}: choose one of {', '.join(BLOCK_NORMS)}")
    if orientations < 1 or len(cell) != 2 or len(block) != 2 or min(cell) < 1 or min(block) < 1:
        raise ValueError(f"hog needs orientations >= 1 and (rows, cols) cell and block sizes >= 1; "
                         f"got {orientations}, {cell}, {block}")


def _check_settings(shape, orientations, cell, block, block_norm):
    _check_params(orientations, cell, block, block_norm)
    need = (cell[0] * block[0], cell[1] * block[1])
    if shape[1] < need[0] or shape[2] < need[1]:
        raise ValueError(f"hog: images of {shape[1]}x{shape[2]} pixels are too small for one block of "
                         f"{block[0]}x{block[1]} cells of {cell[0]}x{cell[1]} pixels (at least {need[0]}x{need[1]}); "
                         f"use smaller cells or blocks")


class HOG(Extractor):
    """Histograms of oriented gradients as an extractor: `hog(images, ...)` with these settings.

    images (N, H, W[, C]) -> (N, D) float32 (see `hog`). Raises ValueError at fit for bad settings
    or images too small for one block.
    """

    def __init__(self, orientations=9, cell=(8, 8), block=(2, 2), block_norm="L2-Hys"):
        self.orientations, self.cell, self.block, self.block_norm = orientations, cell, block, block_norm

    def validate_params(self):
        """Raise ValueError for a block_norm not in BLOCK_NORMS or sizes below 1; returns self."""
        _check_params(self.orientations, self.cell, self.block, self.block_norm)
        return self

    def _fit(self, images):
        _check_settings(images.shape, int(self.orientations), tuple(self.cell), tuple(self.block), self.block_norm)

    def _features(self, images):
        return _hog_chunk(images, int(self.orientations), tuple(self.cell), tuple(self.block), self.block_norm)
