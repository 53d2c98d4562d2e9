"""Assembling report.html from a run folder: every figure embedded, nothing fetched."""

from __future__ import annotations

import base64
import html
import json
from pathlib import Path

import numpy as np

from ..atomic import write_bytes_atomic
from . import plots

STYLE = """
body { font-family: system-ui, sans-serif; margin: 2rem auto; max-width: 1100px; color: #222; }
h1 { margin-bottom: 0.2rem; } .sub { color: #666; margin-top: 0; }
.figures { display: flex; flex-wrap: wrap; gap: 1rem; }
.figures figure { margin: 0; } img { max-width: 100%; }
table { border-collapse: collapse; margin: 0.5rem 0 1.5rem; } td, th { padding: 0.25rem 0.8rem; border-bottom: 1px solid #ddd; text-align: left; }
.big { font-size: 2rem; font-weight: 600; }
"""


def _img(png_bytes, alt):
    data = base64.b64encode(png_bytes).decode()
    return f'<figure><img alt="{html.escape(alt)}" src="data:image/png;base64,{data}"></figure>'


def _table(rows, header=None):
    head = "<tr>" + "".join(f"<th>{html.escape(str(h))}</th>" for h in header) + "</tr>" if header else ""
    body = "".join("<tr>" + "".join(f"<td>{html.escape(str(c))}</td>" for c in row) + "</tr>" for row in rows)
    return f"<table>{head}{body}</table>"


def _read_metrics(run_dir):
    epochs, steps = [], []
    path = run_dir / "metrics.jsonl"
    if path.is_file():
        for line in path.read_text().splitlines():
            record = json.loads(line)
            (epochs if record["type"] == "epoch" else steps).append(record)
    return epochs, steps


def _convolution_sections(model, evaluation):
    """For a CNN: the first conv layer's filters, and the maps its block (conv, BN, activation) makes
    of the first test image (kept in evaluation.npz as example_image)."""
    from .. import nn, no_grad

    layers = list(getattr(model, "layers", ()))
    first = next((i for i, m in enumerate(layers) if isinstance(m, (nn.Conv2d, nn.Conv1d))), None)
    if first is None:
        return []
    parts = [_img(plots.conv_filters(layers[first].weight.data), "first-layer filters")]
    if "example_image" in evaluation.files:
        image = evaluation["example_image"]
        x = model.preprocess.transform(image) if model.preprocess is not None else image
        model.eval()
        with no_grad():
            for i, layer in enumerate(layers):  # up to the first block's pooling: conv, BN, activation
                if i > first and isinstance(layer, (nn.MaxPool2d, nn.AvgPool2d, nn.MaxPool1d)):
                    break
                x = layer(x)
        block = x.numpy()[0] if hasattr(x, "numpy") else np.asarray(x)[0]
        parts.append(_img(plots.feature_maps(image[0], block), "feature maps of a test image"))
    return ["<h2>What the convolutions see</h2><div class=\"figures\">" + "".join(parts) + "</div>"]


def write_report(run_dir):
    """Write RUN/report.html from the run folder's files; returns its path."""
    from ..serialize import load

    run_dir = Path(run_dir)
    config = json.loads((run_dir / "config.json").read_text())
    summary = json.loads((run_dir / "summary.json").read_text())
    epochs, steps = _read_metrics(run_dir)
    model = load(run_dir / "model.npz")
    classes = model.meta["classes"]
    sample_shape = tuple(model.meta["sample_shape"])
    evaluation = np.load(run_dir / "evaluation.npz", allow_pickle=False)

    sections = [f"<h1>nnscratch run: {html.escape(run_dir.name)}</h1>",
                f'<p class="sub">{html.escape(config["model"])} on {html.escape(config["dataset"])}, '
                f'{summary["epochs_run"]} epochs</p>',
                f'<p>Test accuracy <span class="big">{summary["test_accuracy"]:.4f}</span> '
                f'&nbsp; test loss {summary["test_loss"]:.4f} &nbsp; '
                f'training time {summary["timings"]["train_seconds"]:.1f} s</p>']

    series = {k: [e[k] for e in epochs] for k in ("train_loss", "val_loss", "train_accuracy", "val_accuracy")}
    rate_points = [(s["step"], s["lr"]) for s in steps]
    figures = [
        _img(plots.curves({"train": series["train_loss"], "validation": series["val_loss"]}, "Loss", "loss"),
             "loss curves"),
        _img(plots.curves({"train": series["train_accuracy"], "validation": series["val_accuracy"]},
                          "Accuracy", "accuracy"), "accuracy curves"),
    ]
    if rate_points:
        figures.append(_img(plots.learning_rate(*zip(*rate_points)), "learning rate"))
    sections.append('<h2>Training</h2><div class="figures">' + "".join(figures) + "</div>")

    per_class = [summary["per_class_accuracy"][c] for c in classes]
    sections.append('<h2>Test results</h2><div class="figures">'
                    + _img(plots.confusion(evaluation["confusion_matrix"], classes), "confusion matrix")
                    + _img(plots.per_class([a or 0 for a in per_class], classes), "per-class accuracy") + "</div>")
    sections.append(_table([(c, "n/a" if a is None else f"{a:.4f}") for c, a in zip(classes, per_class)],
                           header=("class", "accuracy")))

    first = next((m for m in model.modules() if hasattr(m, "weight") and m.weight.ndim == 2), None)
    if first is not None and first.weight.shape[0] == int(np.prod(sample_shape)) and len(sample_shape) >= 2:
        sections.append("<h2>What the first layer looks for</h2>"
                        + _img(plots.templates(first.weight.data, sample_shape, classes), "templates"))
    else:
        sections.append("<h2>What the first layer looks for</h2><p>Not drawn: the first layer does not "
                        "read raw pixels (its inputs are features or PCA components).</p>")

    sections += _convolution_sections(model, evaluation)

    wrong = evaluation["wrong_index"]
    if len(wrong):
        probabilities, labels = evaluation["probabilities"], evaluation["labels"]
        titles = [f"true {classes[labels[i]]}\npred {classes[probabilities[i].argmax()]} "
                  f"{probabilities[i].max():.2f}" for i in wrong]
        images = evaluation["wrong_images"]
        if images.ndim == 4 or images.ndim == 3:
            sections.append("<h2>Most confidently wrong test images</h2>"
                            + _img(plots.image_grid(images, titles, "Confidently wrong"), "confidently wrong"))

    sections.append("<h2>Configuration</h2>" + _table(sorted(config.items()), header=("setting", "value")))
    sections.append("<h2>Summary</h2><pre>" + html.escape(json.dumps(summary, indent=2)) + "</pre>")
    page = (f"<!DOCTYPE html><html><head><meta charset='utf-8'><title>nnscratch report: "
            f"{html.escape(run_dir.name)}</title><style>{STYLE}</style></head><body>"
            + "\n".join(sections) + "</body></html>")
    path = run_dir / "report.html"
    write_bytes_atomic(path, page.encode())
    return path
