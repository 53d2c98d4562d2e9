"""Rich displays for Jupyter: the HTML that `Module`, `Tensor` and `History` return from `_repr_html_`.

Imports numpy only, and is imported lazily inside those methods, so tensor.py never imports nn
and nothing here is loaded outside a notebook. Every table is plain HTML (no script, no style sheet
fetched), so it reads the same on a code host as in a running kernel.

    model            # in a cell: layer | output shape | parameters, then the total (as Keras' summary)
"""

from __future__ import annotations

import html

import numpy as np

TABLE_STYLE = "border-collapse:collapse;font-family:monospace;font-size:0.9em"
CELL_STYLE = "padding:2px 10px;border-bottom:1px solid #ddd;text-align:left"
SMALL_TENSOR = 20  # tensors of at most this many elements show their values; larger ones their statistics


def _table(rows, header, caption=None, testid=None):
    """An HTML table of `rows` (sequences of already-formatted cells) under `header`."""
    attrs = f' data-testid="{testid}"' if testid else ""
    cap = f"<caption style='text-align:left'>{html.escape(caption)}</caption>" if caption else ""
    head = "<tr>" + "".join(f"<th style='{CELL_STYLE}'>{html.escape(h)}</th>" for h in header) + "</tr>"
    body = "".join("<tr>" + "".join(f"<td style='{CELL_STYLE}'>{html.escape(str(c))}</td>" for c in row) + "</tr>"
                   for row in rows)
    return f"<table style='{TABLE_STYLE}'{attrs}>{cap}<thead>{head}</thead><tbody>{body}</tbody></table>"


def _shape_text(shape):
    parts = [str(s) for s in shape]
    return "(" + ", ".join(parts) + ("," if len(parts) == 1 else "") + ")"


def _output_shape(module, previous):
    """The output shape of leaf `module` given the previous one ("N" for the batch), as far as the
    layer itself tells it: Linear sets (N, out_features), a convolution (N, out_channels, ?, ?),
    Flatten joins the rest; anything else (activations, dropout) keeps the shape it is given."""
    if hasattr(module, "out_features"):
        return ("N", int(module.out_features))
    if hasattr(module, "out_channels"):
        return ("N", int(module.out_channels), "?", "?")
    if type(module).__name__ == "Flatten" and previous is not None:
        rest = previous[1:]
        known = all(isinstance(s, int) for s in rest)
        return ("N", int(np.prod(rest)) if known else "?")
    return previous


def summary_rows(model):
    """(layer, output shape, parameter count) for each leaf module of `model`, in order, and the total.

    model: an nn.Module. Returns (rows, total) with rows a list of (str, str, int); the total counts each
    parameter once (a shared one is not counted twice), as `model.parameters()` lists it."""
    rows, shape = [], None
    leaves = [(name, m) for name, m in _named_leaves(model, "")]
    for name, module in leaves:
        count = sum(p.size for p in module.parameters())
        if hasattr(module, "in_features") and shape is None:
            shape = ("N", int(module.in_features))
        shape = _output_shape(module, shape)
        label = f"{name} ({type(module).__name__})" if name else type(module).__name__
        rows.append((label, _shape_text(shape) if shape is not None else "?", count))
    total = sum(p.size for p in model.parameters())
    return rows, total


def _named_leaves(module, prefix):
    children = list(module.named_children())
    if not children:
        yield prefix.rstrip("."), module
        return
    for name, child in children:
        yield from _named_leaves(child, f"{prefix}{name}.")


def module_html(model):
    """A Keras-style summary of `model`: one row per layer (output shape, parameters), then the total."""
    rows, total = summary_rows(model)
    table_rows = [(label, shape, f"{count:,}") for label, shape, count in rows]
    table_rows.append(("Total", "", f"{total:,}"))
    return _table(table_rows, ("layer", "output shape", "parameters"), caption=type(model).__name__,
                  testid="module-summary")


def _stats_rows(values):
    finite = values[np.isfinite(values)] if values.size else values
    if finite.size == 0:
        return [("mean", "n/a"), ("std", "n/a"), ("min", "n/a"), ("max", "n/a")]
    return [("mean", f"{finite.mean():.6g}"), ("std", f"{finite.std():.6g}"), ("min", f"{finite.min():.6g}"),
            ("max", f"{finite.max():.6g}")]


def _values_or_stats(prefix, array):
    array = np.asarray(array)
    if array.size <= SMALL_TENSOR:
        return [(prefix, np.array2string(array, separator=", ", precision=6))]
    return [(f"{prefix} {k}", v) for k, v in _stats_rows(array.astype(np.float64, copy=False))]


def tensor_html(tensor):
    """A Tensor's shape, dtype and requires_grad, its values (small) or statistics (large), and its grad."""
    rows = [("shape", _shape_text(tensor.shape)), ("dtype", str(tensor.dtype)),
            ("requires_grad", str(bool(tensor.requires_grad)))]
    if tensor.name is not None:
        rows.insert(0, ("name", tensor.name))
    rows += _values_or_stats("values", tensor.data)
    grad = tensor.grad
    rows += [("grad", "None")] if grad is None else _values_or_stats("grad", grad)
    return _table(rows, ("", "Tensor"), testid="tensor")


def _cell(value):
    return "" if value is None else f"{value:.4f}"


def history_html(history):
    """A History's per-epoch table (train/val loss and accuracy, learning rate) and its best epoch."""
    rows = [(e, _cell(tl), _cell(ta), _cell(vl), _cell(va), f"{lr:.3g}")
            for e, tl, ta, vl, va, lr in zip(history.epoch, history.train_loss, history.train_accuracy,
                                              history.val_loss, history.val_accuracy, history.lr)]
    note = f"{len(history)} epochs"
    if history.best_epoch is not None:
        note += f", best epoch {history.best_epoch}"
    if history.stopped_early:
        note += ", stopped early"
    return _table(rows, ("epoch", "train loss", "train acc", "val loss", "val acc", "lr"),
                  caption=f"History ({note})", testid="history")


def plot_history(history, ax=None):
    """Loss and accuracy curves of `history` against the epoch; returns the matplotlib Figure.

    ax: None (a new figure with two axes) or a pair of matplotlib Axes (loss, accuracy)."""
    import matplotlib.pyplot as plt

    if ax is None:
        fig, ax = plt.subplots(1, 2, figsize=(10, 3.5))
    else:
        fig = ax[0].figure
    loss_ax, acc_ax = ax
    for axis, key, title in ((loss_ax, "loss", "Loss"), (acc_ax, "accuracy", "Accuracy")):
        for split in ("train", "val"):
            values = getattr(history, f"{split}_{key}")
            points = [(e, v) for e, v in zip(history.epoch, values) if v is not None]
            if points:
                axis.plot(*zip(*points), marker="o", label="validation" if split == "val" else "train")
        axis.set_title(title)
        axis.set_xlabel("epoch")
        axis.legend()
    fig.tight_layout()
    return fig
