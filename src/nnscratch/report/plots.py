"""The report's figures, drawn with matplotlib (Agg) and returned as PNG bytes.

Every figure the report and the lab draw goes through `png`, and `text_overlaps` finds text elements
of a figure whose boxes intersect (the tests run it on all of them).
"""

from __future__ import annotations

import io

import numpy as np

TEMPLATE_LIMIT = 40  # four rows of ten
SMOOTHING = 0.6  # TensorBoard's default weight for the exponential moving average of a logged scalar


def pyplot():
    """matplotlib.pyplot on the Agg backend: it draws into files, never a window."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def png(fig):
    """The figure as PNG bytes (100 dpi, tight box); the figure is closed."""
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=100, bbox_inches="tight")
    pyplot().close(fig)
    return buffer.getvalue()


def text_overlaps(fig, tolerance=1.0):
    """Pairs of drawn, non-empty text elements of `fig` whose boxes (display pixels, measured with the
    figure's renderer) overlap by more than `tolerance` pixels each way: [(text_a, text_b), ...]."""
    from matplotlib.text import Text

    fig.canvas.draw()
    renderer = fig.canvas.get_renderer()
    tick_labels = _all_tick_labels(fig)
    texts = [t for t in fig.findobj(Text) if id(t) not in tick_labels] + _drawn_tick_labels(fig)
    boxes = [(t.get_text(), t.get_window_extent(renderer)) for t in texts
             if t.get_visible() and t.get_text().strip()]
    overlaps = []
    for i, (a, box_a) in enumerate(boxes):
        for b, box_b in boxes[i + 1:]:
            width = min(box_a.x1, box_b.x1) - max(box_a.x0, box_b.x0)
            height = min(box_a.y1, box_b.y1) - max(box_a.y0, box_b.y0)
            if width > tolerance and height > tolerance:
                overlaps.append((a, b))
    return overlaps


def _axes_axis(fig):
    """The x, y (and z) axis of every Axes whose axis lines and labels are drawn (not `ax.axis("off")`)."""
    for ax in fig.axes:
        if not ax.axison or not ax.get_visible():
            continue
        yield from (getattr(ax, name) for name in ("xaxis", "yaxis", "zaxis") if hasattr(ax, name))


def _all_tick_labels(fig):
    """Every tick label object, drawn or not (matplotlib keeps labels of ticks outside the view)."""
    labels = set()
    for ax in fig.axes:
        for axis in (getattr(ax, name) for name in ("xaxis", "yaxis", "zaxis") if hasattr(ax, name)):
            labels.update(id(label) for tick in axis.majorTicks + axis.minorTicks for label in (tick.label1, tick.label2))
    return labels


def _drawn_tick_labels(fig):
    """The tick labels matplotlib draws: those of the ticks inside the view (Axis._update_ticks)."""
    labels = []
    for axis in _axes_axis(fig):
        if not axis.get_visible():
            continue
        for tick in axis._update_ticks():
            labels += [label for label in (tick.label1, tick.label2) if label.get_visible()]
    return labels


def smoothed(values, weight=SMOOTHING):
    """TensorBoard's smoothing: an exponential moving average, debiased at the start."""
    out, average = [], 0.0
    for i, value in enumerate(values, start=1):
        average = weight * average + (1 - weight) * value
        out.append(average / (1 - weight ** i))
    return np.asarray(out)


def curves(epochs, title, ylabel, best_epoch=None):
    """Per-epoch curves: {label: values}, skipping series without numbers; `best_epoch` (1-based) is marked."""
    plt = pyplot()
    fig, ax = plt.subplots(figsize=(5.5, 3.5), layout="constrained")
    styles = ({"marker": "o", "ls": "-", "color": "tab:blue"}, {"marker": "s", "ls": "--", "color": "tab:orange"})
    for (label, values), style in zip(epochs.items(), styles):
        if values and all(v is not None for v in values):
            ax.plot(range(1, len(values) + 1), values, label=label, **style)
    if best_epoch is not None:
        ax.axvline(best_epoch, color="tab:green", ls=":", lw=2, label=f"best epoch ({best_epoch})")
    ax.set(xlabel="epoch", ylabel=ylabel, title=title)
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8)
    return png(fig)


def step_losses(steps, losses, title="Training loss per logged step"):
    """The logged training loss against the optimiser step: raw values faint, smoothed values bold."""
    plt = pyplot()
    fig, ax = plt.subplots(figsize=(5.5, 3.5), layout="constrained")
    ax.plot(steps, losses, color="tab:blue", alpha=0.3, lw=1, label="logged")
    ax.plot(steps, smoothed(losses), color="tab:blue", lw=2, label=f"smoothed (EMA {SMOOTHING})")
    ax.set(xlabel="optimiser step", ylabel="training loss (cross-entropy)", title=title)
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8)
    return png(fig)


def learning_rate(steps, rates):
    """The learning rate against the optimiser step."""
    plt = pyplot()
    fig, ax = plt.subplots(figsize=(5.5, 3.5), layout="constrained")
    ax.plot(steps, rates)
    ax.set(xlabel="optimiser step", ylabel="learning rate", title="Learning rate")
    ax.grid(alpha=0.3)
    return png(fig)


def confusion(matrix, classes):
    """The confusion matrix (rows: true class, columns: predicted), each cell's count written in it."""
    plt = pyplot()
    fig, ax = plt.subplots(figsize=(6.5, 5.5), layout="constrained")
    shown = ax.imshow(matrix, cmap="Blues")
    fig.colorbar(shown, ax=ax, label="test images")
    ticks = range(len(classes))
    ax.set_xticks(ticks, classes, rotation=90)  # upright boxes: a rotated label's box would cover its neighbour's
    ax.set_yticks(ticks, classes)
    ax.set(xlabel="predicted class", ylabel="true class", title="Confusion matrix (test)")
    threshold = matrix.max() / 2
    for i in ticks:
        for j in ticks:
            ax.text(j, i, str(matrix[i, j]), ha="center", va="center", fontsize=6,
                    color="white" if matrix[i, j] > threshold else "black")
    return png(fig)


def image_grid(images, titles, columns=8, cmap="gray", colorbar_label=None, limits=None):
    """Images in a grid, each with its (short, multi-line) title; no figure title (the page's heading says it).

    limits: (vmin, vmax) shared by every image, with a colour bar labelled `colorbar_label`."""
    plt = pyplot()
    rows = max(1, int(np.ceil(len(images) / columns)))
    lines = max((t.count("\n") + 1 for t in titles), default=1)
    fig, axes = plt.subplots(rows, columns, figsize=(columns * 1.5, rows * (1.3 + 0.16 * lines)), squeeze=False,
                             layout="constrained")
    for ax in axes.flat:
        ax.axis("off")
    shown = None
    vmin, vmax = limits if limits is not None else (None, None)
    for ax, image, text in zip(axes.flat, images, titles):
        shown = ax.imshow(image, cmap=None if image.ndim == 3 else cmap, vmin=vmin, vmax=vmax)
        ax.set_title(text, fontsize=7)
    if colorbar_label and shown is not None:
        fig.colorbar(shown, ax=axes, shrink=0.6, label=colorbar_label)
    return png(fig)


def templates(weight, sample_shape, classes=None):
    """The first layer's weights drawn as images: one column of W (D, H) per image, on one shared
    colour scale (red positive, blue negative) with a colour bar.

    For a linear classifier these are the lecture's "one template per class"; for an MLP,
    the first TEMPLATE_LIMIT hidden units' templates.
    """
    count = min(weight.shape[1], TEMPLATE_LIMIT)
    images = [weight[:, j].reshape(sample_shape) for j in range(count)]
    if len(sample_shape) == 3:  # colour images: show the mean over channels, still on the weight scale
        images = [image.mean(axis=-1) for image in images]
    limit = float(np.max(np.abs(weight[:, :count]))) or 1.0
    titles = list(classes)[:count] if classes is not None and weight.shape[1] == len(classes) else \
        [f"unit {j}" for j in range(count)]
    return image_grid(images, titles, columns=min(count, 10), cmap="RdBu_r", colorbar_label="weight",
                      limits=(-limit, limit))


def per_class(accuracies, classes):
    """Horizontal bars: the test accuracy of each class."""
    plt = pyplot()
    fig, ax = plt.subplots(figsize=(6, 3.5), layout="constrained")
    ax.barh(range(len(classes)), accuracies, color="tab:blue")
    ax.set_yticks(range(len(classes)), classes)
    ax.invert_yaxis()
    ax.set(xlim=(0, 1), xlabel="test accuracy (share of the class's images)", title="Accuracy per class")
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
    return image_grid(list(images), [str(k) for k in range(len(images))])  # the section's heading names it


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
    return image_grid(images, ["input"] + [str(k) for k in range(len(maps))])
