"""The report's figures, drawn with matplotlib (Agg) and returned as PNG bytes."""

from __future__ import annotations

import io

import numpy as np

TEMPLATE_LIMIT = 64


def pyplot():
    """matplotlib.pyplot on the Agg backend: it draws into files, never a window."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def png(fig):
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=100, bbox_inches="tight")
    pyplot().close(fig)
    return buffer.getvalue()


def curves(epochs, title, ylabel):
    """Per-epoch curves: {label: values}, skipping series without numbers."""
    plt = pyplot()
    fig, ax = plt.subplots(figsize=(5.5, 3.5))
    for label, values in epochs.items():
        if values and all(v is not None for v in values):
            ax.plot(range(1, len(values) + 1), values, marker="o", label=label)
    ax.set(xlabel="epoch", ylabel=ylabel, title=title)
    ax.grid(alpha=0.3)
    ax.legend()
    return png(fig)


def learning_rate(steps, rates):
    plt = pyplot()
    fig, ax = plt.subplots(figsize=(5.5, 3.5))
    ax.plot(steps, rates)
    ax.set(xlabel="optimiser step", ylabel="learning rate", title="Learning rate")
    ax.grid(alpha=0.3)
    return png(fig)


def confusion(matrix, classes):
    plt = pyplot()
    fig, ax = plt.subplots(figsize=(6.5, 5.5))
    ax.imshow(matrix, cmap="Blues")
    ticks = range(len(classes))
    ax.set_xticks(ticks, classes, rotation=45, ha="right")
    ax.set_yticks(ticks, classes)
    ax.set(xlabel="predicted", ylabel="true", title="Confusion matrix (test)")
    threshold = matrix.max() / 2
    for i in ticks:
        for j in ticks:
            ax.text(j, i, str(matrix[i, j]), ha="center", va="center", fontsize=7,
                    color="white" if matrix[i, j] > threshold else "black")
    return png(fig)


def image_grid(images, titles, title, columns=8, cmap="gray"):
    plt = pyplot()
    rows = max(1, int(np.ceil(len(images) / columns)))
    fig, axes = plt.subplots(rows, columns, figsize=(columns * 1.3, rows * 1.5), squeeze=False)
    for ax in axes.flat:
        ax.axis("off")
    for ax, image, text in zip(axes.flat, images, titles):
        ax.imshow(image, cmap=None if image.ndim == 3 else cmap)
        ax.set_title(text, fontsize=7)
    fig.suptitle(title)
    return png(fig)


def templates(weight, sample_shape, classes=None):
    """The first layer's weights drawn as images: one column of W (D, H) per image.

    For a linear classifier these are the lecture's "one template per class"; for an MLP,
    the first TEMPLATE_LIMIT hidden units' templates.
    """
    count = min(weight.shape[1], TEMPLATE_LIMIT)
    images = []
    for j in range(count):
        t = weight[:, j].reshape(sample_shape)
        t = (t - t.min()) / (np.ptp(t) or 1)
        images.append(t)
    titles = list(classes)[:count] if classes is not None and weight.shape[1] == len(classes) else \
        [f"unit {j}" for j in range(count)]
    return image_grid(images, titles, "First-layer weights as templates", cmap="RdBu_r")


def per_class(accuracies, classes):
    plt = pyplot()
    fig, ax = plt.subplots(figsize=(6, 3.5))
    ax.barh(range(len(classes)), accuracies, color="tab:blue")
    ax.set_yticks(range(len(classes)), classes)
    ax.invert_yaxis()
    ax.set(xlim=(0, 1), xlabel="test accuracy", title="Accuracy per class")
    ax.grid(alpha=0.3, axis="x")
    return png(fig)


def conv_filters(weight, limit=TEMPLATE_LIMIT):
    """The first convolutional layer's filters: weight (O, C, kh, kw) as a grid of small images (grey for
    C = 1, colour for C = 3, each scaled to its own range), or (O, C, k) of a Conv1d as one heat map of
    filters (rows) by taps (columns)."""
    plt = pyplot()
    weight = np.asarray(weight, dtype=np.float64)[:limit]
    if weight.ndim == 3:
        fig, ax = plt.subplots(figsize=(4, 0.2 * len(weight) + 1))
        image = ax.imshow(weight.mean(axis=1), cmap="coolwarm", aspect="auto")
        ax.set(xlabel="tap", ylabel="filter", title="First-layer filters")
        fig.colorbar(image, ax=ax)
        return png(fig)
    images = weight.transpose(0, 2, 3, 1)
    low = images.min(axis=(1, 2, 3), keepdims=True)
    high = images.max(axis=(1, 2, 3), keepdims=True)
    images = (images - low) / np.maximum(high - low, 1e-12)
    images = images[..., 0] if images.shape[-1] != 3 else images
    return image_grid(list(images), [str(k) for k in range(len(images))], "First-layer filters")


def feature_maps(image, maps, limit=TEMPLATE_LIMIT):
    """One test image and what the first convolutional block makes of it: maps (C, H, W) as a grid
    of images, or (C, L) of a Conv1d as a heat map of channels by positions under the signal."""
    plt = pyplot()
    maps = np.asarray(maps, dtype=np.float64)[:limit]
    if maps.ndim == 2:
        fig, (top, bottom) = plt.subplots(2, 1, figsize=(6, 5), gridspec_kw={"height_ratios": [1, 2]})
        top.plot(np.asarray(image).ravel())
        top.set_title("Test signal and first-block feature maps")
        bottom.imshow(maps, cmap="viridis", aspect="auto")
        bottom.set(xlabel="position", ylabel="channel")
        return png(fig)
    images = [np.asarray(image)] + list(maps)
    return image_grid(images, ["input"] + [str(k) for k in range(len(maps))], "First-block feature maps of a test image")
